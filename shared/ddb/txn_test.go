package ddb

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/fault"
)

// A real cancellation names the item whose condition failed wherever it
// stands in the transaction: second of three, first or last.
func TestCancellationIsReadByName(t *testing.T) {
	client, table := testenv.Table(t)
	s := New(client, table, nil)
	ctx := context.Background()
	taken := key{"TXN#" + testenv.RandomID(), "TAKEN"}
	stored := map[string]types.AttributeValue{attrPK: str(taken.PK), attrSK: str(taken.SK), "holder": str("before")}
	if err := s.putAsRead(ctx, stored, false, 0); err != nil {
		t.Fatal(err)
	}
	putIfAbsent := func(k key) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: k.av(),
			ConditionExpression:                 aws.String("attribute_not_exists(PK)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
	}
	items := map[string]types.TransactWriteItem{
		"first": putIfAbsent(key{taken.PK, "FIRST"}),
		"taken": putIfAbsent(taken),
		"third": putIfAbsent(key{taken.PK, "THIRD"}),
	}
	for _, order := range [][]string{
		{"first", "taken", "third"},
		{"taken", "first", "third"},
		{"first", "third", "taken"},
		{"third", "taken", "first"},
	} {
		var tx txn
		for _, name := range order {
			tx.add(name, items[name])
		}
		err := s.transact(ctx, tx)
		if canceled(err) == nil {
			t.Fatalf("%v: want a cancelled transaction, got %v", order, err)
		}
		if got := tx.failedItems(err); !slices.Equal(got, []string{"taken"}) {
			t.Errorf("%v: failed items %v, want [taken]", order, got)
		}
		for _, name := range []string{"first", "third"} {
			if tx.failed(err, name) {
				t.Errorf("%v: %s reported failed", order, name)
			}
		}
		// The reason is the taken item's own: it returns what is stored there.
		r, ok := tx.failure(err, "taken")
		if v, _ := r.Item["holder"].(*types.AttributeValueMemberS); !ok || v == nil || v.Value != "before" {
			t.Errorf("%v: reason of taken: %+v", order, r)
		}
	}
}

// Units are found by their name, wherever the transaction put them.
func TestMissingUnitsAreReadByName(t *testing.T) {
	var tx txn
	tx.add(memberItem, types.TransactWriteItem{})
	tx.add(unitItem("b"), types.TransactWriteItem{})
	tx.add(auditItem, types.TransactWriteItem{})
	tx.add(unitItem("a"), types.TransactWriteItem{})
	failedAt := func(i int) error {
		reasons := make([]types.CancellationReason, len(tx.items))
		for j := range reasons {
			reasons[j].Code = aws.String("None")
		}
		reasons[i].Code = aws.String("ConditionalCheckFailed")
		return &types.TransactionCanceledException{CancellationReasons: reasons}
	}
	err := missingUnits(tx, failedAt(3), []string{"a", "b"})
	var fields *fault.Error
	if !errors.As(err, &fields) || len(fields.Fields) != 1 || fields.Fields[0].Field != "units[0]" {
		t.Fatalf("unit a missing: %v", err)
	}
	if err := missingUnits(tx, failedAt(0), []string{"a", "b"}); err != nil {
		t.Errorf("the member failed, not a unit: %v", err)
	}
	if got := tx.failedItems(errors.New("throttled")); got != nil {
		t.Errorf("no cancellation, yet failed items %v", got)
	}
}

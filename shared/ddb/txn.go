package ddb

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// txn is a write transaction whose items carry names. DynamoDB gives the
// reasons for a cancellation item by item, in the order sent; they are read
// here by name, so adding or reordering items cannot make a caller blame the
// wrong one.
type txn struct {
	items []types.TransactWriteItem
	names []string
}

// auditItem names the audit entry of a change (see withAudit).
const auditItem = "audit"

// unitItem names the item that joins unit id (see joinUnits): a failure
// tells which unit is missing.
func unitItem(id string) string { return "unit:" + id }

// add appends items under name; several items may share one (the tokens an
// invitation deletes).
func (t *txn) add(name string, items ...types.TransactWriteItem) {
	for _, it := range items {
		t.items = append(t.items, it)
		t.names = append(t.names, name)
	}
}

// clone is a copy of t that can grow without changing t.
func (t txn) clone() txn {
	return txn{items: slices.Clone(t.items), names: slices.Clone(t.names)}
}

// failure returns the cancellation reason of the first item named name whose
// condition failed, when err is t's cancellation.
func (t txn) failure(err error, name string) (types.CancellationReason, bool) {
	for _, f := range t.conditionFailures(err) {
		if f.name == name {
			return f.reason, true
		}
	}
	return types.CancellationReason{}, false
}

// failed reports whether err cancelled t on the condition of an item named
// name.
func (t txn) failed(err error, name string) bool {
	_, ok := t.failure(err, name)
	return ok
}

// failedItems names the items whose conditions failed when err cancelled t,
// in t's order; none when err is no cancellation.
func (t txn) failedItems(err error) []string {
	var names []string
	for _, f := range t.conditionFailures(err) {
		names = append(names, f.name)
	}
	return names
}

type itemFailure struct {
	name   string
	index  int // in t.items
	reason types.CancellationReason
}

// conditionFailures zips err's cancellation reasons (one per item sent, in
// order) with t's names, keeping the items whose condition failed. This is
// the one place that reads reasons by position.
func (t txn) conditionFailures(err error) []itemFailure {
	var out []itemFailure
	for i, r := range canceled(err) {
		if i < len(t.names) && aws.ToString(r.Code) == "ConditionalCheckFailed" {
			out = append(out, itemFailure{t.names[i], i, r})
		}
	}
	return out
}

// canceled returns the cancellation reasons of a failed transaction, or nil
// when err is something else.
func canceled(err error) []types.CancellationReason {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return tce.CancellationReasons
	}
	return nil
}

// transact runs a write transaction, retrying (with backoff) while it is
// cancelled only because another transaction held an item: the retry then
// sees the other's outcome through its conditions. When it is cancelled
// because a role's holder counter is missing and the role is in its
// organisation's table (an organisation from before counters), the counter
// is created and the write tried again, once per counter: no write path
// has to know about organisations `make backfill` has not reached.
func (s *Store) transact(ctx context.Context, t txn) error {
	healed := map[roleCounter]bool{}
	for attempt := 0; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
		reasons := canceled(err)
		if reasons == nil || attempt == 5 {
			return err
		}
		if !onlyConflicts(reasons) {
			var missing []roleCounter
			for _, c := range t.missingCounters(err) {
				if !healed[c] {
					missing = append(missing, c)
					healed[c] = true
				}
			}
			if len(missing) == 0 {
				return err
			}
			ok, herr := s.healCounters(ctx, missing)
			if herr != nil {
				return errors.Join(err, herr)
			}
			if !ok {
				return err
			}
			continue
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

func onlyConflicts(reasons []types.CancellationReason) bool {
	conflict := false
	for _, r := range reasons {
		switch aws.ToString(r.Code) {
		case "", "None":
		case "TransactionConflict":
			conflict = true
		default:
			return false
		}
	}
	return conflict
}

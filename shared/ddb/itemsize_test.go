package ddb

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
)

// itemSize counts as DynamoDB Local does: an item of exactly maxItemBytes
// (names, nested lists and maps, numbers, non-Latin text) is stored, one
// byte more is refused.
func TestItemSizeIsDynamoDBs(t *testing.T) {
	client, table := testenv.Table(t)
	build := func(total int) map[string]types.AttributeValue {
		it := map[string]types.AttributeValue{
			attrPK: str("ORG#size"), attrSK: str("DELIVERY#x"),
			"n": num(1234567), "ok": &types.AttributeValueMemberBOOL{Value: true}, "none": &types.AttributeValueMemberNULL{Value: true},
			"events": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"other": str(strings.Repeat("สวัสดี", 1000)), "v": num(12)}},
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
				&types.AttributeValueMemberL{Value: []types.AttributeValue{str("ä"), num(-3)}},
			}},
		}
		it["pad"] = str(strings.Repeat("a", total-itemSize(it)-len("pad")))
		if got := itemSize(it); got != total {
			t.Fatalf("built %d bytes, want %d", got, total)
		}
		return it
	}
	ctx := context.Background()
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: build(maxItemBytes)}); err != nil {
		t.Fatalf("an item of %d bytes: %v", maxItemBytes, err)
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: build(maxItemBytes + 1)}); err == nil || !strings.Contains(err.Error(), "size") {
		t.Fatalf("an item of %d bytes: %v", maxItemBytes+1, err)
	}
}

package ddb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/fault"
	"onboarding/shared/redact"
)

// Client is the part of the DynamoDB API the store uses.
type Client interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store is the single-table store.
type Store struct {
	client Client
	table  string
	now    func() time.Time
	// AuditRetention is how long audit entries are kept (TTL); zero means
	// DefaultAuditRetention.
	AuditRetention time.Duration
}

// New returns a store over table. now is the clock (time.Now in production).
func New(client Client, table string, now func() time.Time) *Store {
	return &Store{client: client, table: table, now: now}
}

type key struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
}

// String names the key in errors, with any email address in it masked
// (EMAIL#, PENDING#, SIGNIN#, QUOTA# and legacy PSTATE# keys hold one).
func (k key) String() string { return redact.Text(k.PK + "/" + k.SK) }

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: k.PK},
		attrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// item marshals v and adds the key, the item type and any extra attributes.
func item(k key, typ string, v any, extra map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", typ, err)
	}
	for name, val := range k.av() {
		m[name] = val
	}
	m[attrType] = &types.AttributeValueMemberS{Value: typ}
	for name, val := range extra {
		m[name] = val
	}
	return m, nil
}

// updateItem is the transaction item that applies a built update (and its
// condition, if it has one) to the item at k.
func (s *Store) updateItem(k key, expr expression.Expression) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: k.av(), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue  { return &types.AttributeValueMemberN{Value: fmt.Sprint(n)} }

// get reads one item (strongly consistent) into out; found is false when
// there is none.
// putAsRead writes an item of a read-modify-write loop if no one else wrote
// it since it was read: its version as read (found), or absent.
func (s *Store) putAsRead(ctx context.Context, it map[string]types.AttributeValue, found bool, version int64) error {
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: it}
	if found {
		in.ConditionExpression = aws.String("version = :v")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	} else {
		in.ConditionExpression = aws.String("attribute_not_exists(PK)")
	}
	_, err := s.client.PutItem(ctx, in)
	return err
}

func (s *Store) get(ctx context.Context, k key, out any) (found bool, err error) {
	res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: k.av(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("get %s: %w", k, err)
	}
	if res.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, fmt.Errorf("unmarshal %s: %w", k, err)
	}
	return true, nil
}

// batchGet reads up to 100 items by key, strongly consistent, retrying
// unprocessed keys. The result is keyed by PK+"|"+SK.
func (s *Store) batchGet(ctx context.Context, keys ...key) (map[string]map[string]types.AttributeValue, error) {
	req := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		req[i] = k.av()
	}
	out := map[string]map[string]types.AttributeValue{}
	pending := map[string]types.KeysAndAttributes{s.table: {Keys: req, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
		}
		res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, fmt.Errorf("batch get: %w", err)
		}
		for _, it := range res.Responses[s.table] {
			pk, _ := it[attrPK].(*types.AttributeValueMemberS)
			sk, _ := it[attrSK].(*types.AttributeValueMemberS)
			if pk != nil && sk != nil {
				out[pk.Value+"|"+sk.Value] = it
			}
		}
		pending = res.UnprocessedKeys
	}
	return out, nil
}

func backoff(attempt int) time.Duration {
	return min(time.Duration(1<<attempt)*25*time.Millisecond, time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

var errNotFound = fault.New(fault.NotFound, "not found")

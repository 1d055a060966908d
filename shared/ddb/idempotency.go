package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/fault"
	"onboarding/shared/idempotency"
)

// Claim takes c.Scope for c's request with one conditional put, so that of
// racing requests exactly one wins: when no request holds it, when it has
// expired (TTL deletes lag), or when its holder's lease has passed without a
// response and the retry has the same body. Otherwise it returns what is
// stored under it.
func (s *Store) Claim(ctx context.Context, c idempotency.Claim) (*idempotency.StoredResponse, error) {
	k := idempotencyKey(c.Scope)
	it, err := item(k, "idempotency", idempotency.StoredResponse{BodyHash: c.BodyHash}, map[string]types.AttributeValue{
		attrTTL: num(c.Expires.Unix()), "holder": str(c.Holder), "leaseUntil": num(c.Lease.UnixMilli()),
	})
	if err != nil {
		return nil, err
	}
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK) OR #ttl <= :nowSec OR " +
			"(#done = :false AND #body = :body AND (attribute_not_exists(#lease) OR #lease <= :nowMs))"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL, "#done": "done", "#body": "bodyHash", "#lease": "leaseUntil"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nowSec": num(c.Now.Unix()), ":nowMs": num(c.Now.UnixMilli()),
			":false": &types.AttributeValueMemberBOOL{Value: false}, ":body": str(c.BodyHash),
		},
	}
	for range 3 {
		_, err = s.client.PutItem(ctx, in)
		if err == nil {
			return nil, nil
		}
		if !isConditionFailed(err) {
			return nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		var stored idempotency.StoredResponse
		found, err := s.get(ctx, k, &stored)
		if err != nil {
			return nil, err
		}
		if found {
			return &stored, nil
		}
		// Released meanwhile: claim again.
	}
	return nil, fault.New(fault.Conflict, "a request with this Idempotency-Key is still in progress")
}

// Complete stores the response of the request that holds c; it fails when
// another request has taken the key over.
func (s *Store) Complete(ctx context.Context, c idempotency.Claim, res idempotency.StoredResponse) error {
	v, err := attributevalue.MarshalMap(res)
	if err != nil {
		return err
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: idempotencyKey(c.Scope).av(),
		UpdateExpression:         aws.String("SET #done = :d, #s = :s, headers = :h, body = :b"),
		ConditionExpression:      aws.String("holder = :holder"),
		ExpressionAttributeNames: map[string]string{"#done": "done", "#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": v["done"], ":s": v["status"], ":h": v["headers"], ":b": v["body"], ":holder": str(c.Holder),
		},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("complete idempotency key: taken over by another request")
	}
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Release frees c's key after a failure on our side, unless another request
// has taken it over meanwhile.
func (s *Store) Release(ctx context.Context, c idempotency.Claim) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: idempotencyKey(c.Scope).av(),
		ConditionExpression:       aws.String("holder = :holder"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":holder": str(c.Holder)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

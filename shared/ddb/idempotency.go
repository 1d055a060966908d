package ddb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/httpapi"
)

func idempotencyKey(scope string) key { return key{"IDEMP#" + scope, "IDEMP"} }

// Claim reserves scope for a request (conditional put), or returns what the
// first request under it stored.
func (s *Store) Claim(ctx context.Context, scope, bodyHash string, expires time.Time) (*httpapi.StoredResponse, error) {
	it, err := item(idempotencyKey(scope), "idempotency", httpapi.StoredResponse{BodyHash: bodyHash}, map[string]types.AttributeValue{
		attrTTL: num(expires.Unix()),
	})
	if err != nil {
		return nil, err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err == nil {
		return nil, nil
	}
	if !isConditionFailed(err) {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	var stored httpapi.StoredResponse
	found, err := s.get(ctx, idempotencyKey(scope), &stored)
	if err != nil {
		return nil, err
	}
	if !found { // released meanwhile: claim again
		return s.Claim(ctx, scope, bodyHash, expires)
	}
	return &stored, nil
}

// Complete stores the first response under scope.
func (s *Store) Complete(ctx context.Context, scope string, res httpapi.StoredResponse) error {
	v, err := attributevalue.MarshalMap(res)
	if err != nil {
		return err
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: idempotencyKey(scope).av(),
		UpdateExpression:         aws.String("SET done = :d, #s = :s, headers = :h, body = :b"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": v["done"], ":s": v["status"], ":h": v["headers"], ":b": v["body"],
		},
	})
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Release frees scope after a failure on our side.
func (s *Store) Release(ctx context.Context, scope string) error {
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: idempotencyKey(scope).av()}); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

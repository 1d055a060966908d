package ddb

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Take counts one use of a quota in the fixed window that holds now, if
// fewer than limit uses were counted there; else it reports how long until
// the window ends. The counter item expires (TTL) after its window.
func (s *Store) Take(ctx context.Context, quota string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	start := now.Truncate(window)
	end := start.Add(window)
	k := key{"QUOTA#" + quota, "WINDOW#" + strconv.FormatInt(start.Unix(), 10)}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: k.av(),
		UpdateExpression:         aws.String("ADD used :one SET #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(used) OR used < :limit"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":limit": num(int64(limit)), ":ttl": num(end.Add(time.Hour).Unix()),
		},
	})
	if isConditionFailed(err) {
		return end.Sub(now), nil
	}
	if err != nil {
		return 0, fmt.Errorf("take quota %s: %w", quota, err)
	}
	return 0, nil
}

// Give returns one use taken by Take in the window that holds now (when the
// action it paid for did not happen).
func (s *Store) Give(ctx context.Context, quota string, window time.Duration, now time.Time) error {
	k := key{"QUOTA#" + quota, "WINDOW#" + strconv.FormatInt(now.Truncate(window).Unix(), 10)}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: k.av(),
		UpdateExpression:          aws.String("ADD used :minus"),
		ConditionExpression:       aws.String("used > :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1), ":zero": num(0)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("give quota %s: %w", quota, err)
	}
	return nil
}

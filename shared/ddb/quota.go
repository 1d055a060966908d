package ddb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/quota"
	"onboarding/shared/redact"
)

// Take counts one use of a quota in the fixed window that holds now, if
// fewer than limit uses were counted there; else it reports how long until
// the window ends. The counter item expires (TTL) after its window.
func (s *Store) Take(ctx context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	name, err := quotaName(q)
	if err != nil {
		return 0, err
	}
	start := now.Truncate(window)
	end := start.Add(window)
	k := quotaWindowKey(name, start)
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
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
		return 0, fmt.Errorf("take quota %s: %w", redact.Text(name), err)
	}
	return 0, nil
}

// Give returns one use taken by Take in the window that holds now (when the
// action it paid for did not happen).
func (s *Store) Give(ctx context.Context, q quota.Name, window time.Duration, now time.Time) error {
	name, err := quotaName(q)
	if err != nil {
		return err
	}
	k := quotaWindowKey(name, now.Truncate(window))
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: k.av(),
		UpdateExpression:          aws.String("ADD used :minus"),
		ConditionExpression:       aws.String("used > :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1), ":zero": num(0)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("give quota %s: %w", redact.Text(name), err)
	}
	return nil
}

// recentSends is a sliding-window quota: the times of the latest uses.
// TTL is read with it so that a put which gives a use back keeps the item's
// expiry (a put replaces the whole item).
type recentSends struct {
	Times   []int64 `dynamodbav:"times"` // Unix milliseconds, oldest first
	Version int64   `dynamodbav:"version"`
	TTL     int64   `dynamodbav:"ttl,omitempty"`
}

// TakeSliding counts one use if fewer than limit uses fall in the window
// that ends now (a rolling window: "at most 5 in any 24 hours"); else it
// reports how long until the oldest of them leaves the window. Concurrent
// takers are serialised by a version condition and retried.
func (s *Store) TakeSliding(ctx context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	name, err := quotaName(q)
	if err != nil {
		return 0, err
	}
	k := slidingQuotaKey(name)
	for attempt := 0; attempt < 8; attempt++ {
		var cur recentSends
		found, err := s.get(ctx, k, &cur)
		if err != nil {
			return 0, err
		}
		var kept []int64
		for _, t := range cur.Times {
			if now.Sub(time.UnixMilli(t)) < window {
				kept = append(kept, t)
			}
		}
		if len(kept) >= limit {
			return time.UnixMilli(kept[len(kept)-limit]).Add(window).Sub(now), nil
		}
		next := recentSends{Times: append(kept, now.UnixMilli()), Version: cur.Version + 1, TTL: now.Add(window + time.Hour).Unix()}
		it, err := item(k, "slidingQuota", next, nil)
		if err != nil {
			return 0, err
		}
		err = s.putAsRead(ctx, it, found, cur.Version)
		if err == nil {
			return 0, nil
		}
		if !isConditionFailed(err) {
			return 0, fmt.Errorf("take quota %s: %w", redact.Text(name), err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("take quota %s: too much contention", redact.Text(name))
}

// GiveSliding removes the use taken at now (when its action did not happen).
func (s *Store) GiveSliding(ctx context.Context, q quota.Name, now time.Time) error {
	name, err := quotaName(q)
	if err != nil {
		return err
	}
	k := slidingQuotaKey(name)
	for attempt := 0; attempt < 8; attempt++ {
		var cur recentSends
		found, err := s.get(ctx, k, &cur)
		if err != nil || !found {
			return err
		}
		var kept []int64
		removed := false
		for _, t := range cur.Times {
			if !removed && t == now.UnixMilli() {
				removed = true
				continue
			}
			kept = append(kept, t)
		}
		if !removed {
			return nil
		}
		next := recentSends{Times: kept, Version: cur.Version + 1, TTL: cur.TTL}
		it, err := item(k, "slidingQuota", next, nil)
		if err != nil {
			return err
		}
		err = s.putAsRead(ctx, it, true, cur.Version)
		if err == nil || !isConditionFailed(err) {
			return err
		}
	}
	return nil
}

package ddb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/account"
	"onboarding/shared/fault"
)

const itemSession = "session"

var _ account.SessionStore = (*Store)(nil)

func sessionKey(userID, id string) key { return key{userPK(userID), sessionSK(id)} }

// PutSession stores a new session (see account.SessionStore). Its times are
// whole UTC seconds, so that they compare as strings in conditions.
func (s *Store) PutSession(ctx context.Context, st account.StoredSession) error {
	st = wholeSeconds(st)
	it, err := item(sessionKey(st.UserID, st.ID), itemSession, st,
		map[string]types.AttributeValue{attrTTL: num(st.ExpiresAt.Unix())})
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// Session reads a session (strongly consistent), or nil.
func (s *Store) Session(ctx context.Context, userID, id string) (*account.StoredSession, error) {
	var st account.StoredSession
	found, err := s.get(ctx, sessionKey(userID, id), &st)
	if err != nil || !found {
		return nil, err
	}
	return &st, nil
}

// RotateSession replaces a session's hash (keeping the spent one as
// prevHash, with rotatedAt) if it is still oldHash and the
// session is live at now: one conditional UpdateItem. Of two refreshes with
// the same token, only one passes the condition.
func (s *Store) RotateSession(ctx context.Context, st account.StoredSession, oldHash string, now time.Time) error {
	st = wholeSeconds(st)
	at := expression.Value(stamp(now))
	cond := expression.Name("hash").Equal(expression.Value(oldHash)).
		And(expression.Name("idleExpiresAt").GreaterThan(at)).
		And(expression.Name("expiresAt").GreaterThan(at))
	upd := expression.Set(expression.Name("hash"), expression.Value(st.Hash)).
		Set(expression.Name("prevHash"), expression.Value(st.PrevHash)).
		Set(expression.Name("rotatedAt"), expression.Value(stamp(st.RotatedAt))).
		Set(expression.Name("lastUsedAt"), expression.Value(stamp(st.LastUsedAt))).
		Set(expression.Name("idleExpiresAt"), expression.Value(stamp(st.IdleExpiresAt)))
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(upd).Build()
	if err != nil {
		return fmt.Errorf("build session rotation: %w", err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: sessionKey(st.UserID, st.ID).av(), UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if isConditionFailed(err) {
		return fault.New(fault.Conflict, "the session changed or ended")
	}
	if err != nil {
		return fmt.Errorf("rotate session: %w", err)
	}
	return nil
}

// DeleteSession deletes a session if it exists and, when hash is not "",
// its current hash is hash.
func (s *Store) DeleteSession(ctx context.Context, userID, id, hash string) (bool, error) {
	cond := expression.AttributeExists(expression.Name(attrPK))
	if hash != "" {
		cond = cond.And(expression.Name("hash").Equal(expression.Value(hash)))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return false, fmt.Errorf("build session delete: %w", err)
	}
	_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: sessionKey(userID, id).av(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete session: %w", err)
	}
	return true, nil
}

// Sessions returns all of a user's sessions, ended ones the TTL has yet to
// remove included.
func (s *Store) Sessions(ctx context.Context, userID string) ([]account.StoredSession, error) {
	var out []account.StoredSession
	err := s.eachSession(ctx, userID, false, func(items []map[string]types.AttributeValue) error {
		var page []account.StoredSession
		if err := attributevalue.UnmarshalListOfMaps(items, &page); err != nil {
			return fmt.Errorf("unmarshal sessions: %w", err)
		}
		out = append(out, page...)
		return nil
	})
	return out, err
}

// RevokeSessions deletes every session of the user but keep (all when keep
// is ""): it implements account.SessionRevoker.
func (s *Store) RevokeSessions(ctx context.Context, userID, keep string) error {
	return s.eachSession(ctx, userID, true, func(items []map[string]types.AttributeValue) error {
		var reqs []types.WriteRequest
		for _, it := range items {
			sk, _ := it[attrSK].(*types.AttributeValueMemberS)
			if sk == nil || (keep != "" && sk.Value == sessionSK(keep)) {
				continue
			}
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key{userPK(userID), sk.Value}.av()}})
		}
		for len(reqs) > 0 {
			n := min(len(reqs), 25)
			if err := batchWrite(ctx, s.client, s.table, reqs[:n]); err != nil {
				return fmt.Errorf("revoke sessions: %w", err)
			}
			reqs = reqs[n:]
		}
		return nil
	})
}

// eachSession queries a user's sessions page by page; keysOnly reads only
// their keys.
func (s *Store) eachSession(ctx context.Context, userID string, keysOnly bool, page func([]map[string]types.AttributeValue) error) error {
	kc := expression.Key(attrPK).Equal(expression.Value(userPK(userID))).
		And(expression.Key(attrSK).BeginsWith(sessionSK("")))
	b := expression.NewBuilder().WithKeyCondition(kc)
	if keysOnly {
		b = b.WithProjection(expression.NamesList(expression.Name(attrPK), expression.Name(attrSK)))
	}
	expr, err := b.Build()
	if err != nil {
		return fmt.Errorf("build sessions query: %w", err)
	}
	var start map[string]types.AttributeValue
	for {
		res, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
			KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		})
		if err != nil {
			return fmt.Errorf("query sessions: %w", err)
		}
		if err := page(res.Items); err != nil {
			return err
		}
		if start = res.LastEvaluatedKey; start == nil {
			return nil
		}
	}
}

func wholeSeconds(st account.StoredSession) account.StoredSession {
	for _, t := range []*time.Time{&st.CreatedAt, &st.LastUsedAt, &st.IdleExpiresAt, &st.ExpiresAt, &st.RotatedAt} {
		*t = t.UTC().Truncate(time.Second)
	}
	return st
}

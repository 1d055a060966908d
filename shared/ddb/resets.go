package ddb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/account"
	"onboarding/shared/fault"
)

// ResetAccount returns the account with this email, or nil. With no account
// it still reads a profile (of the user id "", which none has), so a reset
// request does the same work, and takes the same time, either way.
func (s *Store) ResetAccount(ctx context.Context, email string) (*account.Account, error) {
	var g emailGuard
	if _, err := s.get(ctx, key{emailPK(email), skAccount}, &g); err != nil {
		return nil, err
	}
	return s.Account(ctx, g.UserID)
}

// PutResetToken stores what a reset token's hash opens; DynamoDB's TTL
// collects it when it expires.
func (s *Store) PutResetToken(ctx context.Context, hash string, t account.ResetToken) error {
	t.ExpiresAt = t.ExpiresAt.UTC().Truncate(time.Second) // compared as a string, as stamp writes it
	it, err := item(resetKey(hash), "resetToken", t, map[string]types.AttributeValue{attrTTL: num(t.ExpiresAt.Unix())})
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err != nil {
		return fmt.Errorf("put reset token: %w", err)
	}
	return nil
}

// ResetToken returns what the reset token that hashes to hash opens.
func (s *Store) ResetToken(ctx context.Context, hash string) (account.ResetToken, error) {
	var t account.ResetToken
	found, err := s.get(ctx, resetKey(hash), &t)
	if err != nil {
		return t, err
	}
	if !found {
		return t, errNotFound
	}
	return t, nil
}

var errResetTokenUsed = fault.New(fault.Gone, "the reset token was used or has expired")

// CompleteReset deletes the reset token, if it is still there, names userID
// and is unexpired at now, and sets the account's password hash if the
// account still has email: one transaction, so of any number of racing
// confirmations exactly one wins, and a change of address meanwhile wins
// over the link sent to the old one.
func (s *Store) CompleteReset(ctx context.Context, hash, userID, email, passwordHash string, now time.Time) error {
	var tx txn
	tx.add("reset token", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: resetKey(hash).av(),
		ConditionExpression: aws.String("attribute_exists(PK) AND userId = :u AND expiresAt > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":u": str(userID), ":now": str(stamp(now))}}})
	tx.add("account", types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key{userPK(userID), skProfile}.av(),
		UpdateExpression:          aws.String("SET passwordHash = :h"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND email = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(passwordHash), ":e": str(email)}}})
	err := s.transact(ctx, tx)
	switch {
	case tx.failed(err, "reset token"):
		return errResetTokenUsed
	case tx.failed(err, "account"):
		return fault.New(fault.Gone, "the account no longer exists or its address changed")
	case err != nil:
		return fmt.Errorf("complete password reset: %w", err)
	}
	return nil
}

package ddb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// putLeaveToken is the Put of the lookup from the hash of inv's leave token
// to the membership it ends; DynamoDB's TTL collects it once expired.
func (s *Store) putLeaveToken(inv invite.Invitation) (types.TransactWriteItem, error) {
	if inv.LeaveExpiresAt == nil {
		return types.TransactWriteItem{}, fmt.Errorf("invitation %s: a leave token without an expiry", inv.ID)
	}
	t := invite.LeaveToken{OrgID: inv.OrgID, UserID: inv.UserID, InvitationID: inv.ID, ExpiresAt: inv.LeaveExpiresAt.UTC()}
	it, err := item(key{leavePK(inv.LeaveTokenHash), skLeave}, "leaveToken", t,
		map[string]types.AttributeValue{attrTTL: num(t.ExpiresAt.Unix())})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// deleteLeaveToken is the Delete of a leave token's lookup.
func (s *Store) deleteLeaveToken(hash string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{leavePK(hash), skLeave}.av()}}
}

// LeaveToken returns what the leave token that hashes to hash opens.
func (s *Store) LeaveToken(ctx context.Context, hash string) (invite.LeaveToken, error) {
	var t invite.LeaveToken
	found, err := s.get(ctx, key{leavePK(hash), skLeave}, &t)
	if err != nil {
		return t, err
	}
	if !found {
		return t, errNotFound
	}
	return t, nil
}

var errLeaveTokenUsed = fault.New(fault.NotFound, "the leave token was used or has expired")

// Leave ends m's membership as RemoveMember does, on the further condition
// that the invitation t names made it, and deletes the token if it is still
// there and unexpired at `at`: all in one transaction, so the token works once
// and a refusal (the last org-wide admin) leaves it usable.
func (s *Store) Leave(ctx context.Context, hash string, t invite.LeaveToken, m org.Member, at time.Time, e audit.Entry) error {
	m.InvitationID = t.InvitationID
	tx := s.endMembership(m, true)
	del := s.deleteLeaveToken(hash)
	del.Delete.ConditionExpression = aws.String("attribute_exists(PK) AND expiresAt > :now")
	del.Delete.ExpressionAttributeValues = map[string]types.AttributeValue{":now": str(stamp(at))}
	tx.add("leave token", del)
	if err := s.withAudit(&tx, e); err != nil {
		return err
	}
	err := s.transact(ctx, tx)
	if tx.failed(err, "leave token") && !tx.failed(err, adminsItem) {
		return errLeaveTokenUsed
	}
	return s.memberResult(tx, err, "leave "+m.OrgID)
}

package ddb

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/org"
)

// ListMembers returns a page of an organisation's members, optionally of
// one role or in one unit.
func (s *Store) ListMembers(ctx context.Context, orgID, role, unit string, limit int, cursor string) ([]org.Member, string, error) {
	start, err := decodeCursor(cursor, map[string]string{attrPK: orgPK(orgID)}, map[string]string{attrSK: memberSK("")})
	if err != nil {
		return nil, "", err
	}
	b := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(expression.Value(orgPK(orgID))).And(expression.Key(attrSK).BeginsWith(memberSK(""))))
	if filter := memberFilter(role, unit); filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, "", fmt.Errorf("build members query: %w", err)
	}
	return queryPage[org.Member](ctx, s, &dynamodb.QueryInput{
		TableName: &s.table, Limit: aws.Int32(int32(limit)), ExclusiveStartKey: start,
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, "members of "+orgID)
}

// adminCount changes the organisation's count of organisation-wide admins;
// lowering it is conditional on another remaining. Transactions name it
// adminsItem.
func (s *Store) adminCount(orgID string, delta int) types.TransactWriteItem {
	u := &types.Update{
		TableName: &s.table, Key: key{orgPK(orgID), skMeta}.av(),
		UpdateExpression:          aws.String("ADD orgWideAdmins :d"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(int64(delta))},
	}
	if delta < 0 {
		u.ConditionExpression = aws.String("orgWideAdmins > :one")
		u.ExpressionAttributeValues[":one"] = num(1)
	}
	return types.TransactWriteItem{Update: u}
}

func adminDelta(old, updated org.Member) int {
	switch {
	case old.IsOrgWideAdmin() && !updated.IsOrgWideAdmin():
		return -1
	case !old.IsOrgWideAdmin() && updated.IsOrgWideAdmin():
		return 1
	}
	return 0
}

const adminsItem = "admins"

var errLastAdmin = fault.New(fault.Conflict, "the organisation must keep at least one organisation-wide admin")

// UpdateMember changes a member's role and units if they are as old says.
func (s *Store) UpdateMember(ctx context.Context, old, updated org.Member, e audit.Entry) error {
	units, err := attributevalue.Marshal(updated.Units)
	if err != nil {
		return err
	}
	oldUnits, err := attributevalue.Marshal(old.Units)
	if err != nil {
		return err
	}
	var t txn
	t.add(memberItem, types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{orgPK(old.OrgID), memberSK(old.UserID)}.av(),
		UpdateExpression:         aws.String("SET #r = :r, units = :u"),
		ConditionExpression:      aws.String("#r = :oldR AND units = :oldU"),
		ExpressionAttributeNames: map[string]string{"#r": "role"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":r": str(updated.Role), ":u": units, ":oldR": str(old.Role), ":oldU": oldUnits,
		},
	}})
	if d := adminDelta(old, updated); d != 0 {
		t.add(adminsItem, s.adminCount(old.OrgID, d))
	}
	s.moveHolder(&t, old.OrgID, old.Role, updated.Role, true)
	s.joinUnits(&t, old.OrgID, updated.Units)
	if err := s.addMemberEntries(&t, &old, &updated); err != nil {
		return err
	}
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	if err := missingUnits(t, err, updated.Units); err != nil {
		return err
	}
	return s.memberResult(t, err, "update member "+old.UserID)
}

// RemoveMember deletes a membership if it is as m says.
func (s *Store) RemoveMember(ctx context.Context, m org.Member, e audit.Entry) error {
	t := s.endMembership(m, false)
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	return s.memberResult(t, s.transact(ctx, t), "remove member "+m.UserID)
}

// endMembership is what removing m does: the member deleted if its role is
// still m's (and, with sameInvitation, if m's invitation still made it), the
// count of org-wide admins lowered when m is one (never below one), and the
// monitoring profile, which goes with the membership. memberResult reads
// the member's and the admin count's items.
func (s *Store) endMembership(m org.Member, sameInvitation bool) txn {
	del := &types.Delete{
		TableName: &s.table, Key: key{orgPK(m.OrgID), memberSK(m.UserID)}.av(),
		ConditionExpression:       aws.String("#r = :r"),
		ExpressionAttributeNames:  map[string]string{"#r": "role"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": str(m.Role)},
	}
	if sameInvitation {
		del.ConditionExpression = aws.String("#r = :r AND invitationId = :inv")
		del.ExpressionAttributeValues[":inv"] = str(m.InvitationID)
	}
	var t txn
	t.add(memberItem, types.TransactWriteItem{Delete: del})
	if m.IsOrgWideAdmin() {
		t.add(adminsItem, s.adminCount(m.OrgID, -1))
	}
	s.holders(&t, m.OrgID, m.Role, -1, 0)
	t.add("monitoring", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{orgPK(m.OrgID), monitorSK(m.UserID)}.av()}})
	entries, _ := s.memberEntries(&m, nil) // deletes only: nothing to marshal
	// The entries deleted are those of m's names: the member must still
	// have them, or entries of newer ones would outlive it.
	guardOwner(&t, key{orgPK(m.OrgID), memberSK(m.UserID)}, m, nil, memberUnshown)
	t.add(entryOwner, entries...)
	return t
}

// memberItem names the membership in the transactions memberResult reads.
const memberItem = "member"

// memberResult maps the outcome of t, a membership transaction.
func (s *Store) memberResult(t txn, err error, what string) error {
	if t.failed(err, adminsItem) {
		return errLastAdmin
	}
	for _, name := range t.failedItems(err) {
		if role, ok := strings.CutPrefix(name, roleItem("")); ok {
			return roleGone(role)
		}
	}
	if t.failed(err, memberItem) {
		return fault.New(fault.Conflict, "the member changed meanwhile; reload")
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

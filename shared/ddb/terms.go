package ddb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/org"
)

// termsItem names the organisation's check in a consent's transaction.
const termsItem = "terms"

// RecordConsent stores version as the terms m accepted at `at`, in one
// transaction with the check that version is still the organisation's
// (else Conflict: it changed since it was read) and the audit entry; a
// membership that ended meanwhile is NotFound.
func (s *Store) RecordConsent(ctx context.Context, m org.Member, version string, at time.Time, e audit.Entry) error {
	update, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("termsVersion"), expression.Value(version)).
			Set(expression.Name("termsAcceptedAt"), expression.Value(at.UTC()))).
		// The member's search entries copy it (addMemberEntries): written
		// from m as read, so m must be what is stored.
		WithCondition(expression.AttributeExists(expression.Name(attrPK)).
			And(expression.Name("email").Equal(expression.Value(m.Email))).
			And(expression.Name("firstName").Equal(expression.Value(m.FirstName))).
			And(expression.Name("lastName").Equal(expression.Value(m.LastName))).
			And(expression.Name("role").Equal(expression.Value(m.Role))).
			And(expression.Name("units").Equal(expression.Value(m.Units)))).Build()
	if err != nil {
		return fmt.Errorf("build consent update: %w", err)
	}
	var t txn
	t.add(memberItem, s.updateItem(key{orgPK(m.OrgID), memberSK(m.UserID)}, update))
	updated := m
	updated.TermsVersion, updated.TermsAcceptedAt = version, &at
	if err := s.addMemberEntries(&t, &m, &updated); err != nil {
		return err
	}
	t.add(termsItem, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table,
		Key:                       key{orgPK(m.OrgID), skMeta}.av(),
		ConditionExpression:       aws.String("settings.termsVersion = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": str(version)}}})
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	switch {
	case t.failed(err, memberItem):
		if still, _ := s.Member(ctx, m.OrgID, m.UserID); still != nil {
			return fault.New(fault.Conflict, "your membership changed meanwhile; try again")
		}
		return fault.New(fault.NotFound, "you are not a member of this organisation")
	case t.failed(err, termsItem):
		return fault.New(fault.Conflict, "the organisation's terms changed meanwhile; read the new ones")
	case err != nil:
		return fmt.Errorf("record consent of %s in org %s: %w", m.UserID, m.OrgID, err)
	}
	return nil
}

package ddb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
)

// pendingGuard reserves an email in an organisation while an invitation is
// pending. It carries the expiry so an expired-but-unswept invitation does
// not block a new one.
type pendingGuard struct {
	InvitationID string `dynamodbav:"invitationId"`
	ExpiresAt    string `dynamodbav:"expiresAt"`
}

type tokenLookup struct {
	OrgID        string `dynamodbav:"orgId"`
	InvitationID string `dynamodbav:"invitationId"`
}

type emailGuard struct {
	UserID string `dynamodbav:"userId"`
}

// InviteContext loads the organisation, the inviter's membership and the
// invitee's account state: one BatchGetItem, plus one GetItem when the
// invitee has an account.
func (s *Store) InviteContext(ctx context.Context, orgID, actorID, email string) (invite.InviteContext, error) {
	keys := []key{{orgPK(orgID), skMeta}, {orgPK(orgID), memberSK(actorID)}}
	if email != "" {
		keys = append(keys, key{emailPK(email), skAccount})
	}
	items, err := s.batchGet(ctx, keys...)
	if err != nil {
		return invite.InviteContext{}, err
	}
	var ic invite.InviteContext
	meta, ok := items[orgPK(orgID)+"|"+skMeta]
	if !ok {
		return ic, nil // no organisation: the actor is no member of it
	}
	if err := attributevalue.UnmarshalMap(meta, &ic.Org); err != nil {
		return ic, fmt.Errorf("unmarshal organisation: %w", err)
	}
	if it, ok := items[orgPK(orgID)+"|"+memberSK(actorID)]; ok {
		ic.Actor = &org.Member{}
		if err := attributevalue.UnmarshalMap(it, ic.Actor); err != nil {
			return ic, fmt.Errorf("unmarshal member: %w", err)
		}
	}
	if it, ok := items[emailPK(email)+"|"+skAccount]; ok {
		var g emailGuard
		if err := attributevalue.UnmarshalMap(it, &g); err != nil {
			return ic, fmt.Errorf("unmarshal email guard: %w", err)
		}
		ic.ExistingUserID = g.UserID
		var m org.Member
		if ic.AlreadyMember, err = s.get(ctx, key{orgPK(orgID), memberSK(g.UserID)}, &m); err != nil {
			return ic, err
		}
	}
	return ic, nil
}

// CreateOrganisation stores a new organisation if its id is unused, with
// the holder counter of each of its roles.
func (s *Store) CreateOrganisation(ctx context.Context, o org.Organisation) error {
	it, err := item(key{orgPK(o.ID), skMeta}, "organisation", o, nil)
	if err != nil {
		return err
	}
	var t txn
	t.add("organisation", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	keys := make([]string, len(o.Roles))
	for i, r := range o.Roles {
		keys[i] = r.Key
	}
	if err := s.putHolders(&t, o.ID, keys); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	if len(t.failedItems(err)) > 0 {
		return fault.New(fault.Conflict, "the organisation exists already")
	}
	if err != nil {
		return fmt.Errorf("put organisation %s: %w", o.ID, err)
	}
	return nil
}

// invitationItem is an invitation as stored: while a sweep has work on it,
// it carries the Due index keys of its next due time.
func invitationItem(inv invite.Invitation) (map[string]types.AttributeValue, error) {
	extra := map[string]types.AttributeValue{
		attrGSI1PK: str(invitesByStatus(inv.OrgID, string(inv.Status))),
		attrGSI1SK: str(inv.ID),
		// Sparse in effect: only invitations carry it.
		attrInviteePK: str(inviteePK(inv.Email)),
	}
	if pk, sk, ok := dueKeys(inv); ok {
		extra[attrDuePK], extra[attrDueSK] = str(pk), str(sk)
	}
	return item(key{orgPK(inv.OrgID), inviteSK(inv.ID)}, typeInvitation, inv, extra)
}

// typeInvitation is an invitation item's type attribute.
const typeInvitation = "invitation"

// guardItem reserves inv's email in its organisation while it is pending.
func guardItem(inv invite.Invitation) (map[string]types.AttributeValue, error) {
	return item(key{orgPK(inv.OrgID), pendingSK(inv.Email)}, "pendingGuard",
		pendingGuard{InvitationID: inv.ID, ExpiresAt: stamp(inv.ExpiresAt)},
		map[string]types.AttributeValue{attrTTL: num(inv.ExpiresAt.Add(tokenTTLAfterExpiry).Unix())})
}

// CreateInvitation writes the invitation, its pending guard and its token
// lookup in one transaction.
func (s *Store) CreateInvitation(ctx context.Context, inv invite.Invitation, e audit.Entry) error {
	t, err := s.createItems(inv)
	if err != nil {
		return err
	}
	s.joinUnits(&t, inv.OrgID, inv.Units)
	s.holders(&t, inv.OrgID, inv.Role, 0, 1)
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	if err := missingUnits(t, err, inv.Units); err != nil {
		return err
	}
	if err := missingRole(t, err, inv.Role); err != nil {
		return err
	}
	if t.failed(err, guardItemName) {
		var g pendingGuard
		if _, gerr := s.get(ctx, key{orgPK(inv.OrgID), pendingSK(inv.Email)}, &g); gerr != nil {
			return gerr
		}
		return fault.New(fault.Conflict, "a pending invitation for this email exists already").With("invitationId", g.InvitationID)
	}
	if err != nil {
		return fmt.Errorf("create invitation %s: %w", inv.ID, err)
	}
	return nil
}

// createItems are the conditional Puts that create inv: the invitation,
// its pending guard (one pending invitation per email; a guard left by an
// invitation that has expired but not yet been swept may be taken over,
// named guardItemName) and its token.
func (s *Store) createItems(inv invite.Invitation) (txn, error) {
	invItem, err := invitationItem(inv)
	if err != nil {
		return txn{}, err
	}
	guard, err := guardItem(inv)
	if err != nil {
		return txn{}, err
	}
	tok, err := tokenItem(inv.TokenHash, inv)
	if err != nil {
		return txn{}, err
	}
	guardFree, err := expression.NewBuilder().WithCondition(
		expression.AttributeNotExists(expression.Name(attrPK)).
			Or(expression.Name("expiresAt").LessThanEqual(expression.Value(stamp(s.now()))))).Build()
	if err != nil {
		return txn{}, fmt.Errorf("build guard condition: %w", err)
	}
	var t txn
	t.add("invitation", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: invItem, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	t.add(guardItemName, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: guard, ConditionExpression: guardFree.Condition(),
		ExpressionAttributeNames: guardFree.Names(), ExpressionAttributeValues: guardFree.Values()}})
	t.add("token", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: tok, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	if err := s.addInvitationEntries(&t, nil, &inv); err != nil {
		return txn{}, err
	}
	return t, nil
}

// guardItemName names the pending guard's item in an invitation's
// transactions (create, accept, resend, end).
const guardItemName = "guard"

// Invitation reads one invitation.
func (s *Store) Invitation(ctx context.Context, orgID, invitationID string) (invite.Invitation, error) {
	var inv invite.Invitation
	found, err := s.get(ctx, key{orgPK(orgID), inviteSK(invitationID)}, &inv)
	if err != nil {
		return inv, err
	}
	if !found {
		return inv, errNotFound
	}
	return inv, nil
}

// InvitationByToken follows a token hash to its invitation.
func (s *Store) InvitationByToken(ctx context.Context, tokenHash string) (invite.Invitation, error) {
	var t tokenLookup
	found, err := s.get(ctx, key{tokenPK(tokenHash), skInvite}, &t)
	if err != nil {
		return invite.Invitation{}, err
	}
	if !found {
		return invite.Invitation{}, errNotFound
	}
	return s.Invitation(ctx, t.OrgID, t.InvitationID)
}

// AccountByEmail returns the account with this email, or nil.
func (s *Store) AccountByEmail(ctx context.Context, email string) (*account.Account, error) {
	var g emailGuard
	found, err := s.get(ctx, key{emailPK(email), skAccount}, &g)
	if err != nil || !found {
		return nil, err
	}
	return s.Account(ctx, g.UserID)
}

// Account returns the account with this id, or nil.
func (s *Store) Account(ctx context.Context, userID string) (*account.Account, error) {
	var a account.Account
	found, err := s.get(ctx, key{userPK(userID), skProfile}, &a)
	if err != nil || !found {
		return nil, err
	}
	return &a, nil
}

// Accept applies an acceptance in one transaction: the invitation moves from
// pending to accepted only under its live token and before its expiry; the
// token and the pending guard go; the account (when new), its email guard and
// the membership are created only if absent.
func (s *Store) Accept(ctx context.Context, a invite.Acceptance) error {
	inv := a.Invitation
	update, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("status"), expression.Value(invite.Accepted)).
			Set(expression.Name(attrGSI1PK), expression.Value(invitesByStatus(inv.OrgID, string(invite.Accepted)))).
			Set(expression.Name("acceptedAt"), expression.Value(stamp(a.At))).
			Set(expression.Name("userId"), expression.Value(a.Account.UserID)).
			Remove(expression.Name("nextDeliveryAt")).Remove(expression.Name("retryMail")).
			Remove(expression.Name(attrDuePK)).Remove(expression.Name(attrDueSK))).
		WithCondition(expression.Name("status").Equal(expression.Value(invite.Pending)).
			And(expression.Name("tokenHash").Equal(expression.Value(inv.TokenHash))).
			And(sameReminderToken(inv)).
			And(expression.Name("expiresAt").GreaterThan(expression.Value(stamp(a.At))))).
		Build()
	if err != nil {
		return fmt.Errorf("build accept expression: %w", err)
	}
	var t txn
	t.add("invitation", s.updateItem(key{orgPK(inv.OrgID), inviteSK(inv.ID)}, update))
	t.add("token", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{tokenPK(inv.TokenHash), skInvite}.av(),
		ConditionExpression: aws.String("attribute_exists(PK)")}})
	t.add(guardItemName, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{orgPK(inv.OrgID), pendingSK(inv.Email)}.av(),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR invitationId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(inv.ID)}}})
	if inv.ReminderTokenHash != "" {
		t.add("reminder token", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{tokenPK(inv.ReminderTokenHash), skInvite}.av()}})
	}
	member, err := item(key{orgPK(inv.OrgID), memberSK(a.Member.UserID)}, "member", a.Member, map[string]types.AttributeValue{
		attrGSI1PK: str(userPK(a.Member.UserID)), attrGSI1SK: str(orgPK(inv.OrgID)),
	})
	if err != nil {
		return err
	}
	t.add("member", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: member,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	accepted := inv
	accepted.Status, accepted.AcceptedAt, accepted.UserID = invite.Accepted, &a.At, a.Account.UserID
	accepted.NextDeliveryAt, accepted.RetryMail = nil, ""
	if err := s.addInvitationEntries(&t, &inv, &accepted); err != nil {
		return err
	}
	if err := s.addMemberEntries(&t, nil, &a.Member); err != nil {
		return err
	}
	if p, err := s.profileFromInvitation(inv, a.Member.UserID, a.At); err != nil {
		return err
	} else if p != nil {
		t.add("monitoring", *p)
	}
	if a.Member.IsOrgWideAdmin() {
		t.add(adminsItem, s.adminCount(inv.OrgID, 1))
	}
	if a.Member.Role == inv.Role {
		s.holders(&t, inv.OrgID, inv.Role, 1, -1)
	} else {
		s.holders(&t, inv.OrgID, inv.Role, 0, -1)
		s.holders(&t, inv.OrgID, a.Member.Role, 1, 0)
	}
	if err := s.withAudit(&t, a.Audit); err != nil {
		return err
	}
	if a.NewAccount {
		profile, err := item(key{userPK(a.Account.UserID), skProfile}, "account", a.Account, nil)
		if err != nil {
			return err
		}
		guard, err := item(key{emailPK(a.Account.Email), skAccount}, "emailGuard", emailGuard{UserID: a.Account.UserID}, nil)
		if err != nil {
			return err
		}
		t.add("account", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: profile, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
		t.add("email", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: guard, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	} else {
		t.add("account", s.accountExists(a.Account.UserID))
	}
	err = s.transact(ctx, t)
	if err := missingRole(t, err, a.Member.Role); err != nil {
		return err
	}
	if len(t.failedItems(err)) > 0 {
		return fault.New(fault.Conflict, "the invitation was used or changed meanwhile")
	}
	if canceled(err) != nil {
		return fmt.Errorf("accept transaction (conflicting writes): %w", err)
	}
	if err != nil {
		return fmt.Errorf("accept transaction: %w", err)
	}
	return nil
}

// sameReminderToken is the condition that the reminder's token is still the
// one inv was read with.
func sameReminderToken(inv invite.Invitation) expression.ConditionBuilder {
	if inv.ReminderTokenHash == "" {
		return expression.AttributeNotExists(expression.Name("reminderTokenHash"))
	}
	return expression.Name("reminderTokenHash").Equal(expression.Value(inv.ReminderTokenHash))
}

// profileFromInvitation is the Put that makes the monitoring profile an
// invitation carries the new member's (nil when it carries none).
func (s *Store) profileFromInvitation(inv invite.Invitation, userID string, at time.Time) (*types.TransactWriteItem, error) {
	if inv.Profile == nil {
		return nil, nil
	}
	rec := monitor.Record{OrgID: inv.OrgID, UserID: userID, Profile: *inv.Profile, Version: 1,
		UpdatedAt: at.UTC().Truncate(time.Second), UpdatedBy: inv.InvitedBy}
	it, err := item(key{orgPK(inv.OrgID), monitorSK(userID)}, "monitoring", rec, nil)
	if err != nil {
		return nil, err
	}
	return &types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it}}, nil
}

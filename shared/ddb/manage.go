package ddb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// Actor loads an organisation and one person's membership of it (nil when
// they are no member) in one BatchGetItem.
func (s *Store) Actor(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error) {
	items, err := s.batchGet(ctx, key{orgPK(orgID), skMeta}, key{orgPK(orgID), memberSK(userID)})
	if err != nil {
		return org.Organisation{}, nil, err
	}
	var o org.Organisation
	meta, ok := items[orgPK(orgID)+"|"+skMeta]
	if !ok {
		return o, nil, nil
	}
	if err := attributevalue.UnmarshalMap(meta, &o); err != nil {
		return o, nil, fmt.Errorf("unmarshal organisation: %w", err)
	}
	o.Roles = access.Upgrade(o.Roles)
	it, ok := items[orgPK(orgID)+"|"+memberSK(userID)]
	if !ok {
		return o, nil, nil
	}
	var m org.Member
	if err := attributevalue.UnmarshalMap(it, &m); err != nil {
		return o, nil, fmt.Errorf("unmarshal member: %w", err)
	}
	return o, &m, nil
}

// Organisations reads the organisations of ids (BatchGetItem, 100 a
// request); an unknown one is left out.
func (s *Store) Organisations(ctx context.Context, ids []string) (map[string]org.Organisation, error) {
	keys := make([]key, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, key{orgPK(id), skMeta})
	}
	items, err := s.batchGetAll(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]org.Organisation{}
	for _, it := range items {
		var o org.Organisation
		if err := attributevalue.UnmarshalMap(it, &o); err != nil {
			return nil, fmt.Errorf("unmarshal organisation: %w", err)
		}
		o.Roles = access.Upgrade(o.Roles)
		out[o.ID] = o
	}
	return out, nil
}

// encodeCursor makes a LastEvaluatedKey opaque for clients.
func encodeCursor(k map[string]types.AttributeValue) (string, error) {
	if len(k) == 0 {
		return "", nil
	}
	plain := map[string]string{}
	if err := attributevalue.UnmarshalMap(k, &plain); err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	b, _ := json.Marshal(plain)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor reads a cursor back into a query's start key. It accepts
// exactly the key attributes the query uses: those in exact (the caller's
// partition) equal to their value, those in within (the range the query
// reads) starting with their prefix and longer. DynamoDB answers a start key
// outside the query's range with an error, so none may reach it.
func decodeCursor(cursor string, exact, within map[string]string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) > 2048 {
		return nil, fault.BadCursor()
	}
	plain := map[string]string{}
	if err := json.Unmarshal(b, &plain); err != nil || len(plain) != len(exact)+len(within) {
		return nil, fault.BadCursor()
	}
	out := map[string]types.AttributeValue{}
	for name, v := range plain {
		want, isExact := exact[name]
		prefix, isWithin := within[name]
		switch {
		case isExact && v == want:
		case isWithin && len(v) > len(prefix) && len(v) <= 1024 && strings.HasPrefix(v, prefix):
		default:
			return nil, fault.BadCursor()
		}
		out[name] = str(v)
	}
	return out, nil
}

// ListInvitations returns one page of an organisation's invitations, newest
// first: all of them from the table, or those with one stored status from
// GSI1. Pending ones whose expiry has passed are left out of the pending
// list (the sweep marks them expired).
func (s *Store) ListInvitations(ctx context.Context, orgID string, status invite.Status, limit int, cursor string, now time.Time) ([]invite.Invitation, string, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, Limit: aws.Int32(int32(limit)), ScanIndexForward: aws.Bool(false)}
	var kc expression.KeyConditionBuilder
	var err error
	if status == "" {
		kc = expression.Key(attrPK).Equal(expression.Value(orgPK(orgID))).And(expression.Key(attrSK).BeginsWith(inviteSK("")))
		in.ExclusiveStartKey, err = decodeCursor(cursor, map[string]string{attrPK: orgPK(orgID)}, map[string]string{attrSK: inviteSK("")})
	} else {
		pk := invitesByStatus(orgID, string(status))
		kc = expression.Key(attrGSI1PK).Equal(expression.Value(pk))
		in.IndexName = aws.String(IndexGSI1)
		in.ExclusiveStartKey, err = decodeCursor(cursor, map[string]string{attrPK: orgPK(orgID), attrGSI1PK: pk},
			map[string]string{attrSK: inviteSK(""), attrGSI1SK: ""})
		if start := in.ExclusiveStartKey; err == nil && start != nil && !sameInvitation(start) {
			err = fault.BadCursor()
		}
	}
	if err != nil {
		return nil, "", err
	}
	b := expression.NewBuilder().WithKeyCondition(kc)
	if status == invite.Pending {
		b = b.WithFilter(expression.Name("expiresAt").GreaterThan(expression.Value(stamp(now))))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, "", fmt.Errorf("build invitations query: %w", err)
	}
	in.KeyConditionExpression = expr.KeyCondition()
	in.FilterExpression = expr.Filter()
	in.ExpressionAttributeNames = expr.Names()
	in.ExpressionAttributeValues = expr.Values()
	return queryPage[invite.Invitation](ctx, s, in, "invitations of "+orgID)
}

// sameInvitation reports whether a GSI1 start key's table and index keys
// name one invitation, as every key the index gave out does.
func sameInvitation(start map[string]types.AttributeValue) bool {
	sk, _ := start[attrSK].(*types.AttributeValueMemberS)
	id, _ := start[attrGSI1SK].(*types.AttributeValueMemberS)
	return sk != nil && id != nil && sk.Value == inviteSK(id.Value)
}

// queryPage runs one Query and returns its items and the cursor of the next
// page ("" on the last).
func queryPage[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, what string) ([]T, string, error) {
	res, err := s.client.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("query %s: %w", what, err)
	}
	items := []T{}
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, "", fmt.Errorf("unmarshal %s: %w", what, err)
	}
	next, err := encodeCursor(res.LastEvaluatedKey)
	return items, next, err
}

// Resend replaces the token of a pending invitation and restarts its
// expiry, on the condition that it is still pending under the old token
// (so a concurrent accept or resend wins cleanly).
func (s *Store) Resend(ctx context.Context, old, renewed invite.Invitation, e audit.Entry) error {
	u := expression.Set(expression.Name("tokenHash"), expression.Value(renewed.TokenHash)).
		Set(expression.Name("expiresAt"), expression.Value(stamp(renewed.ExpiresAt))).
		Set(expression.Name("resends"), expression.Value(renewed.Resends)).
		Remove(expression.Name("reminderTokenHash")).Remove(expression.Name("remindedAt"))
	u = setTime(u, "remindAt", renewed.RemindAt)
	u = setDelivery(u, renewed)
	update, err := expression.NewBuilder().WithUpdate(u).
		WithCondition(expression.Name("status").Equal(expression.Value(invite.Pending)).
			And(expression.Name("tokenHash").Equal(expression.Value(old.TokenHash))).
			And(sameReminderToken(old))).
		Build()
	if err != nil {
		return fmt.Errorf("build resend expression: %w", err)
	}
	tok, err := tokenItem(renewed.TokenHash, renewed)
	if err != nil {
		return err
	}
	var t txn
	t.add("invitation", s.updateItem(key{orgPK(old.OrgID), inviteSK(old.ID)}, update))
	t.add("token", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: tok, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	t.add(guardItemName, types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{orgPK(old.OrgID), pendingSK(old.Email)}.av(),
		UpdateExpression:         aws.String("SET expiresAt = :e, #ttl = :ttl"),
		ConditionExpression:      aws.String("invitationId = :id"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": str(stamp(renewed.ExpiresAt)), ":id": str(old.ID),
			":ttl": num(renewed.ExpiresAt.Add(tokenTTLAfterExpiry).Unix())},
	}})
	t.add("old tokens", s.deleteTokens(old)...)
	if err := s.addInvitationEntries(&t, &old, &renewed); err != nil {
		return err
	}
	return s.changed(ctx, t, e, "resend invitation "+old.ID)
}

// Revoke ends a pending invitation: its token and pending guard go, and the
// invitation itself is kept until expireAt (TTL) for the record.
func (s *Store) Revoke(ctx context.Context, inv invite.Invitation, at, expireAt time.Time, e audit.Entry) error {
	update, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("status"), expression.Value(invite.Revoked)).
			Set(expression.Name(attrGSI1PK), expression.Value(invitesByStatus(inv.OrgID, string(invite.Revoked)))).
			Set(expression.Name("revokedAt"), expression.Value(stamp(at))).
			Set(expression.Name(attrTTL), expression.Value(expireAt.Unix())).
			Remove(expression.Name("nextDeliveryAt")).Remove(expression.Name("retryMail")).
			Remove(expression.Name(attrDuePK)).Remove(expression.Name(attrDueSK))).
		WithCondition(expression.Name("status").Equal(expression.Value(invite.Pending)).
			And(expression.Name("tokenHash").Equal(expression.Value(inv.TokenHash))).
			And(sameReminderToken(inv))).
		Build()
	if err != nil {
		return fmt.Errorf("build revoke expression: %w", err)
	}
	var t txn
	t.add("invitation", s.updateItem(key{orgPK(inv.OrgID), inviteSK(inv.ID)}, update))
	t.add("tokens", s.deleteTokens(inv)...)
	revoked := inv
	revoked.Status, revoked.RevokedAt, revoked.NextDeliveryAt, revoked.RetryMail = invite.Revoked, &at, nil, ""
	if err := s.addInvitationEntries(&t, &inv, &revoked); err != nil {
		return err
	}
	return s.ending(ctx, inv, t, e, "revoke invitation "+inv.ID)
}

// deleteInvitationAsRead deletes inv if its status is still the one read.
func (s *Store) deleteInvitationAsRead(inv invite.Invitation) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: key{orgPK(inv.OrgID), inviteSK(inv.ID)}.av(),
		ConditionExpression:       aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(string(inv.Status))},
	}}
}

// DeleteInvitation removes an invitation that is over (revoked or expired),
// with whatever token and guard an unswept expired one still holds.
func (s *Store) DeleteInvitation(ctx context.Context, inv invite.Invitation, e audit.Entry) error {
	var t txn
	t.add("invitation", s.deleteInvitationAsRead(inv))
	if err := s.addInvitationEntries(&t, &inv, nil); err != nil {
		return err
	}
	if inv.Status != invite.Pending {
		return s.changed(ctx, t, e, "delete invitation "+inv.ID)
	}
	// Expired, not yet swept: it may still hold its tokens and its guard.
	t.add("tokens", s.deleteTokens(inv)...)
	return s.ending(ctx, inv, t, e, "delete invitation "+inv.ID)
}

// ending runs the transaction that ends a pending invitation (t), with
// the delete of its pending guard and the audit entry. Once an invitation
// has expired, a re-invite may take its guard (see createItems); ending it
// must work all the same, or the sweep would skip it at every run. So the
// guard's delete is conditional on the guard naming inv, and when that
// condition fails the transaction is run again without it: a guard that
// names another invitation never comes back to inv (ids are unique; a
// resend moves only its own invitation's guard). No read is added: the
// second try happens only after a takeover.
func (s *Store) ending(ctx context.Context, inv invite.Invitation, t txn, e audit.Entry, what string) error {
	t = t.clone()
	s.holders(&t, inv.OrgID, inv.Role, 0, -1)
	all := t.clone()
	all.add(guardItemName, s.deleteGuard(inv))
	if err := s.withAudit(&all, e); err != nil {
		return err
	}
	err := s.transact(ctx, all)
	if all.failed(err, guardItemName) {
		all = t.clone()
		if err := s.withAudit(&all, e); err != nil {
			return err
		}
		err = s.transact(ctx, all)
	}
	return s.conditionalResult(all, err, what)
}

// deleteGuard frees the email's pending guard if this invitation holds it.
func (s *Store) deleteGuard(inv invite.Invitation) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: key{orgPK(inv.OrgID), pendingSK(inv.Email)}.av(),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR invitationId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(inv.ID)},
	}}
}

// changed runs a state-changing transaction with its audit entry; a failed
// condition means the invitation changed meanwhile (Conflict).
func (s *Store) changed(ctx context.Context, t txn, e audit.Entry, what string) error {
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	return s.conditional(ctx, t, what)
}

// conditional runs a transaction of an invitation's change; a failed
// condition means the invitation changed meanwhile (Conflict).
func (s *Store) conditional(ctx context.Context, t txn, what string) error {
	return s.conditionalResult(t, s.transact(ctx, t), what)
}

// conditionalResult maps the outcome of such a transaction, t: any of its
// conditions failing is a change meanwhile.
func (s *Store) conditionalResult(t txn, err error, what string) error {
	for _, name := range t.failedItems(err) {
		if role, ok := strings.CutPrefix(name, roleItem("")); ok {
			return roleGone(role)
		}
	}
	if len(t.failedItems(err)) > 0 {
		return fault.New(fault.Conflict, "the invitation changed meanwhile; reload it")
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// AddMember records an invitation that was accepted at once (the invitee
// already had an account) and adds the membership, with the lookup of the
// leave link's token when the email goes out now, in one transaction.
func (s *Store) AddMember(ctx context.Context, inv invite.Invitation, m org.Member, e audit.Entry) error {
	invItem, err := invitationItem(inv)
	if err != nil {
		return err
	}
	member, err := item(key{orgPK(m.OrgID), memberSK(m.UserID)}, "member", m, map[string]types.AttributeValue{
		attrGSI1PK: str(userPK(m.UserID)), attrGSI1SK: str(orgPK(m.OrgID)),
	})
	if err != nil {
		return err
	}
	var t txn
	t.add(memberItem, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: member, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	t.add("invitation", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: invItem, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	s.joinUnits(&t, m.OrgID, m.Units)
	if m.IsOrgWideAdmin() {
		t.add(adminsItem, s.adminCount(m.OrgID, 1))
	}
	s.holders(&t, m.OrgID, m.Role, 1, 0)
	t.add("account", s.accountExists(m.UserID))
	if err := s.addInvitationEntries(&t, nil, &inv); err != nil {
		return err
	}
	if err := s.addMemberEntries(&t, nil, &m); err != nil {
		return err
	}
	if p, err := s.profileFromInvitation(inv, m.UserID, m.JoinedAt); err != nil {
		return err
	} else if p != nil {
		t.add("monitoring", *p)
	}
	if inv.LeaveTokenHash != "" {
		leave, err := s.putLeaveToken(inv)
		if err != nil {
			return err
		}
		t.add("leave token", leave)
	}
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	if err := missingUnits(t, err, m.Units); err != nil {
		return err
	}
	if err := missingRole(t, err, m.Role); err != nil {
		return err
	}
	if t.failed(err, memberItem) {
		return fault.New(fault.Conflict, "this person is already a member of the organisation")
	}
	if t.failed(err, "account") {
		return fault.New(fault.Conflict, "this person's account was erased meanwhile")
	}
	if err != nil {
		return fmt.Errorf("add member %s: %w", m.UserID, err)
	}
	return nil
}

// PendingInvitation returns the invitation pending for an email in an
// organisation (by its guard), or nil.
func (s *Store) PendingInvitation(ctx context.Context, orgID, email string) (*invite.Invitation, error) {
	var g pendingGuard
	found, err := s.get(ctx, key{orgPK(orgID), pendingSK(email)}, &g)
	if err != nil || !found || g.ExpiresAt <= stamp(s.now()) {
		return nil, err
	}
	inv, err := s.Invitation(ctx, orgID, g.InvitationID)
	if fault.CodeOf(err) == fault.NotFound {
		return nil, nil
	}
	if err != nil || inv.Status != invite.Pending {
		return nil, err
	}
	return &inv, nil
}

// UpdatePendingInvitation stores new details (names, phone, language, role,
// units, monitoring profile) of a pending invitation, if it is still
// pending under the same token.
func (s *Store) UpdatePendingInvitation(ctx context.Context, old, updated invite.Invitation, e audit.Entry) error {
	u := expression.Set(expression.Name("firstName"), expression.Value(updated.FirstName)).
		Set(expression.Name("lastName"), expression.Value(updated.LastName)).
		Set(expression.Name("phone"), expression.Value(updated.Phone)).
		Set(expression.Name("language"), expression.Value(updated.Language)).
		Set(expression.Name("role"), expression.Value(updated.Role)).
		Set(expression.Name("units"), expression.Value(updated.Units))
	if updated.Attributes != nil {
		u = u.Set(expression.Name("attributes"), expression.Value(updated.Attributes))
	}
	if updated.Profile != nil {
		p, err := attributevalue.MarshalMap(updated.Profile)
		if err != nil {
			return fmt.Errorf("marshal profile: %w", err)
		}
		u = u.Set(expression.Name("profile"), expression.Value(&types.AttributeValueMemberM{Value: p}))
	} else {
		u = u.Remove(expression.Name("profile"))
	}
	expr, err := expression.NewBuilder().WithUpdate(u).
		WithCondition(expression.Name("status").Equal(expression.Value(invite.Pending)).
			And(expression.Name("tokenHash").Equal(expression.Value(old.TokenHash))).
			And(expression.Name("role").Equal(expression.Value(old.Role)))).Build()
	if err != nil {
		return fmt.Errorf("build invitation update: %w", err)
	}
	var t txn
	t.add("invitation", s.updateItem(key{orgPK(old.OrgID), inviteSK(old.ID)}, expr))
	s.joinUnits(&t, old.OrgID, updated.Units)
	s.moveHolder(&t, old.OrgID, old.Role, updated.Role, false)
	if err := s.addInvitationEntries(&t, &old, &updated); err != nil {
		return err
	}
	return s.changed(ctx, t, e, "update invitation "+old.ID)
}

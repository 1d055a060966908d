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

	"onboarding/shared/fault"
	"onboarding/shared/invite"
)

// tokenTTLAfterExpiry is how long a token item outlives its invitation's
// expiry at most. A sweep deletes tokens when the invitation ends; the TTL
// only collects any a failure left behind.
const tokenTTLAfterExpiry = 7 * 24 * time.Hour

// tokenItem is the lookup from a token hash to its invitation.
func tokenItem(hash string, inv invite.Invitation) (map[string]types.AttributeValue, error) {
	return item(key{tokenPK(hash), skInvite}, "token", tokenLookup{OrgID: inv.OrgID, InvitationID: inv.ID},
		map[string]types.AttributeValue{attrTTL: num(inv.ExpiresAt.Add(tokenTTLAfterExpiry).Unix())})
}

// dueKeys are the Due index keys of an invitation: its next due time, or
// none when nothing will be due (it then leaves the index).
func dueKeys(inv invite.Invitation) (pk, sk string, ok bool) {
	at, ok := inv.NextDue()
	if !ok {
		return "", "", false
	}
	return duePK(at), dueSK(at, inv.OrgID, inv.ID), true
}

// setDue sets inv's Due index keys in an update, or removes them.
func setDue(u expression.UpdateBuilder, inv invite.Invitation) expression.UpdateBuilder {
	if pk, sk, ok := dueKeys(inv); ok {
		return u.Set(expression.Name(attrDuePK), expression.Value(pk)).Set(expression.Name(attrDueSK), expression.Value(sk))
	}
	return u.Remove(expression.Name(attrDuePK)).Remove(expression.Name(attrDueSK))
}

// setTime sets an optional time attribute, or removes it when t is nil.
func setTime(u expression.UpdateBuilder, name string, t *time.Time) expression.UpdateBuilder {
	if t == nil {
		return u.Remove(expression.Name(name))
	}
	return u.Set(expression.Name(name), expression.Value(stamp(*t)))
}

// setString sets an optional string attribute, or removes it when empty.
func setString(u expression.UpdateBuilder, name, v string) expression.UpdateBuilder {
	if v == "" {
		return u.Remove(expression.Name(name))
	}
	return u.Set(expression.Name(name), expression.Value(v))
}

// setDelivery writes the delivery state of inv and its place in the index.
func setDelivery(u expression.UpdateBuilder, inv invite.Invitation) expression.UpdateBuilder {
	u = u.Set(expression.Name("deliveryStatus"), expression.Value(inv.DeliveryStatus)).
		Set(expression.Name("deliveryAttempts"), expression.Value(inv.DeliveryAttempts))
	u = setString(u, "retryMail", inv.RetryMail)
	u = setTime(u, "nextDeliveryAt", inv.NextDeliveryAt)
	return setDue(u, inv)
}

// setEntryDelivery is setDelivery for a search entry: the delivery fields
// a list shows, never the due keys (an entry must not be found by the
// sweep).
func setEntryDelivery(inv invite.Invitation) expression.UpdateBuilder {
	u := expression.Set(expression.Name("deliveryStatus"), expression.Value(inv.DeliveryStatus)).
		Set(expression.Name("deliveryAttempts"), expression.Value(inv.DeliveryAttempts))
	return setTime(u, "nextDeliveryAt", inv.NextDeliveryAt)
}

// asSeen is the condition that an invitation is as a sweep read it: same
// status, same tokens, due at the same time. Every change since moves at
// least one of these.
func asSeen(inv invite.Invitation) expression.ConditionBuilder {
	c := expression.Name("status").Equal(expression.Value(inv.Status)).
		And(expression.Name("tokenHash").Equal(expression.Value(inv.TokenHash)))
	if inv.ReminderTokenHash == "" {
		c = c.And(expression.AttributeNotExists(expression.Name("reminderTokenHash")))
	} else {
		c = c.And(expression.Name("reminderTokenHash").Equal(expression.Value(inv.ReminderTokenHash)))
	}
	if _, sk, ok := dueKeys(inv); ok {
		c = c.And(expression.Name(attrDueSK).Equal(expression.Value(sk)))
	} else {
		c = c.And(expression.AttributeNotExists(expression.Name(attrDueSK)))
	}
	return c
}

// deleteTokens deletes the token items of inv (the invitation's and the
// reminder's).
func (s *Store) deleteTokens(inv invite.Invitation) []types.TransactWriteItem {
	var items []types.TransactWriteItem
	for _, h := range []string{inv.TokenHash, inv.ReminderTokenHash} {
		if h != "" {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{tokenPK(h), skInvite}.av()}})
		}
	}
	return items
}

// RecordDelivery stores how sending an email about inv went, if inv is still
// in the status and under the token it was sent with.
func (s *Store) RecordDelivery(ctx context.Context, inv invite.Invitation) error {
	expr, err := expression.NewBuilder().WithUpdate(setDelivery(expression.UpdateBuilder{}, inv)).
		WithCondition(expression.Name("status").Equal(expression.Value(inv.Status)).
			And(expression.Name("tokenHash").Equal(expression.Value(inv.TokenHash)))).Build()
	if err != nil {
		return fmt.Errorf("build delivery update: %w", err)
	}
	// A transaction, not an UpdateItem: the search entries show the
	// delivery state too. inv is the sender's copy, not the item as read,
	// so the entries get the delivery fields only (whatever else they
	// hold is the latest write's), under the terms inv has, which the
	// invitation must still have.
	entryExpr, err := expression.NewBuilder().WithUpdate(setEntryDelivery(inv)).
		WithCondition(expression.AttributeExists(expression.Name(attrPK))).Build()
	if err != nil {
		return fmt.Errorf("build delivery update: %w", err)
	}
	var t txn
	t.add("invitation", s.updateItem(key{orgPK(inv.OrgID), inviteSK(inv.ID)}, expr))
	if err := guardOwner(&t, key{orgPK(inv.OrgID), inviteSK(inv.ID)}, inv, nil, unshown); err != nil {
		return err
	}
	for _, term := range invitationTerms(&inv) {
		t.add(entryOwner, s.updateItem(key{searchPK(inv.OrgID, kindInvitations), searchSK(term, inv.ID)}, entryExpr))
	}
	err = s.transact(ctx, t)
	if len(t.failedItems(err)) > 0 {
		return fault.New(fault.Conflict, "the invitation changed meanwhile")
	}
	if err != nil {
		return fmt.Errorf("record delivery of invitation %s: %w", inv.ID, err)
	}
	return nil
}

type sweepState struct {
	From string `dynamodbav:"from"`
}

// SweepCheckpoint returns the first day whose due bucket may hold anything,
// or zero when no sweep has run.
func (s *Store) SweepCheckpoint(ctx context.Context) (time.Time, error) {
	var st sweepState
	found, err := s.get(ctx, key{pkSweep, skState}, &st)
	if err != nil || !found {
		return time.Time{}, err
	}
	t, err := time.Parse(time.DateOnly, st.From)
	if err != nil {
		return time.Time{}, fmt.Errorf("sweep checkpoint %q: %w", st.From, err)
	}
	return t, nil
}

// SaveSweepCheckpoint moves the checkpoint forward (never back).
func (s *Store) SaveSweepCheckpoint(ctx context.Context, d time.Time) error {
	return s.moveSweepCheckpoint(ctx, d, "attribute_not_exists(#f) OR #f < :f")
}

// moveSweepCheckpoint sets the checkpoint to d's day where condition holds
// (a condition that fails leaves it as it is).
func (s *Store) moveSweepCheckpoint(ctx context.Context, d time.Time, condition string) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key{pkSweep, skState}.av(),
		UpdateExpression:          aws.String("SET #f = :f, #t = :t"),
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeNames:  map[string]string{"#f": "from", "#t": attrType},
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": str(d.UTC().Format(time.DateOnly)), ":t": str("sweepState")},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("move sweep checkpoint: %w", err)
	}
	return nil
}

// duePageSize is how many due items one Query returns at most.
const duePageSize = 100

// Due returns one page of the invitations and digests in day's bucket that
// are due at now. The index projects whole items, so nothing is read twice.
func (s *Store) Due(ctx context.Context, d, now time.Time, cursor string) (invite.DuePage, error) {
	pk := duePK(d)
	start, err := decodeCursor(cursor, map[string]string{attrDuePK: pk}, map[string]string{attrPK: "", attrSK: "", attrDueSK: ""})
	if err != nil {
		return invite.DuePage{}, err
	}
	// Every item due at or before now's second sorts below this.
	below := dueBy(now)
	if sk, _ := start[attrDueSK].(*types.AttributeValueMemberS); sk != nil && sk.Value >= below {
		return invite.DuePage{}, fault.BadCursor()
	}
	kc := expression.Key(attrDuePK).Equal(expression.Value(pk)).And(expression.Key(attrDueSK).LessThan(expression.Value(below)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return invite.DuePage{}, fmt.Errorf("build due query: %w", err)
	}
	res, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(IndexDue), Limit: aws.Int32(duePageSize), ExclusiveStartKey: start,
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return invite.DuePage{}, fmt.Errorf("query %s: %w", pk, err)
	}
	var page invite.DuePage
	for _, it := range res.Items {
		typ, _ := it[attrType].(*types.AttributeValueMemberS)
		switch {
		case typ != nil && typ.Value == "invitation":
			var inv invite.Invitation
			if err := attributevalue.UnmarshalMap(it, &inv); err != nil {
				return page, fmt.Errorf("unmarshal due invitation: %w", err)
			}
			page.Invitations = append(page.Invitations, inv)
		case typ != nil && typ.Value == "digest":
			var dg invite.Digest
			if err := attributevalue.UnmarshalMap(it, &dg); err != nil {
				return page, fmt.Errorf("unmarshal due digest: %w", err)
			}
			page.Digests = append(page.Digests, dg)
		}
	}
	page.Next, err = encodeCursor(res.LastEvaluatedKey)
	return page, err
}

// Expire marks a pending invitation expired in one transaction: the
// invitation (kept until x.KeepUntil by TTL, out of the Due index), its
// tokens deleted, its pending guard too unless a re-invite has taken it,
// the audit entry, and the invitation added to its inviter's digest.
func (s *Store) Expire(ctx context.Context, inv invite.Invitation, x invite.Expiry) error {
	u := expression.Set(expression.Name("status"), expression.Value(invite.Expired)).
		Set(expression.Name(attrGSI1PK), expression.Value(invitesByStatus(inv.OrgID, string(invite.Expired)))).
		Set(expression.Name("expiredAt"), expression.Value(stamp(x.At))).
		Set(expression.Name(attrTTL), expression.Value(x.KeepUntil.Unix())).
		Remove(expression.Name("nextDeliveryAt")).Remove(expression.Name("retryMail")).
		Remove(expression.Name(attrDuePK)).Remove(expression.Name(attrDueSK))
	expr, err := expression.NewBuilder().WithUpdate(u).
		WithCondition(asSeen(inv).And(expression.Name("expiresAt").LessThanEqual(expression.Value(stamp(x.At))))).Build()
	if err != nil {
		return fmt.Errorf("build expire expression: %w", err)
	}
	var t txn
	t.add("invitation", s.updateItem(key{orgPK(inv.OrgID), inviteSK(inv.ID)}, expr))
	t.add("tokens", s.deleteTokens(inv)...)
	expired := inv
	expired.Status, expired.ExpiredAt, expired.NextDeliveryAt, expired.RetryMail = invite.Expired, &x.At, nil, ""
	if err := s.addInvitationEntries(&t, &inv, &expired); err != nil {
		return err
	}
	if x.Digest != nil {
		add, err := s.addToDigest(*x.Digest, x.Entry, x.KeepUntil)
		if err != nil {
			return err
		}
		t.add("digest", add...)
	}
	return s.ending(ctx, inv, t, x.Audit, "expire invitation "+inv.ID)
}

// addToDigest is what adds one expired invitation to a digest: a small item
// for the entry, and an update of the digest that counts it and creates the
// digest (due at d.DueAt) if it is new. The digest item stays small, so each
// addition costs the same.
func (s *Store) addToDigest(d invite.Digest, e invite.DigestEntry, keepUntil time.Time) ([]types.TransactWriteItem, error) {
	u := expression.Set(expression.Name("orgId"), expression.Value(d.OrgID)).
		Set(expression.Name("adminId"), expression.Value(d.AdminID)).
		Set(expression.Name("digestId"), expression.Value(d.ID)).
		Set(expression.Name("dueAt"), expression.IfNotExists(expression.Name("dueAt"), expression.Value(stamp(d.DueAt)))).
		Set(expression.Name("attempts"), expression.IfNotExists(expression.Name("attempts"), expression.Value(d.Attempts))).
		Set(expression.Name(attrType), expression.Value("digest")).
		Set(expression.Name(attrDuePK), expression.IfNotExists(expression.Name(attrDuePK), expression.Value(duePK(d.DueAt)))).
		Set(expression.Name(attrDueSK), expression.IfNotExists(expression.Name(attrDueSK), expression.Value(digestDueSK(d)))).
		Set(expression.Name(attrTTL), expression.Value(keepUntil.Unix())).
		Add(expression.Name("total"), expression.Value(1))
	expr, err := expression.NewBuilder().WithUpdate(u).Build()
	if err != nil {
		return nil, fmt.Errorf("build digest update: %w", err)
	}
	entry, err := item(digestEntryKey(d, e.InvitationID), "digestEntry", e,
		map[string]types.AttributeValue{attrTTL: num(keepUntil.Unix())})
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{
		s.updateItem(digestKey(d), expr),
		{Put: &types.Put{TableName: &s.table, Item: entry}},
	}, nil
}

// digestEntries reads a digest's entries.
func (s *Store) digestEntries(ctx context.Context, d invite.Digest) ([]invite.DigestEntry, error) {
	var out []invite.DigestEntry
	var start map[string]types.AttributeValue
	for {
		res, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
			KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(orgPK(d.OrgID)), ":prefix": str(digestEntryKey(d, "").SK),
			},
		})
		if err != nil {
			return nil, fmt.Errorf("query entries of digest %s: %w", d.ID, err)
		}
		var page []invite.DigestEntry
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &page); err != nil {
			return nil, fmt.Errorf("unmarshal digest entries: %w", err)
		}
		out = append(out, page...)
		if start = res.LastEvaluatedKey; start == nil {
			return out, nil
		}
	}
}

// ClaimMail stores claimed in place of seen before an email goes out: the
// new tokens (the old ones deleted; for the added email, its leave token),
// the attempt and the lease, all or nothing, if the invitation is still as
// seen.
func (s *Store) ClaimMail(ctx context.Context, seen, claimed invite.Invitation) error {
	u := expression.Set(expression.Name("tokenHash"), expression.Value(claimed.TokenHash))
	u = setString(u, "reminderTokenHash", claimed.ReminderTokenHash)
	u = setTime(u, "remindedAt", claimed.RemindedAt)
	u = setString(u, "leaveTokenHash", claimed.LeaveTokenHash)
	u = setTime(u, "leaveExpiresAt", claimed.LeaveExpiresAt)
	u = setDelivery(u, claimed)
	expr, err := expression.NewBuilder().WithUpdate(u).WithCondition(asSeen(seen)).Build()
	if err != nil {
		return fmt.Errorf("build claim expression: %w", err)
	}
	var t txn
	t.add("invitation", s.updateItem(key{orgPK(seen.OrgID), inviteSK(seen.ID)}, expr))
	for _, pair := range [][2]string{{seen.TokenHash, claimed.TokenHash}, {seen.ReminderTokenHash, claimed.ReminderTokenHash}} {
		old, renewed := pair[0], pair[1]
		if old == renewed {
			continue
		}
		if old != "" {
			t.add("old token", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{tokenPK(old), skInvite}.av()}})
		}
		tok, err := tokenItem(renewed, claimed)
		if err != nil {
			return err
		}
		t.add("token", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: tok,
			ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	if seen.LeaveTokenHash != claimed.LeaveTokenHash {
		if seen.LeaveTokenHash != "" {
			t.add("old leave token", s.deleteLeaveToken(seen.LeaveTokenHash))
		}
		if claimed.LeaveTokenHash != "" {
			put, err := s.putLeaveToken(claimed)
			if err != nil {
				return err
			}
			t.add("leave token", put)
		}
	}
	if err := s.addInvitationEntries(&t, &seen, &claimed); err != nil {
		return err
	}
	return s.conditional(ctx, t, "claim email of invitation "+seen.ID)
}

// ClaimDigest holds a digest until until if it is still due as seen, counts
// the try in its attempts (before it is sent, so a try that never comes
// back counts too), and returns it as stored, with its entries.
func (s *Store) ClaimDigest(ctx context.Context, seen invite.Digest, until time.Time) (invite.Digest, error) {
	claimed := seen
	claimed.DueAt = until
	res, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: digestKey(seen).av(),
		UpdateExpression:    aws.String("SET dueAt = :until, DuePK = :pk, DueSK = :sk ADD attempts :one"),
		ConditionExpression: aws.String("DueSK = :seen"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": str(stamp(until)), ":pk": str(duePK(until)), ":sk": str(digestDueSK(claimed)), ":seen": str(digestDueSK(seen)),
			":one": num(1),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return invite.Digest{}, fault.New(fault.Conflict, "the digest was claimed meanwhile")
	}
	if err != nil {
		return invite.Digest{}, fmt.Errorf("claim digest %s: %w", seen.ID, err)
	}
	var d invite.Digest
	if err := attributevalue.UnmarshalMap(res.Attributes, &d); err != nil {
		return d, fmt.Errorf("unmarshal digest: %w", err)
	}
	d.Entries, err = s.digestEntries(ctx, d)
	return d, err
}

// DigestSent deletes a digest that went out, and its entries, 25 a request;
// the digest item goes last, so a failure part way leaves it to be found.
func (s *Store) DigestSent(ctx context.Context, d invite.Digest) error {
	var dels []types.WriteRequest
	for _, e := range d.Entries {
		dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: digestEntryKey(d, e.InvitationID).av()}})
	}
	dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: digestKey(d).av()}})
	for i := 0; i < len(dels); i += 25 {
		if err := batchWrite(ctx, s.client, s.table, dels[i:min(i+25, len(dels))]); err != nil {
			return fmt.Errorf("delete digest %s: %w", d.ID, err)
		}
	}
	return nil
}

// DigestFailed stores a digest's attempts and makes it due at d.DueAt.
func (s *Store) DigestFailed(ctx context.Context, d invite.Digest) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: digestKey(d).av(),
		UpdateExpression:    aws.String("SET attempts = :n, dueAt = :at, DuePK = :pk, DueSK = :sk"),
		ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": num(int64(d.Attempts)), ":at": str(stamp(d.DueAt)), ":pk": str(duePK(d.DueAt)), ":sk": str(digestDueSK(d)),
		},
	})
	if err != nil {
		return fmt.Errorf("record failed digest %s: %w", d.ID, err)
	}
	return nil
}

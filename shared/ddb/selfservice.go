package ddb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/account"
	"onboarding/shared/fault"
	"onboarding/shared/org"
	"onboarding/shared/selfservice"
)

// profileItem names the account in the self-service transactions.
const profileItem = "profile"

// memberNames is the Update of the copies a membership keeps of its
// person's names and phone, and memberEmail of their address: each only if
// the membership is still there, and each touching only its own fields, so
// a profile change and an address change made at once both hold.
func (s *Store) memberNames(m org.Member) types.TransactWriteItem {
	u := &types.Update{
		TableName: &s.table, Key: key{orgPK(m.OrgID), memberSK(m.UserID)}.av(),
		UpdateExpression:          aws.String("SET firstName = :f, lastName = :l REMOVE phone"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": str(m.FirstName), ":l": str(m.LastName)},
	}
	if m.Phone != "" {
		u.UpdateExpression = aws.String("SET firstName = :f, lastName = :l, phone = :p")
		u.ExpressionAttributeValues[":p"] = str(m.Phone)
	}
	return types.TransactWriteItem{Update: u}
}

func (s *Store) memberEmail(m org.Member) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{orgPK(m.OrgID), memberSK(m.UserID)}.av(),
		UpdateExpression:          aws.String("SET email = :e"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": str(m.Email)},
	}}
}

// transactWithMembers runs t with the membership copies of ms (update makes
// each update) and returns
// t as sent; what does not fit in one transaction (more than 100 items, so
// people in some 95 organisations or more) follows in further transactions
// of memberships only, after t has been made: the account is the truth, and
// a copy a failure left behind is written again by the next change of the
// profile. A membership ended meanwhile is a Conflict.
//
// Each membership's search entries move with it: the memberships are read
// as they stand (one BatchGetItem per 100) for the terms to move from, and
// each update is conditional on those terms, so a change made meanwhile is a
// Conflict instead of an entry left behind.
func (s *Store) transactWithMembers(ctx context.Context, t txn, ms []org.Member, update func(org.Member) types.TransactWriteItem, apply func(current, changed org.Member) org.Member, what string) (txn, error) {
	writes, err := s.memberCopyWrites(ctx, ms, update, apply)
	if err != nil {
		return t, err
	}
	rest := writes
	for len(rest) > 0 && len(t.items)+len(rest[0]) <= maxTransactItems {
		t.add(memberItem, rest[0][0])
		t.add(entryOwner, rest[0][1:]...)
		rest = rest[1:]
	}
	sent, err := t, s.transact(ctx, t)
	for err == nil && len(rest) > 0 {
		var more txn
		for len(rest) > 0 && len(more.items)+len(rest[0]) <= maxTransactItems {
			more.add(memberItem, rest[0][0])
			more.add(entryOwner, rest[0][1:]...)
			rest = rest[1:]
		}
		t, err = more, s.transact(ctx, more)
	}
	if failed := t.failedItems(err); len(failed) > 0 && !slices.ContainsFunc(failed, func(n string) bool { return n != memberItem }) {
		return sent, fault.New(fault.Conflict, "your memberships changed meanwhile; try again")
	}
	if err != nil && len(t.failedItems(err)) == 0 {
		return sent, fmt.Errorf("%s: %w", what, err)
	}
	return sent, err
}

// memberCopyWrites are, per membership still there, its update (first),
// conditional on its terms as read, then its search entries' writes.
func (s *Store) memberCopyWrites(ctx context.Context, ms []org.Member, update func(org.Member) types.TransactWriteItem, apply func(current, changed org.Member) org.Member) ([][]types.TransactWriteItem, error) {
	keys := make([]key, len(ms))
	for i, m := range ms {
		keys[i] = key{orgPK(m.OrgID), memberSK(m.UserID)}
	}
	items, err := s.batchGetAll(ctx, keys)
	if err != nil {
		return nil, err
	}
	var out [][]types.TransactWriteItem
	for i, m := range ms {
		it, ok := items[keys[i].PK+"|"+keys[i].SK]
		if !ok {
			continue // ended meanwhile: nothing to copy to
		}
		var current org.Member
		if err := attributevalue.UnmarshalMap(it, &current); err != nil {
			return nil, fmt.Errorf("unmarshal member: %w", err)
		}
		changed := apply(current, m)
		u := update(m)
		u.Update.ConditionExpression = nil
		entries, err := s.memberEntries(&current, &changed)
		if err != nil {
			return nil, err
		}
		// The update holds only if the member is as read: its entries are
		// written from that.
		var t txn
		t.add(memberItem, u)
		if err := guardOwner(&t, keys[i], current, &changed, memberUnshown); err != nil {
			return nil, err
		}
		out = append(out, append(t.items, entries...))
	}
	return out, nil
}

// withNames and withEmail are what memberNames and memberEmail change.
func withNames(current, changed org.Member) org.Member {
	current.FirstName, current.LastName, current.Phone = changed.FirstName, changed.LastName, changed.Phone
	return current
}

func withEmail(current, changed org.Member) org.Member {
	current.Email = changed.Email
	return current
}

// UpdateProfile writes a's names, phone and language, and ms's copies of
// them: one transaction (see transactWithMembers).
func (s *Store) UpdateProfile(ctx context.Context, a account.Account, ms []org.Member) error {
	u := &types.Update{
		TableName: &s.table, Key: key{userPK(a.UserID), skProfile}.av(),
		UpdateExpression:          aws.String("SET firstName = :f, lastName = :l, #lang = :lang REMOVE phone"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#lang": "language"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": str(a.FirstName), ":l": str(a.LastName), ":lang": str(a.Language)},
	}
	if a.Phone != "" {
		u.UpdateExpression = aws.String("SET firstName = :f, lastName = :l, #lang = :lang, phone = :p")
		u.ExpressionAttributeValues[":p"] = str(a.Phone)
	}
	var t txn
	t.add(profileItem, types.TransactWriteItem{Update: u})
	t, err := s.transactWithMembers(ctx, t, ms, s.memberNames, withNames, "update profile of "+a.UserID)
	if t.failed(err, profileItem) {
		return fault.New(fault.Unauthorized, "the account no longer exists")
	}
	return err
}

// SetPasswordHash replaces the account's password hash if it is still old.
func (s *Store) SetPasswordHash(ctx context.Context, userID, old, updated string) error {
	var t txn
	t.add(profileItem, types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{userPK(userID), skProfile}.av(),
		UpdateExpression:          aws.String("SET passwordHash = :new"),
		ConditionExpression:       aws.String("passwordHash = :old"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":new": str(updated), ":old": str(old)},
	}})
	err := s.transact(ctx, t)
	if t.failed(err, profileItem) {
		return fault.New(fault.Conflict, "the password was changed meanwhile; sign in again")
	}
	if err != nil {
		return fmt.Errorf("set password of %s: %w", userID, err)
	}
	return nil
}

// PutEmailChange stores a pending email change under its token's hash;
// DynamoDB's TTL collects it a day after it expires.
func (s *Store) PutEmailChange(ctx context.Context, hash string, c selfservice.EmailChange) error {
	it, err := item(emailChangeKey(hash), "emailChange", c,
		map[string]types.AttributeValue{attrTTL: num(c.ExpiresAt.Add(24 * time.Hour).Unix())})
	if err != nil {
		return err
	}
	var t txn
	t.add(emailChangeItem, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	if err := s.transact(ctx, t); err != nil {
		return fmt.Errorf("put email change: %w", err)
	}
	return nil
}

// EmailChange reads the pending email change whose token hashes to hash.
func (s *Store) EmailChange(ctx context.Context, hash string) (selfservice.EmailChange, error) {
	var c selfservice.EmailChange
	found, err := s.get(ctx, emailChangeKey(hash), &c)
	if err != nil {
		return c, err
	}
	if !found {
		return c, errNotFound
	}
	return c, nil
}

// The items of an email change's transaction.
const (
	emailChangeItem = "email change"
	newEmailItem    = "new email"
	oldEmailItem    = "old email"
)

// ChangeEmail makes c in one transaction: the token deleted (if unexpired
// at `at`), the old address's guard deleted (if still the account's), the
// new one's put (if no account has it), the account's email (if still the
// old one and its password hash still passwordHash) and every membership's
// copy of it.
func (s *Store) ChangeEmail(ctx context.Context, hash string, c selfservice.EmailChange, passwordHash string, ms []org.Member, at time.Time) error {
	guard, err := item(key{emailPK(c.NewEmail), skAccount}, "emailGuard", emailGuard{UserID: c.UserID}, nil)
	if err != nil {
		return err
	}
	var t txn
	t.add(emailChangeItem, types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: emailChangeKey(hash).av(),
		ConditionExpression:       aws.String("attribute_exists(PK) AND expiresAt > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": str(stamp(at))},
	}})
	t.add(newEmailItem, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: guard,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	t.add(oldEmailItem, types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: key{emailPK(c.OldEmail), skAccount}.av(),
		ConditionExpression:       aws.String("userId = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": str(c.UserID)},
	}})
	t.add(profileItem, types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{userPK(c.UserID), skProfile}.av(),
		UpdateExpression:          aws.String("SET email = :new"),
		ConditionExpression:       aws.String("email = :old AND passwordHash = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":new": str(c.NewEmail), ":old": str(c.OldEmail), ":h": str(passwordHash)},
	}})
	t, err = s.transactWithMembers(ctx, t, ms, s.memberEmail, withEmail, "change email of "+c.UserID)
	switch {
	case t.failed(err, emailChangeItem) || t.failed(err, oldEmailItem) || t.failed(err, profileItem):
		return errNotFound // used, expired, or the account's address or password changed since
	case t.failed(err, newEmailItem):
		return fault.New(fault.Conflict, "another account has this email address now")
	}
	return err
}

// MoveInvitations gives every invitation found by from in InviteeIndex the
// index key of to, if it still has from's (one UpdateItem each), so that
// export and erasure find it by the person's current address. The
// invitation's email stays the address it was sent to.
func (s *Store) MoveInvitations(ctx context.Context, from, to string) error {
	keys, err := s.inviteeKeys(ctx, from)
	if err != nil {
		return err
	}
	for _, k := range keys {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: k.av(),
			UpdateExpression:          aws.String("SET #ipk = :to"),
			ConditionExpression:       aws.String("#ipk = :from"),
			ExpressionAttributeNames:  map[string]string{"#ipk": attrInviteePK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":to": str(inviteePK(to)), ":from": str(inviteePK(from))},
		})
		if err != nil && !isConditionFailed(err) { // deleted or moved meanwhile: nothing to do
			return fmt.Errorf("move invitation %s: %w", k.SK, err)
		}
	}
	return nil
}

package ddb

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/search"
)

// Search entries: one item per folded term (email, first name, last name)
// of each member and invitation, under the organisation's partition of its
// kind (searchPK), sort key <term>#<id> (searchSK), carrying what the list
// answers with and the person's terms (attrTerms). A search page is one
// Query with begins_with and no follow-up reads. Every write that creates,
// changes or deletes a member or an invitation puts or deletes its entries
// in the same transaction (memberEntries, invitationEntries).

const (
	kindMembers     = "MEMBERS"
	kindInvitations = "INVITES"
	attrTerms       = "terms"
	typeSearchEntry = "searchEntry"
)

// entryOwner names the entries' items in transactions: they carry no
// condition of their own (the member's or invitation's item does), so no
// cancellation blames them.
const entryOwner = "search entry"

// entriesDiff is the writes that move id's entries from the terms of old to
// those of updated (either may be nil: created, or deleted): a Put of each
// of updated's terms (the projection changes with every write) and a Delete
// of each old term no longer there.
func (s *Store) entriesDiff(orgID, kind, id string, oldTerms, newTerms []string, projection map[string]types.AttributeValue) []types.TransactWriteItem {
	var out []types.TransactWriteItem
	for _, term := range oldTerms {
		if !slices.Contains(newTerms, term) {
			out = append(out, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{searchPK(orgID, kind), searchSK(term, id)}.av()}})
		}
	}
	if len(newTerms) == 0 {
		return out
	}
	terms := make([]string, len(newTerms))
	copy(terms, newTerms)
	for _, term := range newTerms {
		it := map[string]types.AttributeValue{}
		for k, v := range projection {
			it[k] = v
		}
		for k, v := range (key{searchPK(orgID, kind), searchSK(term, id)}).av() {
			it[k] = v
		}
		it[attrType] = str(typeSearchEntry)
		it[attrTerms] = &types.AttributeValueMemberL{Value: strValues(terms)}
		out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it}})
	}
	return out
}

func strValues(ss []string) []types.AttributeValue {
	out := make([]types.AttributeValue, len(ss))
	for i, s := range ss {
		out[i] = str(s)
	}
	return out
}

// copyOf is v as its search entries copy it: marshalled, less
// unshownAttrs.
func copyOf[T any](v T, unshownAttrs []string) (map[string]types.AttributeValue, error) {
	out, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("marshal search entry: %w", err)
	}
	for _, name := range unshownAttrs {
		delete(out, name)
	}
	return out, nil
}

func memberTerms(m *org.Member) []string {
	if m == nil {
		return nil
	}
	return search.Terms(m.Email, m.FirstName, m.LastName)
}

// memberEntries moves a member's entries from old to updated (nil: none).
func (s *Store) memberEntries(old, updated *org.Member) ([]types.TransactWriteItem, error) {
	m := updated
	if m == nil {
		m = old
	}
	var projection map[string]types.AttributeValue
	if updated != nil {
		var err error
		if projection, err = copyOf(*updated, memberUnshown); err != nil {
			return nil, err
		}
	}
	return s.entriesDiff(m.OrgID, kindMembers, m.UserID, memberTerms(old), memberTerms(updated), projection), nil
}

func invitationTerms(inv *invite.Invitation) []string {
	if inv == nil {
		return nil
	}
	return search.Terms(inv.Email, inv.FirstName, inv.LastName)
}

// invitationEntries moves an invitation's entries from old to updated
// (nil: none). Secrets and what no list shows stay out of the copies.
func (s *Store) invitationEntries(old, updated *invite.Invitation) ([]types.TransactWriteItem, error) {
	inv := updated
	if inv == nil {
		inv = old
	}
	var projection map[string]types.AttributeValue
	if updated != nil {
		var err error
		if projection, err = copyOf(*updated, unshown); err != nil {
			return nil, err
		}
	}
	return s.entriesDiff(inv.OrgID, kindInvitations, inv.ID, invitationTerms(old), invitationTerms(updated), projection), nil
}

// unshown are the invitation's attributes no list shows (its secrets
// among them): left out of its entries.
var unshown = []string{"tokenHash", "reminderTokenHash", "leaveTokenHash", "leaveExpiresAt", "message", "profile", "resends", "retryMail", "orgName", "inviterName", "userId"}

// addInvitationEntries adds to t the entries' writes for an invitation
// going from old to updated, and makes t's write of the invitation
// conditional on it being old still (guardCopied).
func (s *Store) addInvitationEntries(t *txn, old, updated *invite.Invitation) error {
	items, err := s.invitationEntries(old, updated)
	if err != nil {
		return err
	}
	if old != nil {
		if err := guardOwner(t, key{orgPK(old.OrgID), inviteSK(old.ID)}, *old, updated, unshown); err != nil {
			return err
		}
	}
	t.add(entryOwner, items...)
	return nil
}

// addMemberEntries adds to t the entries' writes for a member going from
// old to updated, and makes t's write of the member conditional on it
// being old still (guardCopied).
func (s *Store) addMemberEntries(t *txn, old, updated *org.Member) error {
	items, err := s.memberEntries(old, updated)
	if err != nil {
		return err
	}
	if old != nil {
		if err := guardOwner(t, key{orgPK(old.OrgID), memberSK(old.UserID)}, *old, updated, memberUnshown); err != nil {
			return err
		}
	}
	t.add(entryOwner, items...)
	return nil
}

// memberUnshown are the member's attributes its entries leave out.
var memberUnshown = []string{"invitationId"}

// guardOwner finds t's write of the item at k and guards it with old
// (guardCopied); updated nil is a deletion. A transaction without that
// write is a bug: the entries would be written unguarded.
func guardOwner[T any](t *txn, k key, old T, updated *T, unshownAttrs []string) error {
	for i := range t.items {
		if !writes(t.items[i], k) {
			continue
		}
		was, err := copyOf(old, unshownAttrs)
		if err != nil {
			return err
		}
		var copied []string
		if updated != nil {
			copied = attributesOf[T](unshownAttrs)
		}
		guardCopied(&t.items[i], was, copied)
		return nil
	}
	return fmt.Errorf("search entries of %s/%s: the transaction does not write the item", k.PK, k.SK)
}

// attributesOf lists the attributes a T is stored with (its dynamodbav
// names), less those in unshownAttrs.
func attributesOf[T any](unshownAttrs []string) []string {
	var out []string
	rt := reflect.TypeFor[T]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("dynamodbav"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if !slices.Contains(unshownAttrs, name) {
			out = append(out, name)
		}
	}
	return out
}

// guardAs makes op hold only while the item is v in every attribute its
// entries copy (the backfill writes entries from the item as scanned).
func guardAs[T any](op *types.TransactWriteItem, v T, unshownAttrs []string) error {
	was, err := copyOf(v, unshownAttrs)
	if err != nil {
		return err
	}
	guardCopied(op, was, attributesOf[T](unshownAttrs))
	return nil
}

// writes reports whether op writes the item at k.
func writes(op types.TransactWriteItem, k key) bool {
	var at map[string]types.AttributeValue
	switch {
	case op.Update != nil:
		at = op.Update.Key
	case op.Delete != nil:
		at = op.Delete.Key
	case op.Put != nil:
		at = op.Put.Item
	default:
		return false
	}
	pk, _ := at[attrPK].(*types.AttributeValueMemberS)
	sk, _ := at[attrSK].(*types.AttributeValueMemberS)
	return pk != nil && sk != nil && pk.Value == k.PK && sk.Value == k.SK
}

// guardCopied makes op, the write of an item whose search entries the same
// transaction rewrites from was (the item as read), conditional on the item
// still being was: in every attribute the entries copy (copied) when it is
// changed, in the attributes its entries are keyed by (email and names)
// when it is deleted (copied nil). So a write racing another cannot leave
// entries of a state the item no longer has, nor entries of a person
// removed meanwhile under a new name. An attribute was lacks must still be
// missing; one that is NULL or a zero value may also be missing (items
// stored before a field existed lack it).
func guardCopied(op *types.TransactWriteItem, was map[string]types.AttributeValue, copied []string) {
	attrs := copied
	if attrs == nil {
		attrs = []string{"email", "firstName", "lastName"}
	}
	var conds []string
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	for i, a := range attrs {
		n, v := fmt.Sprintf("#cp%d", i), fmt.Sprintf(":cp%d", i)
		names[n] = a
		old, ok := was[a]
		switch {
		case !ok:
			conds = append(conds, "attribute_not_exists("+n+")")
		case isNull(old):
			values[v] = str("NULL")
			conds = append(conds, "(attribute_not_exists("+n+") OR attribute_type("+n+", "+v+"))")
		case isZero(old):
			values[v] = old
			conds = append(conds, "(attribute_not_exists("+n+") OR "+n+" = "+v+")")
		default:
			values[v] = old
			conds = append(conds, n+" = "+v)
		}
	}
	if len(conds) == 0 {
		return
	}
	guard := strings.Join(conds, " AND ")
	var cond **string
	var opNames *map[string]string
	var opValues *map[string]types.AttributeValue
	switch {
	case op.Update != nil:
		cond, opNames, opValues = &op.Update.ConditionExpression, &op.Update.ExpressionAttributeNames, &op.Update.ExpressionAttributeValues
	case op.Delete != nil:
		cond, opNames, opValues = &op.Delete.ConditionExpression, &op.Delete.ExpressionAttributeNames, &op.Delete.ExpressionAttributeValues
	case op.Put != nil:
		cond, opNames, opValues = &op.Put.ConditionExpression, &op.Put.ExpressionAttributeNames, &op.Put.ExpressionAttributeValues
	case op.ConditionCheck != nil:
		cond, opNames, opValues = &op.ConditionCheck.ConditionExpression, &op.ConditionCheck.ExpressionAttributeNames, &op.ConditionCheck.ExpressionAttributeValues
	}
	if *cond != nil && **cond != "" {
		guard = "(" + **cond + ") AND " + guard
	}
	*cond = aws.String(guard)
	if *opNames == nil {
		*opNames = map[string]string{}
	}
	for k, v := range names {
		(*opNames)[k] = v
	}
	if len(values) > 0 && *opValues == nil {
		*opValues = map[string]types.AttributeValue{}
	}
	for k, v := range values {
		(*opValues)[k] = v
	}
}

func isNull(v types.AttributeValue) bool {
	_, ok := v.(*types.AttributeValueMemberNULL)
	return ok
}

// isZero reports a Go zero value as stored: "", 0, false, an empty list or map.
func isZero(v types.AttributeValue) bool {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value == ""
	case *types.AttributeValueMemberN:
		return v.Value == "0"
	case *types.AttributeValueMemberBOOL:
		return !v.Value
	case *types.AttributeValueMemberL:
		return len(v.Value) == 0
	case *types.AttributeValueMemberM:
		return len(v.Value) == 0
	}
	return false
}

// searchPage runs one Query over kind's entries starting with the folded
// prefix q (filter narrows it further) and keeps the entries that answer q
// (search.Answers: a person matching on two terms once).
func searchPage[T any](ctx context.Context, s *Store, orgID, kind, q string, filter *expression.ConditionBuilder, limit int, cursor string) ([]T, string, error) {
	pk := searchPK(orgID, kind)
	start, err := decodeCursor(cursor, map[string]string{attrPK: pk}, map[string]string{attrSK: q})
	if err != nil {
		return nil, "", err
	}
	b := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith(q)))
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, "", fmt.Errorf("build search query: %w", err)
	}
	res, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, Limit: aws.Int32(int32(limit)), ExclusiveStartKey: start,
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return nil, "", fmt.Errorf("search %s of %s: %w", strings.ToLower(kind), orgID, err)
	}
	items := []T{}
	for _, it := range res.Items {
		var e struct {
			SK    string   `dynamodbav:"SK"`
			Terms []string `dynamodbav:"terms"`
		}
		if err := attributevalue.UnmarshalMap(it, &e); err != nil {
			return nil, "", fmt.Errorf("unmarshal search entry: %w", err)
		}
		id := e.SK[strings.LastIndex(e.SK, "#")+1:]
		term := strings.TrimSuffix(e.SK, "#"+id)
		if !search.Answers(q, term, e.Terms, func(t string) string { return searchSK(t, id) }) {
			continue
		}
		var v T
		if err := attributevalue.UnmarshalMap(it, &v); err != nil {
			return nil, "", fmt.Errorf("unmarshal search entry: %w", err)
		}
		items = append(items, v)
	}
	next, err := encodeCursor(res.LastEvaluatedKey)
	return items, next, err
}

// SearchMembers returns a page of the members one of whose terms starts
// with q (folded by search.Fold), optionally of one role or in one unit, in
// the order of the matching term.
func (s *Store) SearchMembers(ctx context.Context, orgID, q, role, unit string, limit int, cursor string) ([]org.Member, string, error) {
	return searchPage[org.Member](ctx, s, orgID, kindMembers, q, memberFilter(role, unit), limit, cursor)
}

// SearchInvitations returns a page of the invitations one of whose terms
// starts with q, optionally of one status (pending ones past their expiry
// left out, as ListInvitations does).
func (s *Store) SearchInvitations(ctx context.Context, orgID, q string, status invite.Status, limit int, cursor string, now time.Time) ([]invite.Invitation, string, error) {
	var filter *expression.ConditionBuilder
	if status != "" {
		f := expression.Name("status").Equal(expression.Value(status))
		if status == invite.Pending {
			f = f.And(expression.Name("expiresAt").GreaterThan(expression.Value(stamp(now))))
		}
		filter = &f
	}
	return searchPage[invite.Invitation](ctx, s, orgID, kindInvitations, q, filter, limit, cursor)
}

// memberFilter is the member lists' role and unit filter, or nil.
func memberFilter(role, unit string) *expression.ConditionBuilder {
	var filter *expression.ConditionBuilder
	and := func(c expression.ConditionBuilder) {
		if filter == nil {
			filter = &c
		} else {
			f := filter.And(c)
			filter = &f
		}
	}
	if role != "" {
		and(expression.Name("role").Equal(expression.Value(role)))
	}
	if unit != "" {
		and(expression.Contains(expression.Name("units"), unit))
	}
	return filter
}

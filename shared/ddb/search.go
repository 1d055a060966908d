package ddb

import (
	"context"
	"fmt"
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
		if projection, err = attributevalue.MarshalMap(*updated); err != nil {
			return nil, fmt.Errorf("marshal member entry: %w", err)
		}
		delete(projection, "invitationId")
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
		if projection, err = attributevalue.MarshalMap(*updated); err != nil {
			return nil, fmt.Errorf("marshal invitation entry: %w", err)
		}
		for _, name := range unshown {
			delete(projection, name)
		}
	}
	return s.entriesDiff(inv.OrgID, kindInvitations, inv.ID, invitationTerms(old), invitationTerms(updated), projection), nil
}

// unshown are the invitation's attributes no list shows (its secrets
// among them): left out of its entries.
var unshown = []string{"tokenHash", "reminderTokenHash", "leaveTokenHash", "leaveExpiresAt", "message", "profile", "resends", "retryMail", "orgName", "inviterName", "userId"}

// addInvitationEntries adds to t the entries' writes for an invitation
// going from old to updated.
func (s *Store) addInvitationEntries(t *txn, old, updated *invite.Invitation) error {
	items, err := s.invitationEntries(old, updated)
	if err != nil {
		return err
	}
	t.add(entryOwner, items...)
	return nil
}

// addMemberEntries adds to t the entries' writes for a member going from
// old to updated.
func (s *Store) addMemberEntries(t *txn, old, updated *org.Member) error {
	items, err := s.memberEntries(old, updated)
	if err != nil {
		return err
	}
	t.add(entryOwner, items...)
	return nil
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

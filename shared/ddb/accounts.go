package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/account"
	"onboarding/shared/org"
)

// throttleTTL is how long a sign-in throttle item lives without failures.
const throttleTTLSeconds = 24 * 60 * 60

// SignInState reads the email guard and the throttle in one BatchGetItem and,
// when an account exists, its profile.
func (s *Store) SignInState(ctx context.Context, email string) (*account.Credentials, account.Throttle, error) {
	items, err := s.batchGet(ctx, key{emailPK(email), skAccount}, key{signInPK(email), skThrottle})
	if err != nil {
		return nil, account.Throttle{}, err
	}
	var t account.Throttle
	if it, ok := items[signInPK(email)+"|"+skThrottle]; ok {
		if err := attributevalue.UnmarshalMap(it, &t); err != nil {
			return nil, t, fmt.Errorf("unmarshal throttle: %w", err)
		}
	}
	it, ok := items[emailPK(email)+"|"+skAccount]
	if !ok {
		return nil, t, nil
	}
	var g emailGuard
	if err := attributevalue.UnmarshalMap(it, &g); err != nil {
		return nil, t, fmt.Errorf("unmarshal email guard: %w", err)
	}
	a, err := s.Account(ctx, g.UserID)
	if err != nil || a == nil {
		return nil, t, err
	}
	return &account.Credentials{UserID: a.UserID, Email: a.Email, PasswordHash: a.PasswordHash}, t, nil
}

// RecordSignInFailure stores the throttle after a failed sign-in.
func (s *Store) RecordSignInFailure(ctx context.Context, email string, t account.Throttle) error {
	it, err := item(key{signInPK(email), skThrottle}, "signInThrottle", t, map[string]types.AttributeValue{
		attrTTL: num(s.now().Unix() + throttleTTLSeconds),
	})
	if err != nil {
		return err
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it}); err != nil {
		return fmt.Errorf("put sign-in throttle: %w", err)
	}
	return nil
}

// ClearSignInFailures forgets an address's failed sign-ins.
func (s *Store) ClearSignInFailures(ctx context.Context, email string) error {
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key{signInPK(email), skThrottle}.av(),
	}); err != nil {
		return fmt.Errorf("delete sign-in throttle: %w", err)
	}
	return nil
}

// Member reads one membership, or nil when userID is no member of orgID.
func (s *Store) Member(ctx context.Context, orgID, userID string) (*org.Member, error) {
	var m org.Member
	found, err := s.get(ctx, key{orgPK(orgID), memberSK(userID)}, &m)
	if err != nil || !found {
		return nil, err
	}
	return &m, nil
}

// Memberships lists a user's memberships through GSI1, all pages.
func (s *Store) Memberships(ctx context.Context, userID string) ([]org.Member, error) {
	cond, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrGSI1PK).Equal(expression.Value(userPK(userID)))).Build()
	if err != nil {
		return nil, fmt.Errorf("build memberships query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(IndexGSI1),
		KeyConditionExpression:    cond.KeyCondition(),
		ExpressionAttributeNames:  cond.Names(),
		ExpressionAttributeValues: cond.Values(),
	}
	members := []org.Member{}
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query memberships of %s: %w", userID, err)
		}
		var ms []org.Member
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &ms); err != nil {
			return nil, fmt.Errorf("unmarshal memberships: %w", err)
		}
		members = append(members, ms...)
	}
	return members, nil
}

// UploaderContact returns where to tell a member how their import went:
// their email, language and first name, and the organisation's name.
func (s *Store) UploaderContact(ctx context.Context, orgID, userID string) (email, language, name, orgName string, err error) {
	o, m, err := s.Actor(ctx, orgID, userID)
	if err != nil || m == nil {
		return "", "", "", o.Name, err
	}
	a, err := s.Account(ctx, userID)
	if err != nil || a == nil {
		return m.Email, "", m.FirstName, o.Name, err
	}
	return m.Email, a.Language, m.FirstName, o.Name, nil
}

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

	"onboarding/shared/account"
	"onboarding/shared/org"
)

// Credentials returns what sign-in needs of the account with this email, or
// nil when there is none.
func (s *Store) Credentials(ctx context.Context, email string) (*account.Credentials, error) {
	a, err := s.AccountByEmail(ctx, email)
	if err != nil || a == nil {
		return nil, err
	}
	return &account.Credentials{UserID: a.UserID, Email: a.Email, PasswordHash: a.PasswordHash}, nil
}

// signInThrottle is the stored throttle of one address from one source;
// Version orders its writers.
type signInThrottle struct {
	account.Throttle
	Version int64 `dynamodbav:"version"`
}

// throttleTTL keeps a throttle an hour past the time it stops mattering.
func throttleTTL(t account.Throttle) types.AttributeValue {
	return num(t.Expires().Add(time.Hour).Unix())
}

// SignInThrottle reads the throttle of email from source (zero if none).
func (s *Store) SignInThrottle(ctx context.Context, email, source string) (account.Throttle, error) {
	var cur signInThrottle
	if _, err := s.get(ctx, key{signInPK(email), signInSourceSK(source)}, &cur); err != nil {
		return account.Throttle{}, err
	}
	return cur.Throttle, nil
}

// UpdateSignInThrottle applies change to the throttle of email from source
// with a put conditional on the version read, re-reading and retrying when
// another writer got there first. Writers that keep colliding are refused:
// a crowd of guesses at one address from one source is what this throttles.
func (s *Store) UpdateSignInThrottle(ctx context.Context, email, source string, change func(account.Throttle) (account.Throttle, bool)) (account.Throttle, bool, error) {
	k := key{signInPK(email), signInSourceSK(source)}
	var cur signInThrottle
	for attempt := 0; attempt < 8; attempt++ {
		cur = signInThrottle{}
		found, err := s.get(ctx, k, &cur)
		if err != nil {
			return account.Throttle{}, false, err
		}
		next, ok := change(cur.Throttle)
		if !ok {
			return cur.Throttle, false, nil
		}
		it, err := item(k, "signInThrottle", signInThrottle{next, cur.Version + 1}, map[string]types.AttributeValue{attrTTL: throttleTTL(next)})
		if err != nil {
			return account.Throttle{}, false, err
		}
		err = s.putAsRead(ctx, it, found, cur.Version)
		if err == nil {
			return next, true, nil
		}
		if !isConditionFailed(err) {
			return account.Throttle{}, false, fmt.Errorf("put sign-in throttle: %w", err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return account.Throttle{}, false, err
		}
	}
	return cur.Throttle, false, nil
}

// SetSignInThrottle writes the throttle of email from source whatever it
// holds, moving its version on so that writers who read before lose.
func (s *Store) SetSignInThrottle(ctx context.Context, email, source string, t account.Throttle) error {
	m, err := attributevalue.MarshalMap(t)
	if err != nil {
		return fmt.Errorf("marshal sign-in throttle: %w", err)
	}
	update := expression.Add(expression.Name("version"), expression.Value(1)).
		Set(expression.Name(attrType), expression.Value("signInThrottle")).
		Set(expression.Name(attrTTL), expression.Value(throttleTTL(t)))
	for name, v := range m {
		update = update.Set(expression.Name(name), expression.Value(v))
	}
	expr, err := expression.NewBuilder().WithUpdate(update).Build()
	if err != nil {
		return fmt.Errorf("build sign-in throttle update: %w", err)
	}
	if _, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key{signInPK(email), signInSourceSK(source)}.av(),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}); err != nil {
		return fmt.Errorf("set sign-in throttle: %w", err)
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

package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/access"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// RoleCounts is what a role counter backfill did.
type RoleCounts struct {
	// Organisations were read; Created counters were put, Present ones
	// were there already.
	Organisations, Created, Present int
}

func (c RoleCounts) String() string {
	return fmt.Sprintf("%d organisations: %d role holder counters created, %d there already", c.Organisations, c.Created, c.Present)
}

// RoleCounters gives every organisation written before roles had holder
// counters one per role (ROLE#<key>), counting its members and pending
// invitations. The counts cannot go stale between the count and the put:
// while a role has no counter, every write that would give or take it a
// holder fails on the counter's absence (see holders). A counter that
// exists is left alone, so running it again writes nothing.
func (b *Backfiller) RoleCounters(ctx context.Context) (RoleCounts, error) {
	var c RoleCounts
	in := &dynamodb.ScanInput{TableName: &b.table,
		FilterExpression:          aws.String("#sk = :meta"),
		ExpressionAttributeNames:  map[string]string{"#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":meta": str(skMeta)},
	}
	for p := dynamodb.NewScanPaginator(b.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return c, fmt.Errorf("scan for organisations: %w", err)
		}
		for _, it := range page.Items {
			var o org.Organisation
			if err := attributevalue.UnmarshalMap(it, &o); err != nil {
				return c, err
			}
			if o.ID == "" {
				continue
			}
			c.Organisations++
			if err := b.countRoles(ctx, o, &c); err != nil {
				return c, err
			}
		}
	}
	return c, nil
}

// roleHolder is what the count reads of a member or an invitation.
type roleHolder struct {
	Role   string        `dynamodbav:"role"`
	Status invite.Status `dynamodbav:"status"`
}

func (b *Backfiller) countRoles(ctx context.Context, o org.Organisation, c *RoleCounts) error {
	var keys []string
	for _, r := range access.Upgrade(o.Roles) {
		keys = append(keys, r.Key)
	}
	counts, err := countHolders(ctx, b.client, b.table, o.ID, keys)
	if err != nil {
		return err
	}
	for _, n := range counts {
		created, err := putCounter(ctx, b.client, b.table, o.ID, n)
		switch {
		case err != nil:
			return err
		case created:
			c.Created++
		default:
			c.Present++
		}
	}
	return nil
}

// countHolders counts the members and pending invitations of org holding
// each of roles: one consistent Query per kind over the org's partition,
// projecting role and status. Holders of roles not asked for are skipped.
func countHolders(ctx context.Context, client dynamodb.QueryAPIClient, table, orgID string, roles []string) (map[string]*roleHolders, error) {
	counts := map[string]*roleHolders{}
	for _, r := range roles {
		counts[r] = &roleHolders{Role: r}
	}
	for _, prefix := range []string{memberSK(""), inviteSK("")} {
		expr, err := expression.NewBuilder().WithKeyCondition(
			expression.Key(attrPK).Equal(expression.Value(orgPK(orgID))).And(expression.Key(attrSK).BeginsWith(prefix))).
			WithProjection(expression.NamesList(expression.Name("role"), expression.Name("status"))).Build()
		if err != nil {
			return nil, err
		}
		in := &dynamodb.QueryInput{TableName: &table, ConsistentRead: aws.Bool(true),
			KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
		for p := dynamodb.NewQueryPaginator(client, in); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("count the role holders of %s: %w", orgID, err)
			}
			var hs []roleHolder
			if err := attributevalue.UnmarshalListOfMaps(page.Items, &hs); err != nil {
				return nil, err
			}
			for _, h := range hs {
				n, ok := counts[h.Role]
				if !ok {
					continue // a role not asked for, or one the table lacks
				}
				switch {
				case prefix == memberSK(""):
					n.Members++
				case h.Status == invite.Pending:
					n.Invitations++
				}
			}
		}
	}
	return counts, nil
}

// putCounter creates a role's counter unless one exists (created false):
// two that count at once count the same, so either's is right.
func putCounter(ctx context.Context, client interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}, table, orgID string, n *roleHolders) (created bool, err error) {
	it, err := item(key{orgPK(orgID), roleSK(n.Role)}, "roleHolders", *n, nil)
	if err != nil {
		return false, err
	}
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	switch {
	case isConditionFailed(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("put the role counter %s of %s: %w", n.Role, orgID, err)
	}
	return true, nil
}

package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// BackfillClient is the part of the DynamoDB API the backfill uses. It is
// apart from Client so that the store, which serves requests, cannot scan.
type BackfillClient interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Backfiller gives invitations written before InviteeIndex existed their
// index key, so that export and erasure find them, and roles written
// before holder counters theirs (RoleCounters). It is an operator's
// tool (infra/backfill), run once per deployment; nothing in a request
// path uses it.
type Backfiller struct {
	client BackfillClient
	table  string
	// PageSize is how many items a page reads at most (before the filter):
	// the work between two checkpoints. Zero means 1000.
	PageSize int32
}

// NewBackfiller returns a backfiller over table.
func NewBackfiller(client BackfillClient, table string) *Backfiller {
	return &Backfiller{client: client, table: table}
}

// BackfillPage is what one page of a segment's scan did.
type BackfillPage struct {
	// Scanned is how many items the page read; Missing, how many of them
	// were invitations without an index key.
	Scanned, Missing int
	// Updated were given the key; Skipped were not, because they were
	// deleted, given the key by someone else, or had no email, meanwhile.
	Updated, Skipped int
	// Next is where the segment goes on (the page's LastEvaluatedKey); nil
	// when the segment is done.
	Next map[string]types.AttributeValue
}

// InviteeIndex scans one page of segment (of total) from start (nil: the
// segment's beginning) for invitations without InviteePK and sets it on
// each. It is idempotent: an invitation that has the key is not read
// (filter) nor written (condition), so a run over a backfilled table, or a
// page done twice after a resume, updates nothing. The page's Next goes
// only after its updates, so a checkpoint taken from it loses nothing.
func (b *Backfiller) InviteeIndex(ctx context.Context, segment, total int, start map[string]types.AttributeValue) (BackfillPage, error) {
	return b.scanPage(ctx, segment, total, start, &dynamodb.ScanInput{
		FilterExpression:     aws.String("begins_with(#sk, :invite) AND #type = :invitation AND attribute_not_exists(#ipk)"),
		ProjectionExpression: aws.String("#pk, #sk, #email"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#sk": attrSK, "#type": attrType, "#ipk": attrInviteePK, "#email": attrEmail,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":invite": str(invitePrefix), ":invitation": str(typeInvitation),
		},
	}, b.setInviteeKey)
}

// scanPage scans one page of segment (of total) from start with in's
// filter and projection, and hands each item to do, which says whether it
// wrote anything. The page's Next goes only after every item is done, so a
// checkpoint taken from it loses nothing.
func (b *Backfiller) scanPage(ctx context.Context, segment, total int, start map[string]types.AttributeValue, in *dynamodb.ScanInput,
	do func(context.Context, map[string]types.AttributeValue) (bool, error)) (BackfillPage, error) {
	limit := b.PageSize
	if limit == 0 {
		limit = 1000
	}
	in.TableName, in.Segment, in.TotalSegments = &b.table, aws.Int32(int32(segment)), aws.Int32(int32(total))
	in.ExclusiveStartKey, in.Limit = start, aws.Int32(limit)
	res, err := b.client.Scan(ctx, in)
	if err != nil {
		return BackfillPage{}, fmt.Errorf("scan segment %d of %d: %w", segment, total, err)
	}
	page := BackfillPage{Scanned: int(res.ScannedCount), Missing: len(res.Items), Next: res.LastEvaluatedKey}
	for _, it := range res.Items {
		wrote, err := do(ctx, it)
		if err != nil {
			return BackfillPage{}, err
		}
		if wrote {
			page.Updated++
		} else {
			page.Skipped++
		}
	}
	return page, nil
}

// invitationEmail is what the backfill reads of an invitation.
type invitationEmail struct {
	PK    string `dynamodbav:"PK"`
	SK    string `dynamodbav:"SK"`
	Email string `dynamodbav:"email"`
}

// attrEmail is invite.Invitation's email attribute.
const attrEmail = "email"

// setInviteeKey gives one invitation, as the scan read it, its index key:
// only if it still exists (an update would otherwise create an item),
// still lacks one, and holds the email read.
func (b *Backfiller) setInviteeKey(ctx context.Context, it map[string]types.AttributeValue) (bool, error) {
	var inv invitationEmail
	if err := attributevalue.UnmarshalMap(it, &inv); err != nil {
		return false, fmt.Errorf("unmarshal invitation keys: %w", err)
	}
	if inv.Email == "" {
		return false, nil
	}
	k := key{inv.PK, inv.SK}
	_, err := b.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &b.table, Key: k.av(),
		UpdateExpression:         aws.String("SET #ipk = :ipk"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND attribute_not_exists(#ipk) AND #email = :email"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#ipk": attrInviteePK, "#email": attrEmail},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ipk": str(inviteePK(inv.Email)), ":email": str(inv.Email),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		// The key names an organisation and an invitation id, no person.
		return false, fmt.Errorf("set the invitee key of %s: %w", k, err)
	}
	return true, nil
}

// SearchEntries scans one page of segment (of total) from start for
// members and invitations and writes each one's search entries (see
// search.go): for data written before the entries existed. Each item's
// entries go in one transaction with a check that the item still exists
// with the terms, role, units and status read, so an item deleted or
// changed meanwhile gets none (its own write has put them). Running it again
// writes the same entries again: harmless.
func (b *Backfiller) SearchEntries(ctx context.Context, segment, total int, start map[string]types.AttributeValue) (BackfillPage, error) {
	return b.scanPage(ctx, segment, total, start, &dynamodb.ScanInput{
		FilterExpression:         aws.String("(begins_with(#sk, :member) AND #type = :memberType) OR (begins_with(#sk, :invite) AND #type = :invitation)"),
		ExpressionAttributeNames: map[string]string{"#sk": attrSK, "#type": attrType},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":member": str(memberSK("")), ":memberType": str(typeMember),
			":invite": str(invitePrefix), ":invitation": str(typeInvitation),
		},
	}, b.writeEntries)
}

// typeMember is a member item's type attribute.
const typeMember = "member"

// writeEntries writes the search entries of one member or invitation as
// the scan read it, if it is still as read.
func (b *Backfiller) writeEntries(ctx context.Context, it map[string]types.AttributeValue) (bool, error) {
	s := &Store{table: b.table}
	var entries []types.TransactWriteItem
	k := key{it[attrPK].(*types.AttributeValueMemberS).Value, it[attrSK].(*types.AttributeValueMemberS).Value}
	check := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &b.table, Key: k.av()}}
	var err error
	if it[attrType].(*types.AttributeValueMemberS).Value == typeMember {
		var m org.Member
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			return false, fmt.Errorf("unmarshal member: %w", err)
		}
		entries, _ = s.memberEntries(nil, &m)
		err = guardAs(&check, m, memberUnshown)
	} else {
		var inv invite.Invitation
		if err := attributevalue.UnmarshalMap(it, &inv); err != nil {
			return false, fmt.Errorf("unmarshal invitation: %w", err)
		}
		entries, _ = s.invitationEntries(nil, &inv)
		err = guardAs(&check, inv, unshown)
	}
	if err != nil {
		return false, err
	}
	if len(entries) == 0 {
		return false, nil
	}
	items := append([]types.TransactWriteItem{check}, entries...)
	_, err = b.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if canceled(err) != nil {
		return false, nil // changed or deleted meanwhile: its own write put its entries
	}
	if err != nil {
		return false, fmt.Errorf("write the search entries of %s: %w", k, err)
	}
	return true, nil
}

package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BackfillClient is the part of the DynamoDB API the backfill uses. It is
// apart from Client so that the store, which serves requests, cannot scan.
type BackfillClient interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
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
	limit := b.PageSize
	if limit == 0 {
		limit = 1000
	}
	res, err := b.client.Scan(ctx, &dynamodb.ScanInput{
		TableName: &b.table, Segment: aws.Int32(int32(segment)), TotalSegments: aws.Int32(int32(total)),
		ExclusiveStartKey: start, Limit: aws.Int32(limit),
		FilterExpression:     aws.String("begins_with(#sk, :invite) AND #type = :invitation AND attribute_not_exists(#ipk)"),
		ProjectionExpression: aws.String("#pk, #sk, #email"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#sk": attrSK, "#type": attrType, "#ipk": attrInviteePK, "#email": attrEmail,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":invite": str(invitePrefix), ":invitation": str(typeInvitation),
		},
	})
	if err != nil {
		return BackfillPage{}, fmt.Errorf("scan segment %d of %d: %w", segment, total, err)
	}
	page := BackfillPage{Scanned: int(res.ScannedCount), Missing: len(res.Items), Next: res.LastEvaluatedKey}
	for _, it := range res.Items {
		updated, err := b.setInviteeKey(ctx, it)
		if err != nil {
			return BackfillPage{}, err
		}
		if updated {
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

package ddb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
)

// stripInviteeKey makes inv as an invitation written before InviteeIndex
// existed: without InviteePK.
func stripInviteeKey(t *testing.T, f fixture, inv invite.Invitation) {
	t.Helper()
	_, err := testenv.DynamoDBClient().UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(f.table), UpdateExpression: aws.String("REMOVE InviteePK"),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "ORG#" + inv.OrgID}, "SK": &types.AttributeValueMemberS{Value: "INVITE#" + inv.ID},
		},
		ConditionExpression: aws.String("attribute_exists(InviteePK)"),
	})
	if err != nil {
		t.Fatalf("strip the invitee key: %v", err)
	}
}

// backfillAll runs every segment to its end, a page at a time, each page
// from the previous one's checkpoint, and adds up the pages.
func backfillAll(t *testing.T, b *ddb.Backfiller, segments int) ddb.BackfillPage {
	t.Helper()
	var sum ddb.BackfillPage
	for seg := 0; seg < segments; seg++ {
		var start map[string]types.AttributeValue
		for {
			p, err := b.InviteeIndex(context.Background(), seg, segments, start)
			if err != nil {
				t.Fatal(err)
			}
			sum.Scanned, sum.Missing, sum.Updated, sum.Skipped = sum.Scanned+p.Scanned, sum.Missing+p.Missing, sum.Updated+p.Updated, sum.Skipped+p.Skipped
			if p.Next == nil {
				break
			}
			start = p.Next
		}
	}
	return sum
}

// TestBackfillInviteeIndex: invitations written before InviteeIndex (no
// InviteePK: pending and accepted, in two organisations) are found by
// export's query once the backfill ran; a second run updates nothing.
func TestBackfillInviteeIndex(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgA, adminA := f.provisionAndJoin(t, "ada@example.no")
	orgB, adminB := f.provisionAndJoin(t, "bea@example.no")
	emails := []string{"kari@example.no", "ola@example.no", "per@example.no", "siri@example.no"}
	var stripped int
	for i, email := range emails {
		a := f.invite(t, orgA, adminA, email)
		b := f.invite(t, orgB, adminB, email)
		if i%2 == 0 { // kari and per: both invitations old; ola and siri: only B's
			stripInviteeKey(t, f, a)
			stripped++
		}
		stripInviteeKey(t, f, b)
		stripped++
	}
	for _, admin := range []string{"ada@example.no", "bea@example.no"} { // accepted invitations
		invs, err := f.store.InvitationsTo(ctx, admin)
		if err != nil || len(invs) != 1 {
			t.Fatalf("%s's invitations: %d %v", admin, len(invs), err)
		}
		stripInviteeKey(t, f, invs[0])
		stripped++
	}
	if invs, err := f.store.InvitationsTo(ctx, "kari@example.no"); err != nil || len(invs) != 0 {
		t.Fatalf("before the backfill the index finds %d of kari's stripped invitations (%v)", len(invs), err)
	}

	b := ddb.NewBackfiller(testenv.DynamoDBClient(), f.table)
	b.PageSize = 3 // many pages, each from the last one's checkpoint
	items := len(f.scan(t))
	first := backfillAll(t, b, 4)
	if first.Updated != stripped || first.Missing != stripped || first.Skipped != 0 || first.Scanned != items {
		t.Errorf("first run: %+v; want %d updated of %d items", first, stripped, items)
	}
	for _, email := range append(emails, "ada@example.no", "bea@example.no") {
		want := 2
		if email == "ada@example.no" || email == "bea@example.no" {
			want = 1
		}
		invs, err := f.store.InvitationsTo(ctx, email)
		if err != nil || len(invs) != want {
			t.Errorf("after the backfill the index finds %d invitations to %s, want %d (%v)", len(invs), email, want, err)
		}
		for _, inv := range invs {
			if inv.Email != email {
				t.Errorf("invitation %s to %s found under %s", inv.ID, inv.Email, email)
			}
		}
	}

	second := backfillAll(t, ddb.NewBackfiller(testenv.DynamoDBClient(), f.table), 2)
	if second.Updated != 0 || second.Missing != 0 || second.Scanned != items {
		t.Errorf("second run: %+v; want nothing updated of %d items", second, items)
	}
}

// deleteBeforeUpdate deletes an item just before the backfill's update of
// it: an invitation erased between the scan and the write.
type deleteBeforeUpdate struct {
	*dynamodb.Client
	once sync.Once
}

func (c *deleteBeforeUpdate) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	var err error
	c.once.Do(func() {
		_, err = c.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: in.TableName, Key: in.Key})
	})
	if err != nil {
		return nil, fmt.Errorf("delete before update: %w", err)
	}
	return c.Client.UpdateItem(ctx, in, opts...)
}

// TestBackfillLeavesADeletedInvitationDeleted: an invitation deleted
// (erased) after the scan read it is skipped, not made again as an item of
// keys alone.
func TestBackfillLeavesADeletedInvitationDeleted(t *testing.T) {
	f := newFixture(t)
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	inv := f.invite(t, orgID, adminID, "kari@example.no")
	stripInviteeKey(t, f, inv)
	got := backfillAll(t, ddb.NewBackfiller(&deleteBeforeUpdate{Client: testenv.DynamoDBClient()}, f.table), 1)
	if got.Missing != 1 || got.Updated != 0 || got.Skipped != 1 {
		t.Errorf("backfill: %+v; want the one invitation skipped", got)
	}
	if f.tableHolds(t, "INVITE#"+inv.ID) {
		t.Error("the backfill made the deleted invitation again")
	}
}

package ddb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
)

// transactCounter counts the write transactions a store sends.
type transactCounter struct {
	*dynamodb.Client
	calls, items atomic.Int64
}

func (c *transactCounter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls.Add(1)
	c.items.Add(int64(len(in.TransactItems)))
	return c.Client.TransactWriteItems(ctx, in, opts...)
}

// A roster's new people are written many to a transaction; the ones that
// cannot be stored (a pending invitation already, a unit that is gone, a
// bad row) get their own error and never hold up the others.
func TestCreateInvitationsBatched(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	nord := f.unit(t, orgID, adminID, "Nord")
	if _, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "taken@example.no", Role: "member", Units: []string{nord}}); err != nil {
		t.Fatal(err)
	}

	counter := &transactCounter{Client: testenv.DynamoDBClient()}
	svc := *f.svc
	svc.Store = ddb.New(counter, f.table, f.clock.Now)
	var entries []invite.RosterEntry
	for i := range 57 {
		entries = append(entries, invite.RosterEntry{Request: invite.Request{
			Email: fmt.Sprintf("w%02d@example.no", i), FirstName: "W", Role: "member", Units: []string{nord}, Phone: fmt.Sprintf("915 12 %03d", i)}})
	}
	entries = append(entries[:20], append([]invite.RosterEntry{
		{Request: invite.Request{Email: "taken@example.no", Role: "member", Units: []string{nord}}},
		{Request: invite.Request{Email: "lost@example.no", Role: "member", Units: []string{"gone"}}},
		{Request: invite.Request{Email: "odd@example.no", Role: "no such role"}},
	}, entries[20:]...)...)

	invs, errs, err := svc.InviteNewFromRoster(ctx, adminID, orgID, entries)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		switch e.Request.Email {
		case "taken@example.no":
			if fault.CodeOf(errs[i]) != fault.Conflict {
				t.Errorf("taken: %v", errs[i])
			}
		case "lost@example.no", "odd@example.no":
			if fault.CodeOf(errs[i]) != fault.Invalid {
				t.Errorf("%s: %v", e.Request.Email, errs[i])
			}
		default:
			if errs[i] != nil {
				t.Errorf("%s: %v", e.Request.Email, errs[i])
				continue
			}
			stored, err := f.store.Invitation(ctx, orgID, invs[i].ID)
			if err != nil || stored.Status != invite.Pending || stored.Email != e.Request.Email || stored.RetryMail != invite.MailInvitation {
				t.Errorf("%s stored as %+v (%v)", e.Request.Email, stored, err)
			}
		}
	}
	page, err := f.svc.List(ctx, adminID, orgID, invite.ListQuery{Status: string(invite.Pending), Limit: 100})
	if err != nil || len(page.Items) != 58 {
		t.Fatalf("%d pending (%v), want 58", len(page.Items), err)
	}
	// 58 invitations of 4 items and their search entries (one per distinct
	// term: here the email and, for most, a name or two) and one unit check
	// in transactions of at most 100 items: 4 or 5, and one more for each
	// transaction a failure cancelled before it was written without the
	// failing rows.
	if n := counter.calls.Load(); n > 6 {
		t.Errorf("%d transactions (%d items) for 57 invitations", n, counter.items.Load())
	}
	t.Logf("%d invitations in %d transactions", 57, counter.calls.Load())
}

package ddb_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/testenv"
	"onboarding/shared/audit"
	"onboarding/shared/ddb"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
)

// TestReinviteDoesNotPinTheExpiredInvitation: a re-invite takes the pending
// guard of an expired invitation the sweep has not marked yet. The old one
// can still be expired (and the sweep's checkpoint moves past its day) or
// deleted, and the new one keeps its guard.
func TestReinviteDoesNotPinTheExpiredInvitation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	swept := f.invite(t, orgID, adminID, "swept@example.no")
	deleted := f.invite(t, orgID, adminID, "deleted@example.no")
	f.clock.Add(30*day + time.Minute) // both expired; no sweep has run
	newer := map[string]invite.Invitation{}
	for _, e := range []string{"swept@example.no", "deleted@example.no"} {
		newer[e] = f.invite(t, orgID, adminID, e) // takes the guard
	}

	// Deleting the expired, unmarked one works and leaves the new guard.
	if r, err := f.svc.Remove(ctx, adminID, orgID, deleted.ID); err != nil || !r.Deleted {
		t.Errorf("delete the expired invitation whose guard was taken: %+v %v", r, err)
	}

	// The sweep expires the other.
	if r := f.sweep(t); r.Expired != 1 || r.Skipped != 0 || r.Errors != 0 {
		t.Fatalf("sweep report %+v", r)
	}
	if got := f.get(t, orgID, swept.ID); got.Status != invite.Expired {
		t.Fatalf("the old invitation is %s, want expired", got.Status)
	}
	for e, inv := range newer {
		if got := f.get(t, orgID, inv.ID); got.Status != invite.Pending {
			t.Fatalf("%s: the new invitation is %s", e, got.Status)
		}
		p, err := f.store.PendingInvitation(ctx, orgID, e)
		if err != nil || p == nil || p.ID != inv.ID {
			t.Fatalf("%s: the guard names %+v (%v), want the new invitation", e, p, err)
		}
	}

	// The checkpoint moves past the old invitations' day.
	f.clock.Add(2 * day)
	nothingDone(t, f.sweep(t))
	from, err := f.store.SweepCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !from.After(swept.ExpiresAt) {
		t.Fatalf("checkpoint %s stuck at or before the old expiry %s", from.Format(time.DateOnly), swept.ExpiresAt)
	}
}

// beforeFirstWrite runs a function once, just before the first write
// transaction a store sends.
type beforeFirstWrite struct {
	*dynamodb.Client
	once sync.Once
	fn   func()
}

func (c *beforeFirstWrite) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.once.Do(c.fn)
	return c.Client.TransactWriteItems(ctx, in, opts...)
}

// TestGuardTakenAtTheLastMoment: a re-invite takes the guard after
// everything was read, just before the write that ends the old invitation
// (expire, revoke, delete); the invitation ends all the same and the new one
// keeps the guard.
func TestGuardTakenAtTheLastMoment(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	end := map[string]func(*ddb.Store, invite.Invitation) error{
		"expire": func(s *ddb.Store, inv invite.Invitation) error {
			now := f.clock.Now()
			return s.Expire(ctx, inv, invite.Expiry{At: now, KeepUntil: now.Add(90 * day),
				Audit: audit.New(orgID, audit.System, audit.InvitationExpired, "invitation", inv.ID, now)})
		},
		"revoke": func(s *ddb.Store, inv invite.Invitation) error {
			now := f.clock.Now()
			return s.Revoke(ctx, inv, now, now.Add(90*day), audit.New(orgID, adminID, audit.InvitationRevoked, "invitation", inv.ID, now))
		},
		"delete": func(s *ddb.Store, inv invite.Invitation) error {
			return s.DeleteInvitation(ctx, inv, audit.New(orgID, adminID, audit.InvitationDeleted, "invitation", inv.ID, f.clock.Now()))
		},
	}
	want := map[string]invite.Status{"expire": invite.Expired, "revoke": invite.Revoked, "delete": ""}
	for name, fn := range end {
		email := name + "@example.no"
		old := f.invite(t, orgID, adminID, email)
		f.clock.Add(30*day + time.Second)
		var newer invite.Invitation
		hooked := ddb.New(&beforeFirstWrite{Client: testenv.DynamoDBClient(), fn: func() {
			newer = f.invite(t, orgID, adminID, email)
		}}, f.table, f.clock.Now)
		if err := fn(hooked, f.get(t, orgID, old.ID)); err != nil {
			t.Fatalf("%s with the guard taken meanwhile: %v", name, err)
		}
		if newer.ID == "" {
			t.Fatalf("%s: the re-invite did not run", name)
		}
		got, err := f.store.Invitation(ctx, orgID, old.ID)
		if want := want[name]; want == "" && fault.CodeOf(err) != fault.NotFound || want != "" && got.Status != want {
			t.Fatalf("%s: the old invitation is %q (%v), want %q", name, got.Status, err, want)
		}
		if p, err := f.store.PendingInvitation(ctx, orgID, email); err != nil || p == nil || p.ID != newer.ID {
			t.Fatalf("%s: the guard names %+v (%v), want the new invitation", name, p, err)
		}
	}
}

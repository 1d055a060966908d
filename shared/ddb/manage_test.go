package ddb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/invite"
)

func TestListInvitationsPagesAndFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	f.clock.Add(time.Millisecond)
	var ids []string
	for i := 0; i < 7; i++ {
		inv, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: fmt.Sprintf("p%d@example.no", i), Role: "member"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID)
		f.clock.Add(time.Millisecond) // ids sort by creation time
	}
	// Revoke one.
	if _, err := f.svc.Remove(ctx, adminID, orgID, ids[2]); err != nil {
		t.Fatal(err)
	}

	// All invitations, newest first, in pages of 3: 7 + the admin's accepted one.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := f.svc.List(ctx, adminID, orgID, invite.ListQuery{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range page.Items {
			seen = append(seen, inv.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 8 || seen[0] != ids[6] || seen[6] != ids[0] {
		t.Fatalf("order/size: %v", seen)
	}

	pending, err := f.svc.List(ctx, adminID, orgID, invite.ListQuery{Status: "pending"})
	if err != nil || len(pending.Items) != 6 || pending.NextCursor != nil {
		t.Fatalf("pending: %d %v", len(pending.Items), err)
	}
	revoked, _ := f.svc.List(ctx, adminID, orgID, invite.ListQuery{Status: "revoked"})
	accepted, _ := f.svc.List(ctx, adminID, orgID, invite.ListQuery{Status: "accepted"})
	if len(revoked.Items) != 1 || revoked.Items[0].ID != ids[2] || len(accepted.Items) != 1 {
		t.Fatalf("revoked %d accepted %d", len(revoked.Items), len(accepted.Items))
	}

	// Bad input.
	for _, q := range []invite.ListQuery{{Status: "lost"}, {Limit: 101}, {Limit: -1}} {
		if _, err := f.svc.List(ctx, adminID, orgID, q); fault.CodeOf(err) != fault.Invalid {
			t.Errorf("%+v: %v", q, err)
		}
	}
	for _, c := range []string{"junk", "eyJQSyI6Ik9SRyNvdGhlciIsIlNLIjoiSU5WSVRFI3gifQ"} { // the second names another org
		if _, err := f.svc.List(ctx, adminID, orgID, invite.ListQuery{Cursor: c}); fault.CodeOf(err) != fault.Malformed {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
	// Strangers see nothing.
	if _, err := f.svc.List(ctx, "stranger", orgID, invite.ListQuery{}); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("stranger: %v", err)
	}
}

func TestResendRevokeDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	inv, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "kari@example.no", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	first := f.mail.token(t, "kari@example.no")

	f.clock.Add(10 * 24 * time.Hour)
	resent, err := f.svc.Resend(ctx, adminID, orgID, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !resent.ExpiresAt.Equal(f.clock.Now().Add(30*24*time.Hour)) || resent.DeliveryStatus != invite.DeliverySent {
		t.Fatalf("resent %+v", resent)
	}
	second := f.mail.token(t, "kari@example.no")
	if second == first {
		t.Fatal("resend reused the token")
	}
	if _, err := f.svc.Preview(ctx, first); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("old link after resend: %v", err)
	}
	if _, err := f.svc.Preview(ctx, second); err != nil {
		t.Fatalf("new link: %v", err)
	}
	// Four more resends are allowed in 24 hours, the sixth is not.
	for i := 0; i < 4; i++ {
		if _, err := f.svc.Resend(ctx, adminID, orgID, inv.ID); err != nil {
			t.Fatalf("resend %d: %v", i+2, err)
		}
	}
	_, err = f.svc.Resend(ctx, adminID, orgID, inv.ID)
	if e, ok := fault.As(err); !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 {
		t.Fatalf("sixth resend: %v", err)
	}
	latest := f.mail.token(t, "kari@example.no")

	// Revoke: the link dies, the email can be invited again.
	removed, err := f.svc.Remove(ctx, adminID, orgID, inv.ID)
	if err != nil || removed.Deleted || removed.Invitation.Status != invite.Revoked {
		t.Fatalf("revoke: %+v %v", removed, err)
	}
	if _, err := f.svc.Preview(ctx, latest); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("link after revoke: %v", err)
	}
	if _, err := f.svc.Resend(ctx, adminID, orgID, inv.ID); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("resend revoked: %v", err)
	}
	again, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "kari@example.no", Role: "member"})
	if err != nil {
		t.Fatalf("re-invite after revoke: %v", err)
	}
	// Delete the revoked one.
	removed, err = f.svc.Remove(ctx, adminID, orgID, inv.ID)
	if err != nil || !removed.Deleted {
		t.Fatalf("delete revoked: %+v %v", removed, err)
	}
	if _, err := f.svc.Get(ctx, adminID, orgID, inv.ID); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("get deleted: %v", err)
	}

	// An expired (unswept) invitation: resend is Gone, delete frees its guard.
	f.clock.Add(31 * 24 * time.Hour)
	if _, err := f.svc.Resend(ctx, adminID, orgID, again.ID); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("resend expired: %v", err)
	}
	got, _ := f.svc.Get(ctx, adminID, orgID, again.ID)
	if got.Status != invite.Expired {
		t.Fatalf("expired shows as %s", got.Status)
	}
	if removed, err := f.svc.Remove(ctx, adminID, orgID, again.ID); err != nil || !removed.Deleted {
		t.Fatalf("delete expired: %+v %v", removed, err)
	}
	// An accepted one cannot be removed.
	if _, err := f.svc.Remove(ctx, adminID, orgID, "missing"); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("remove missing: %v", err)
	}
}

// TestResendRacesAccept: whatever wins, no old token stays usable.
func TestResendRacesAccept(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	for round := 0; round < 10; round++ {
		email := fmt.Sprintf("race%d@example.no", round)
		inv, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: email, Role: "member"})
		if err != nil {
			t.Fatal(err)
		}
		old := f.mail.token(t, email)
		var wg sync.WaitGroup
		var acceptErr, resendErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, acceptErr = f.svc.Accept(ctx, invite.AcceptRequest{Token: old, FirstName: "R", LastName: "R",
				Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "v"})
		}()
		go func() { defer wg.Done(); _, resendErr = f.svc.Resend(ctx, adminID, orgID, inv.ID) }()
		wg.Wait()
		if (acceptErr == nil) == (resendErr == nil) {
			t.Fatalf("round %d: exactly one must win: accept=%v resend=%v", round, acceptErr, resendErr)
		}
		// The old token is dead either way.
		if _, err := f.svc.Preview(ctx, old); err == nil {
			t.Fatalf("round %d: the old token still opens the invitation", round)
		}
		if resendErr == nil {
			if _, err := f.svc.Preview(ctx, f.mail.token(t, email)); err != nil {
				t.Fatalf("round %d: the new token does not work: %v", round, err)
			}
		}
	}
}

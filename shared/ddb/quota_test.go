package ddb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

func TestRateLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.Quotas = f.store
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	orgs := &org.Service{Store: f.store, Now: f.clock.Now}
	if _, err := orgs.UpdateSettings(ctx, ada, orgID, org.SettingsChange{
		RateLimits: &org.RateLimits{InvitationsPerHour: 3, EmailsPerRecipientPerDay: 2}}); err != nil {
		t.Fatal(err)
	}
	// The recipient limit: the invitation and one resend, then 429.
	inv, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "r@example.no", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resend(ctx, ada, orgID, inv.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Resend(ctx, ada, orgID, inv.ID)
	if e, ok := fault.As(err); !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 || e.RetryAfter > 24*time.Hour {
		t.Fatalf("third email to one person: %v", err)
	}
	// The organisation limit: 3 an hour (the resend above counted).
	if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "a@example.no", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "b@example.no", Role: "member"})
	if e, ok := fault.As(err); !ok || e.Code != fault.TooMany || e.RetryAfter > time.Hour {
		t.Fatalf("fourth invitation in an hour: %v", err)
	}
	// The recipient limit rolls: 24 hours after the first email, one more may go.
	f.clock.Add(24*time.Hour - time.Minute)
	if _, err := f.svc.Resend(ctx, ada, orgID, inv.ID); fault.CodeOf(err) != fault.TooMany {
		t.Fatalf("just inside 24 hours: %v", err)
	}
	f.clock.Add(2 * time.Minute)
	if _, err := f.svc.Resend(ctx, ada, orgID, inv.ID); err != nil {
		t.Fatalf("24 hours after the first email: %v", err)
	}
	// A refused invitation uses no quota: a conflict gives its use back.
	f.clock.Add(time.Hour)
	if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "a@example.no", Role: "member"}); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("duplicate: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: fmt.Sprintf("n%d@example.no", i), Role: "member"}); err != nil {
			t.Fatalf("next hour, invitation %d: %v", i, err)
		}
	}
}

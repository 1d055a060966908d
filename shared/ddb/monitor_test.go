package ddb_test

import (
	"context"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/monitor"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
	"onboarding/shared/phone"
)

func TestMonitoringProfileStore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	members := &membership.Service{Store: f.store, Monitor: f.store, Phones: phone.Normalize, Now: f.clock.Now}
	userID := f.join(t, adminID, orgID, "kari@example.no", "member")

	change := membership.MonitoringChange{EscalationContacts: []monitor.Contact{{Name: "Ola", Phone: "41234567"}, {Name: "Per", Phone: "41234568"}}}
	sw := "blåbær"
	change.SafeWord = &sw
	saved, err := members.SetMonitoring(ctx, adminID, orgID, userID, change)
	if err != nil || saved.Version != 1 || !saved.HasSafeWord {
		t.Fatalf("%+v %v", saved, err)
	}
	// Unchanged: no new version. Without a safe word in the change, the stored one stays.
	change.SafeWord = nil
	if again, err := members.SetMonitoring(ctx, adminID, orgID, userID, change); err != nil || again.Version != 1 || !again.HasSafeWord {
		t.Fatalf("%+v %v", again, err)
	}
	// A writer holding an old version loses.
	rec, _ := f.store.MonitoringProfile(ctx, orgID, userID)
	stale := *rec
	stale.Version = 1 // would follow version 0
	e := audit.New(orgID, adminID, audit.MonitoringUpdated, "member", userID, time.Now())
	if err := f.store.PutMonitoringProfile(ctx, stale, e); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("stale write: %v", err)
	}
	// No profile for someone who is no member.
	ghost := *rec
	ghost.UserID, ghost.Version = "ghost", 1
	if err := f.store.PutMonitoringProfile(ctx, ghost, e); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("ghost: %v", err)
	}
	// The profile goes with the membership.
	if err := members.Remove(ctx, adminID, orgID, userID); err != nil {
		t.Fatal(err)
	}
	if rec, err := f.store.MonitoringProfile(ctx, orgID, userID); err != nil || rec != nil {
		t.Fatalf("after removal: %+v %v", rec, err)
	}
}

// A roster's invitation carries the profile; accepting makes it the member's.
func TestAcceptedInvitationBringsItsProfile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	token, hash, _ := opaque.New()
	now := f.clock.Now()
	inv := invite.Invitation{ID: invite.NewSortableID(now), OrgID: orgID, OrgName: "Nordlys Care", Email: "kari@example.no",
		FirstName: "Kari", Role: "member", Units: []string{}, Attributes: org.Attributes{}, Status: invite.Pending,
		InvitedBy: adminID, CreatedAt: now, ExpiresAt: now.Add(30 * day), TokenHash: hash,
		Profile: &monitor.Profile{EscalationContacts: []monitor.Contact{{Name: "Ola", Phone: "+4741234567"}, {Name: "Per", Phone: "+4741234568"}}, SafeWord: "blåbær"}}
	if err := f.store.LoadInvitations(ctx, testenv.DynamoDBClient(), []invite.Invitation{inv}, true); err != nil {
		t.Fatal(err)
	}
	j, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: token, FirstName: "Kari", LastName: "N",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := f.store.MonitoringProfile(ctx, orgID, j.UserID)
	if err != nil || rec == nil || rec.Version != 1 || len(rec.EscalationContacts) != 2 || rec.SafeWord != "blåbær" || rec.UpdatedBy != adminID {
		t.Fatalf("%+v %v", rec, err)
	}
}

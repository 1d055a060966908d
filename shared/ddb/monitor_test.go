package ddb_test

import (
	"context"
	"testing"
	"time"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/membership"
	"onboarding/shared/monitor"
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

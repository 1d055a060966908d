package ddb_test

import (
	"context"
	"sync"
	"testing"

	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
)

// join invites email with role and units as inviterID and accepts.
func (f fixture) join(t *testing.T, inviterID, orgID, email, role string, units ...string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.Invite(ctx, inviterID, orgID, invite.Request{Email: email, Role: role, Units: units}); err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	j, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, email), FirstName: "F", LastName: "L",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "v"})
	if err != nil {
		t.Fatalf("accept %s: %v", email, err)
	}
	return j.UserID
}

func strp(s string) *string { return &s }

func TestMembersLastAdminAndScoping(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	members := &membership.Service{Store: f.store, Now: f.clock.Now}

	// The only org-wide admin can be neither demoted, scoped nor removed.
	if _, err := members.Update(ctx, ada, orgID, ada, membership.Change{Role: strp("member")}); err == nil || err.Error() != "conflict: the organisation must keep at least one organisation-wide admin" {
		t.Fatalf("demote last admin: %v", err)
	}
	lone := f.unit(t, orgID, ada, "Lone")
	if _, err := members.Update(ctx, ada, orgID, ada, membership.Change{Units: &[]string{lone}}); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("scope last admin: %v", err)
	}
	if err := members.Remove(ctx, ada, orgID, ada); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("remove last admin: %v", err)
	}

	north, southUnit := f.unit(t, orgID, ada, "North"), f.unit(t, orgID, ada, "South")
	bo := f.join(t, ada, orgID, "bo@example.no", "admin")
	coord := f.join(t, ada, orgID, "cora@example.no", "coordinator", north)
	worker := f.join(t, coord, orgID, "walt@example.no", "member", north)
	south := f.join(t, ada, orgID, "sam@example.no", "member", southUnit)

	// Two admins demote each other at once: one of them stays admin.
	var wg sync.WaitGroup
	var errs [2]error
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, errs[0] = members.Update(ctx, ada, orgID, bo, membership.Change{Role: strp("member")})
	}()
	go func() {
		defer wg.Done()
		_, errs[1] = members.Update(ctx, bo, orgID, ada, membership.Change{Role: strp("member")})
	}()
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("exactly one demotion must succeed: %v / %v", errs[0], errs[1])
	}
	all, _, err := f.store.ListMembers(ctx, orgID, "admin", "", 50, "")
	if err != nil || len(all) != 1 {
		t.Fatalf("admins left: %d %v", len(all), err)
	}
	admin := all[0].UserID

	// The coordinator sees its unit (and itself), manages members there, not elsewhere.
	page, err := members.List(ctx, coord, orgID, membership.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("coordinator sees %d members, want itself and its unit's worker", len(page.Items))
	}
	if _, err := members.Update(ctx, coord, orgID, south, membership.Change{Role: strp("reporter")}); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("coordinator outside its unit: %v", err)
	}
	if _, err := members.Update(ctx, coord, orgID, worker, membership.Change{Role: strp("admin")}); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("coordinator makes an admin: %v", err)
	}
	if m, err := members.Update(ctx, coord, orgID, worker, membership.Change{Role: strp("reporter")}); err != nil || m.Role != "reporter" {
		t.Fatalf("coordinator changes a role in its unit: %+v %v", m, err)
	}
	// Filters.
	inNorth, _ := members.List(ctx, admin, orgID, membership.Query{Unit: north})
	reporters, _ := members.List(ctx, admin, orgID, membership.Query{Role: "reporter"})
	if len(inNorth.Items) != 2 || len(reporters.Items) != 1 {
		t.Fatalf("north %d reporters %d", len(inNorth.Items), len(reporters.Items))
	}
	// A member may not list members at all.
	if _, err := members.List(ctx, south, orgID, membership.Query{}); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("member lists: %v", err)
	}
	// Removal: the removed person is refused at once.
	if err := members.Remove(ctx, admin, orgID, coord); err != nil {
		t.Fatal(err)
	}
	if _, err := members.List(ctx, coord, orgID, membership.Query{}); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("removed coordinator: %v", err)
	}
	if _, err := f.svc.Invite(ctx, coord, orgID, invite.Request{Email: "late@example.no", Role: "member", Units: []string{north}}); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("removed coordinator invites: %v", err)
	}
}

package ddb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/audit"
	"onboarding/shared/ddb"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/org"
)

func intp(n int) *int { return &n }

func TestUnitsSettingsAndCustomFields(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	orgs := &org.Service{Store: f.store, Now: f.clock.Now}

	north := f.unit(t, orgID, ada, "North Clinic")
	if _, err := orgs.CreateUnit(ctx, ada, orgID, "  north   CLINIC "); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := orgs.CreateUnit(ctx, ada, orgID, "bad\x00name"); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("control characters: %v", err)
	}
	south := f.unit(t, orgID, ada, "South")
	if u, err := orgs.RenameUnit(ctx, ada, orgID, south, "South Clinic"); err != nil || u.Name != "South Clinic" {
		t.Fatalf("rename: %+v %v", u, err)
	}
	if _, err := orgs.RenameUnit(ctx, ada, orgID, south, "NORTH clinic"); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("rename onto another's name: %v", err)
	}
	if _, err := orgs.CreateUnit(ctx, ada, orgID, "South"); err != nil {
		t.Fatalf("the old name is free after a rename: %v", err)
	}

	// Invitations need existing units.
	_, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "x@example.no", Role: "member", Units: []string{north, "nope"}})
	if e, ok := fault.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != "units[1]" {
		t.Fatalf("unknown unit: %v", err)
	}
	// A unit with a pending invitation or a member cannot be deleted.
	if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "p@example.no", Role: "member", Units: []string{north}}); err != nil {
		t.Fatal(err)
	}
	if err := orgs.DeleteUnit(ctx, ada, orgID, north); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("delete non-empty: %v", err)
	}
	if err := orgs.DeleteUnit(ctx, ada, orgID, south); err != nil {
		t.Fatalf("delete empty: %v", err)
	}
	units, _ := orgs.ListUnits(ctx, ada, orgID)
	if len(units) != 2 {
		t.Fatalf("units %+v", units)
	}
	// A member's units must exist too.
	coord := f.join(t, ada, orgID, "cora@example.no", "coordinator", north)
	members := &membership.Service{Store: f.store, Now: f.clock.Now}
	if _, err := members.Update(ctx, ada, orgID, coord, membership.Change{Units: &[]string{"gone"}}); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("member into a missing unit: %v", err)
	}
	// A unit-scoped coordinator sees its units only and may not create units.
	if us, _ := orgs.ListUnits(ctx, coord, orgID); len(us) != 1 || us[0].ID != north {
		t.Fatalf("coordinator's units %+v", us)
	}
	if _, err := orgs.CreateUnit(ctx, coord, orgID, "Mine"); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("scoped coordinator creates a unit: %v", err)
	}

	// Settings: only org-wide admins change them; values are checked.
	if _, err := orgs.UpdateSettings(ctx, coord, orgID, org.SettingsChange{InvitationLifetimeDays: intp(7)}); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("coordinator changes settings: %v", err)
	}
	_, err = orgs.UpdateSettings(ctx, ada, orgID, org.SettingsChange{InvitationLifetimeDays: intp(91), ReminderDaysBeforeExpiry: intp(-1),
		CustomFields: &[]org.CustomField{{Key: "1bad", Label: "", Type: "colour"}}})
	if e, ok := fault.As(err); !ok || len(e.Fields) != 5 {
		t.Fatalf("want 5 field errors, got %v", err)
	}
	st, err := orgs.UpdateSettings(ctx, ada, orgID, org.SettingsChange{InvitationLifetimeDays: intp(7), ReminderDaysBeforeExpiry: intp(2),
		CustomFields: &[]org.CustomField{
			{Key: "costCentre", Label: "Cost centre", Type: org.FieldSelect, Required: true, AllowedValues: []string{"A100", "B200"}},
			{Key: "startDate", Label: "Start date", Type: org.FieldDate},
		}})
	if err != nil || st.InvitationLifetimeDays != 7 || len(st.CustomFields) != 2 || st.RateLimits.InvitationsPerHour != 500 {
		t.Fatalf("settings %+v %v", st, err)
	}
	orgs.Languages = []string{"en", "nb"}
	_, err = orgs.UpdateSettings(ctx, ada, orgID, org.SettingsChange{EmailTemplates: &org.EmailTemplates{
		"postcard":   {"en": {Subject: "x", Body: "y"}},
		"invitation": {"xx": {Subject: "x", Body: "y"}, "nb": {Subject: "{{.Shoe}}", Body: "{{.OrgName"}},
	}})
	if e, ok := fault.As(err); !ok || len(e.Fields) != 4 {
		t.Fatalf("want 4 template errors (kind, language, unknown field, broken template), got %v", err)
	}
	if _, err := orgs.UpdateSettings(ctx, ada, orgID, org.SettingsChange{EmailTemplates: &org.EmailTemplates{
		"invitation": {"nb": {Subject: "Velkommen til {{.OrgName}}", Body: "Hei {{.Name}}"}},
	}}); err != nil {
		t.Fatalf("valid override: %v", err)
	}
	got, _ := orgs.Settings(ctx, ada, orgID)
	if got.EmailTemplates["invitation"]["nb"].Subject != "Velkommen til {{.OrgName}}" {
		t.Fatalf("override not stored: %+v", got.EmailTemplates)
	}
	if got.InvitationLifetimeDays != 7 {
		t.Fatalf("stored settings %+v", got)
	}

	// Custom fields are checked on every invitation; the lifetime applies.
	_, err = f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "c@example.no", Role: "member",
		Attributes: org.Attributes{"costCentre": "Z999", "startDate": "soon", "shoeSize": "44"}})
	if e, ok := fault.As(err); !ok || len(e.Fields) != 3 {
		t.Fatalf("attributes: %v", err)
	}
	_, err = f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "c@example.no", Role: "member"})
	if e, ok := fault.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != "attributes.costCentre" {
		t.Fatalf("missing required attribute: %v", err)
	}
	inv, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "c@example.no", Role: "member",
		Attributes: org.Attributes{"costCentre": "A100", "startDate": "2026-12-01"}})
	if err != nil || inv.Attributes["costCentre"] != "A100" || inv.ExpiresAt.Sub(inv.CreatedAt).Hours() != 7*24 {
		t.Fatalf("valid attributes: %+v %v", inv, err)
	}
}

// TestUnitDeleteRacesInvitations: invitations and a member change naming a
// unit race its deletion, round after round. The racers start when the
// delete has checked that nothing is in the unit and is about to write,
// and the delete waits a random while (up to an invitation's time) before
// it does, so each round races a different part of the invitations'
// work. Whichever wins, afterwards no pending invitation and no member
// names a unit that does not exist.
func TestUnitDeleteRacesInvitations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	orgs := &org.Service{Store: f.store, Now: f.clock.Now}
	members := &membership.Service{Store: f.store, Now: f.clock.Now}
	cora := f.join(t, ada, orgID, "cora@example.no", "member")
	const rounds, invites = 30, 8
	var deleted, joined int
	for round := range rounds {
		unit := f.unit(t, orgID, ada, fmt.Sprintf("Unit %d", round))
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		race := func(fn func() error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := fn()
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					joined++
				case fault.CodeOf(err) == fault.Conflict, fault.CodeOf(err) == fault.Invalid: // the unit is in use, or gone
				default:
					t.Errorf("round %d: %v", round, err)
				}
			}()
		}
		for i := range invites {
			race(func() error {
				_, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: fmt.Sprintf("r%d-%d@example.no", round, i), Role: "member", Units: []string{unit}})
				return err
			})
		}
		race(func() error {
			_, err := members.Update(ctx, ada, orgID, cora, membership.Change{Units: &[]string{unit}})
			return err
		})
		wait := time.Duration(rand.Int64N(int64(100 * time.Millisecond)))
		deleter := &org.Service{Now: f.clock.Now, Store: ddb.New(&beforeFirstWrite{Client: testenv.DynamoDBClient(), fn: func() {
			close(start)
			time.Sleep(wait)
		}}, f.table, f.clock.Now)}
		switch err := deleter.DeleteUnit(ctx, ada, orgID, unit); {
		case err == nil:
			deleted++
		case fault.CodeOf(err) == fault.Conflict: // something got into the unit first
		default:
			t.Fatalf("round %d: delete: %v", round, err)
		}
		wg.Wait()
	}
	t.Logf("%d of %d deletes won; %d invitations and member changes", deleted, rounds, joined)

	units, err := orgs.ListUnits(ctx, ada, orgID)
	if err != nil {
		t.Fatal(err)
	}
	exists := map[string]bool{}
	for _, u := range units {
		exists[u.ID] = true
	}
	for cursor := ""; ; {
		invs, next, err := f.store.ListInvitations(ctx, orgID, invite.Pending, 100, cursor, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			for _, u := range inv.Units {
				if !exists[u] {
					t.Errorf("pending invitation %s names unit %s, which was deleted", inv.ID, u)
				}
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	for cursor := ""; ; {
		ms, next, err := f.store.ListMembers(ctx, orgID, "", "", 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			for _, u := range m.Units {
				if !exists[u] {
					t.Errorf("member %s names unit %s, which was deleted", m.UserID, u)
				}
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
}

// TestUnitDeleteFailsAfterAJoin: a delete is conditional on the unit as it
// was read before it was found empty; an invitation into it since then
// fails the delete (Conflict), and a unit deleted meanwhile is NotFound.
func TestUnitDeleteFailsAfterAJoin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	e := func(id string) audit.Entry {
		return audit.New(orgID, ada, audit.UnitDeleted, "unit", id, f.clock.Now())
	}
	id := f.unit(t, orgID, ada, "North")
	seen, err := f.store.Unit(ctx, orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "n@example.no", Role: "member", Units: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteUnit(ctx, orgID, seen, e(id)); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("delete after an invitation joined: %v", err)
	}
	if _, err := f.store.Unit(ctx, orgID, id); err != nil {
		t.Fatalf("the unit is gone: %v", err)
	}

	empty := f.unit(t, orgID, ada, "South")
	seen, err = f.store.Unit(ctx, orgID, empty)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteUnit(ctx, orgID, seen, e(empty)); err != nil {
		t.Fatalf("delete an empty unit: %v", err)
	}
	if err := f.store.DeleteUnit(ctx, orgID, seen, e(empty)); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("delete it again: %v", err)
	}
}

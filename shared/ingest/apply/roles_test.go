package apply_test

import (
	"context"
	"testing"

	"onboarding/shared/access"
	"onboarding/shared/ingest/ingesttest"
	"onboarding/shared/org"
	"onboarding/shared/roster"
)

// In an organisation with its own roles, a roster names them by display
// name, a row without a role gets the monitored role (there is no
// "member"), and only monitored rows need escalation contacts.
func TestRosterWithCustomRoles(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	roles := &org.RoleService{Store: w.Store, Now: w.Svc.Now}
	if _, err := roles.PutRoles(ctx, w.Admin, w.OrgID, org.RoleTable{Roles: access.Roles{
		access.OwnerRole(map[string]string{"en": "Admin"}, []string{"admin", "responder", "lone-worker"}, false),
		{Key: "responder", Names: map[string]string{"en": "Responder", "nb": "Vaktansvarlig"}, MayInvite: []string{"lone-worker"}, ReadLists: true},
		{Key: "lone-worker", Names: map[string]string{"en": "Lone worker", "nb": "Alenearbeider"}, MayInvite: []string{}, Monitored: true},
	}}); err != nil {
		t.Fatal(err)
	}
	csv := ingesttest.Header +
		"Kari,Nordmann,kari@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,blåbær,\n" + // no role: a lone worker
		"Rune,R,rune@example.no,915 12 346,vaktansvarlig,Nord,,,,,,\n" + // a responder: not monitored, no contacts needed
		"Nils,N,nils@example.no,915 12 347,Alenearbeider,,,,,,,\n" // a lone worker without contacts
	got := run(w, "", csv)
	want := map[string]string{"kari@example.no": roster.Created, "rune@example.no": roster.Created, "nils@example.no": roster.Failed}
	for email, outcome := range want {
		if got[email].Outcome != outcome {
			t.Errorf("%s: %+v, want %s", email, got[email], outcome)
		}
	}
	for email, role := range map[string]string{"kari@example.no": "lone-worker", "rune@example.no": "responder"} {
		inv, err := w.Store.PendingInvitation(ctx, w.OrgID, email)
		if err != nil || inv == nil || inv.Role != role {
			t.Errorf("%s invited as %+v (%v), want %s", email, inv, err, role)
		}
	}
}

package adminapi_test

import (
	"context"
	"testing"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/org"
)

// loneWorkerTable is the lone-worker product's roles: the owner, responders
// (who invite lone workers, read lists, configure units, manage partners
// and settings) and lone workers, who are monitored and may do nothing.
func loneWorkerTable() access.Roles {
	return access.Roles{
		access.OwnerRole(map[string]string{"en": "Admin", "nb": "Administrator"}, []string{"admin", "responder", "lone-worker"}, false),
		{Key: "responder", Names: map[string]string{"en": "Responder", "nb": "Vaktansvarlig"}, MayInvite: []string{"lone-worker"},
			ConfigureUnits: true, ReadLists: true, ManagePartners: true, ManageSettings: true},
		{Key: "lone-worker", Names: map[string]string{"en": "Lone worker", "nb": "Alenearbeider"}, MayInvite: []string{}, Monitored: true},
	}
}

var customActorOrder = []string{"org-wide admin", "responder", "unit responder", "lone worker", "other org's admin"}

// The matrix over a custom role table: what each may do follows its role's
// abilities, not its key; roles are named by any display name; nobody
// grants what they lack.
func TestAuthorizationMatrixCustomRoles(t *testing.T) {
	w := newBareWorld(t)
	ctx := context.Background()
	roles := &org.RoleService{Store: w.store, Now: time.Now}
	reset := func() int {
		t.Helper()
		cur, err := roles.Roles(ctx, w.owner, w.orgID)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := roles.PutRoles(ctx, w.owner, w.orgID, org.RoleTable{Version: cur.Version, Roles: loneWorkerTable()})
		if err != nil {
			t.Fatal(err)
		}
		return stored.Version
	}
	reset()
	w.actors["org-wide admin"] = w.join(w.owner, "admin")
	w.actors["responder"] = w.join(w.owner, "responder")
	w.actors["unit responder"] = w.join(w.owner, "responder", w.unitA)
	w.actors["lone worker"] = w.join(w.owner, "lone-worker", w.unitA)

	A := w.unitA
	o := map[string]string{"orgId": w.orgID}
	var version int
	// changed is the lone-worker table with one change, at the stored
	// version (put back before each call).
	changed := func(f func(rs access.Roles)) func() any {
		return func() any {
			rs := loneWorkerTable()
			f(rs)
			return org.RoleTable{Version: version, Roles: rs}
		}
	}
	resetFirst := func() map[string]string { version = reset(); return o }
	cases := []struct {
		name   string
		route  string
		params func() map[string]string
		body   func() any
		want   [5]int
	}{
		{"invite a lone worker (by display name) into A", "POST /orgs/{orgId}/invitations", func() map[string]string { return o },
			func() any {
				return map[string]any{"email": w.email("lw"), "role": "Alenearbeider", "units": []string{A}}
			}, [5]int{201, 201, 201, 403, 403}},
		{"invite an org-wide lone worker", "POST /orgs/{orgId}/invitations", func() map[string]string { return o },
			func() any { return map[string]any{"email": w.email("lw"), "role": "lone-worker"} }, [5]int{201, 201, 403, 403, 403}},
		{"invite a responder", "POST /orgs/{orgId}/invitations", func() map[string]string { return o },
			func() any { return map[string]any{"email": w.email("r"), "role": "Responder"} }, [5]int{201, 403, 403, 403, 403}},
		{"list members", "GET /orgs/{orgId}/members", func() map[string]string { return o }, nil, [5]int{200, 200, 200, 403, 403}},
		{"list invitations", "GET /orgs/{orgId}/invitations", func() map[string]string { return o }, nil, [5]int{200, 200, 200, 403, 403}},
		{"read settings", "GET /orgs/{orgId}/settings", func() map[string]string { return o }, nil, [5]int{200, 200, 200, 403, 403}},
		{"change settings", "PATCH /orgs/{orgId}/settings", func() map[string]string { return o },
			func() any { return map[string]any{"invitationLifetimeDays": 30} }, [5]int{200, 200, 403, 403, 403}},
		{"read the audit trail", "GET /orgs/{orgId}/audit", func() map[string]string { return o }, nil, [5]int{200, 403, 403, 403, 403}},
		{"list partners", "GET /orgs/{orgId}/partners", func() map[string]string { return o }, nil, [5]int{200, 200, 403, 403, 403}},
		{"create a unit", "POST /orgs/{orgId}/units", func() map[string]string { return o },
			func() any { return map[string]any{"name": w.email("unit")} }, [5]int{201, 201, 403, 403, 403}},
		{"read the roles", "GET /orgs/{orgId}/roles", func() map[string]string { return o }, nil, [5]int{200, 200, 200, 403, 403}},
		{"replace the roles (unchanged)", "PUT /orgs/{orgId}/roles", resetFirst, changed(func(access.Roles) {}), [5]int{200, 200, 403, 403, 403}},
		{"rename lone workers", "PUT /orgs/{orgId}/roles", resetFirst,
			changed(func(rs access.Roles) { rs[2].Names = map[string]string{"en": "Field worker"} }), [5]int{200, 200, 403, 403, 403}},
		{"grant lone workers an ability the responder has", "PUT /orgs/{orgId}/roles", resetFirst,
			changed(func(rs access.Roles) { rs[2].ReadLists = true }), [5]int{200, 200, 403, 403, 403}},
		{"grant lone workers the audit trail", "PUT /orgs/{orgId}/roles", resetFirst,
			changed(func(rs access.Roles) { rs[2].ReadAudit = true }), [5]int{200, 403, 403, 403, 403}},
		{"let lone workers invite admins", "PUT /orgs/{orgId}/roles", resetFirst,
			changed(func(rs access.Roles) { rs[2].MayInvite = []string{"admin"} }), [5]int{200, 403, 403, 403, 403}},
		{"monitor responders", "PUT /orgs/{orgId}/roles", resetFirst,
			changed(func(rs access.Roles) { rs[1].Monitored = true }), [5]int{200, 403, 403, 403, 403}},
		{"rename the owner", "PUT /orgs/{orgId}/roles", resetFirst,
			changed(func(rs access.Roles) { rs[0].Names = map[string]string{"en": "Owner"} }), [5]int{200, 403, 403, 403, 403}},
		// Only the owner changes the owner role, whose mayInvite a deleted
		// role must leave.
		{"delete the lone-worker role (held)", "PUT /orgs/{orgId}/roles", resetFirst, func() any {
			responder := loneWorkerTable()[1]
			responder.MayInvite = []string{}
			return org.RoleTable{Version: version, Roles: access.Roles{
				access.OwnerRole(map[string]string{"en": "Admin"}, []string{"admin", "responder"}, false), responder}}
		}, [5]int{409, 403, 403, 403, 403}},
	}
	for _, tc := range cases {
		for i, actor := range customActorOrder {
			t.Run(tc.name+"/"+actor, func(t *testing.T) {
				params := tc.params()
				var body any
				if tc.body != nil {
					body = tc.body()
				}
				if got := w.call(actor, tc.route, params, body); got != tc.want[i] {
					t.Errorf("%s: %s got %d, want %d", tc.route, actor, got, tc.want[i])
				}
			})
		}
	}
}

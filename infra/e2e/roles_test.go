package e2e

import (
	"strings"
	"testing"

	"onboarding/infra/testenv"
)

type roleTable struct {
	Version int              `json:"version"`
	Roles   []map[string]any `json:"roles"`
}

// loneWorkerRoles is the lone-worker product's table: the owner, responders
// who invite lone workers and manage settings, and monitored lone workers.
func loneWorkerRoles(version int, change func(roles []map[string]any)) roleTable {
	role := func(key string, names map[string]string, mayInvite []string, abilities ...string) map[string]any {
		r := map[string]any{"key": key, "names": names, "owner": key == "admin", "mayInvite": mayInvite, "monitored": key == "lone-worker"}
		for _, ab := range []string{"configureUnits", "readLists", "readAudit", "managePartners", "manageSettings", "importRosters"} {
			r[ab] = key == "admin"
		}
		for _, ab := range abilities {
			r[ab] = true
		}
		return r
	}
	roles := []map[string]any{
		role("admin", map[string]string{"en": "Admin", "nb": "Administrator"}, []string{"admin", "responder", "lone-worker"}),
		role("responder", map[string]string{"en": "Responder", "nb": "Vaktansvarlig"}, []string{"lone-worker"}, "readLists", "manageSettings"),
		role("lone-worker", map[string]string{"en": "Lone worker", "nb": "Alenearbeider"}, []string{}),
	}
	if change != nil {
		change(roles)
	}
	return roleTable{Version: version, Roles: roles}
}

// TestCustomRolesThroughRunner: an owner replaces the default roles with
// the lone-worker table, invites by a display name, cannot delete a role
// that is held (the answer names the counts), and a responder cannot grant
// an ability it lacks; a stale version is refused.
func TestCustomRolesThroughRunner(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail, responderEmail, workerEmail := "ada-"+id+"@example.no", "rune-"+id+"@example.no", "lea-"+id+"@example.no"
	orgID := Provision(t, s, "Lone Work "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	path := "/orgs/" + orgID + "/roles"

	var table roleTable
	mustStatus(t, admin.Call("GET", path, nil, &table), 200)
	if table.Version != 0 || len(table.Roles) != 4 {
		t.Fatalf("default roles %+v", table)
	}
	// Unknown members are refused, not ignored.
	mustStatus(t, admin.Call("PUT", path, map[string]any{"version": 0, "roles": loneWorkerRoles(0, nil).Roles, "etag": "x"}, nil), 422)

	var stored roleTable
	mustStatus(t, admin.Call("PUT", path, loneWorkerRoles(0, nil), &stored), 200)
	if stored.Version != 1 || len(stored.Roles) != 3 {
		t.Fatalf("stored %+v", stored)
	}
	// Another admin's change from the old version does not overwrite it.
	mustStatus(t, admin.Call("PUT", path, loneWorkerRoles(0, nil), nil), 409)

	// Invitations name a role by any display name; the key is stored.
	var inv struct {
		Role string `json:"role"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": responderEmail, "role": "vaktansvarlig"}, &inv), 201)
	if inv.Role != "responder" {
		t.Fatalf("invitation role %q", inv.Role)
	}
	responder := signUp(t, s, responderEmail, "responder passphrase", 1)
	mustStatus(t, responder.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": workerEmail, "role": "Lone worker"}, &inv), 201)
	if inv.Role != "lone-worker" {
		t.Fatalf("invitation role %q", inv.Role)
	}
	// A responder may not invite responders.
	mustStatus(t, responder.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": "x-" + id + "@example.no", "role": "responder"}, nil), 403)

	// Deleting a held role is refused, naming who holds it.
	var p struct {
		problem
		InUse []struct {
			Role        string `json:"role"`
			Members     int    `json:"members"`
			Invitations int    `json:"invitations"`
		} `json:"inUse"`
	}
	withoutResponders := loneWorkerRoles(1, nil)
	withoutResponders.Roles = []map[string]any{withoutResponders.Roles[0], withoutResponders.Roles[2]}
	withoutResponders.Roles[0]["mayInvite"] = []string{"admin", "lone-worker"}
	mustStatus(t, admin.Call("PUT", path, withoutResponders, &p), 409)
	if len(p.InUse) != 1 || p.InUse[0].Role != "responder" || p.InUse[0].Members != 1 || p.InUse[0].Invitations != 0 ||
		!strings.Contains(p.Detail, "1 members and 0 pending invitations") {
		t.Fatalf("in use %+v", p)
	}

	// The responder manages settings but cannot grant what it lacks.
	grant := loneWorkerRoles(1, func(rs []map[string]any) { rs[2]["readAudit"] = true })
	mustStatus(t, responder.Call("PUT", path, grant, &p), 403)
	if !strings.Contains(p.Detail, "readAudit") {
		t.Fatalf("refusal %+v", p)
	}
	// What it has, it may give.
	mustStatus(t, responder.Call("PUT", path, loneWorkerRoles(1, func(rs []map[string]any) { rs[2]["readLists"] = true }), &stored), 200)
	if stored.Version != 2 {
		t.Fatalf("version %d", stored.Version)
	}
	// The audit trail stays the owner's.
	mustStatus(t, responder.Call("GET", "/orgs/"+orgID+"/audit", nil, nil), 403)
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/audit", nil, nil), 200)
}

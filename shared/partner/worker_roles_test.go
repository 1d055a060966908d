package partner

import (
	"testing"

	"onboarding/shared/access"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// Who is a worker follows the organisation's monitored roles, not the
// "member" key.
func TestWorkersAreTheMonitoredRoles(t *testing.T) {
	roles := access.Roles{
		access.OwnerRole(map[string]string{"en": "Admin"}, []string{"admin", "responder", "lone-worker"}, false),
		{Key: "responder", Names: map[string]string{"en": "Responder"}, MayInvite: []string{"lone-worker"}},
		{Key: "lone-worker", Names: map[string]string{"en": "Lone worker"}, MayInvite: []string{}, Monitored: true},
		{Key: "member", Names: map[string]string{"en": "Member"}, MayInvite: []string{}},
	}
	p := Partner{OrgID: "o1", ID: "vakt", AddedOn: AddedOnInvite}
	for role, want := range map[string]bool{"lone-worker": true, "member": false, "responder": false, "admin": false, "gone": false} {
		m := Source{OrgID: "o1", Email: "a@example.no", Roles: roles, Member: &org.Member{UserID: "u1", Email: "a@example.no", Role: role}}
		if _, ok := p.WorkerOf(m); ok != want {
			t.Errorf("member of role %s: worker %v, want %v", role, ok, want)
		}
		i := Source{OrgID: "o1", Email: "b@example.no", Roles: roles, Invitation: &invite.Invitation{Email: "b@example.no", Role: role, Status: invite.Pending}}
		if _, ok := p.WorkerOf(i); ok != want {
			t.Errorf("invitation of role %s: worker %v, want %v", role, ok, want)
		}
	}
}

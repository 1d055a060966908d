package access

import (
	"testing"

	"onboarding/shared/fault"
)

func TestCheckInvite(t *testing.T) {
	roles := Roles(DefaultRoles())
	cases := []struct {
		name  string
		actor Actor
		role  string
		units []string
		want  fault.Code // "" means allowed
	}{
		{"org admin invites admin", Actor{Role: Admin}, Admin, nil, ""},
		{"org admin invites member into unit", Actor{Role: Admin}, Member, []string{"u1"}, ""},
		{"scoped admin may not invite admin", Actor{Role: Admin, Units: []string{"u1"}}, Admin, []string{"u1"}, fault.Forbidden},
		{"scoped admin invites into own unit", Actor{Role: Admin, Units: []string{"u1"}}, Member, []string{"u1"}, ""},
		{"scoped admin outside own unit", Actor{Role: Admin, Units: []string{"u1"}}, Member, []string{"u2"}, fault.Forbidden},
		{"scoped admin org-wide invitation", Actor{Role: Admin, Units: []string{"u1"}}, Member, nil, fault.Forbidden},
		{"coordinator invites reporter", Actor{Role: Coordinator}, Reporter, nil, ""},
		{"coordinator may not invite admin", Actor{Role: Coordinator}, Admin, nil, fault.Forbidden},
		{"reporter may not invite", Actor{Role: Reporter}, Member, nil, fault.Forbidden},
		{"member may not invite", Actor{Role: Member}, Member, nil, fault.Forbidden},
		{"unknown actor role", Actor{Role: "ghost"}, Member, nil, fault.Forbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := roles.CheckInvite(tc.actor, tc.role, tc.units)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			if got := fault.CodeOf(err); got != tc.want {
				t.Fatalf("want %s, got %v", tc.want, err)
			}
		})
	}
}

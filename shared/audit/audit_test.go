package audit

import (
	"testing"
	"time"
)

func TestPseudonymisation(t *testing.T) {
	p := Pseudonymisation{Pseudonym: "erased-x", IDs: []string{"u1", "inv1"},
		Identifying: []string{"kari@example.com", ""}, Names: []string{"Kari", "Nordmann"}}
	at := time.Now()
	cases := []struct {
		name  string
		in    Entry
		about bool
		check func(Entry) bool
	}{
		{"target", New("o", "a1", MemberRemoved, "member", "u1", at).Changed(map[string]any{"email": "kari@example.com", "units": []any{"x"}}, nil), true,
			func(e Entry) bool {
				return e.TargetID == "erased-x" && e.Before["email"] == "erased-x" && e.ActorID == "a1"
			}},
		{"actor", New("o", "u1", UnitCreated, "unit", "n1", at).Changed(nil, map[string]any{"name": "Kari"}), true,
			func(e Entry) bool { return e.ActorID == "erased-x" && e.After["name"] == "erased-x" }},
		{"email of an invitation deleted", New("o", "a1", InvitationDeleted, "invitation", "gone", at).Changed(map[string]any{"email": "kari@example.com"}, nil), true,
			func(e Entry) bool { return e.Before["email"] == "erased-x" }},
		{"someone else named Kari", New("o", "a1", UnitCreated, "unit", "n1", at).Changed(nil, map[string]any{"name": "Kari"}), false,
			func(e Entry) bool { return e.After["name"] == "Kari" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, about := p.Apply(c.in)
			if about != c.about || !c.check(got) {
				t.Errorf("got %+v (about %v)", got, about)
			}
		})
	}
}

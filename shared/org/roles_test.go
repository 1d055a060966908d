package org

import (
	"context"
	"strings"
	"testing"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
)

// loneWorker is the lone-worker product's table: admins (the owner),
// responders who invite lone workers, and lone workers, who are monitored.
func loneWorker() access.Roles {
	return access.Roles{
		access.OwnerRole(map[string]string{"en": "Admin", "nb": "Administrator"}, []string{"admin", "responder", "lone-worker"}, false),
		{Key: "responder", Names: map[string]string{"en": "Responder", "nb": "Responder"}, MayInvite: []string{"lone-worker"},
			ReadLists: true, ManageSettings: true},
		{Key: "lone-worker", Names: map[string]string{"en": "Lone worker", "nb": "Alenearbeider"}, MayInvite: []string{}, Monitored: true},
	}
}

func fieldsOf(err error) string {
	e, ok := fault.As(err)
	if !ok {
		return ""
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field+": "+f.Message)
	}
	return strings.Join(out, "; ")
}

func TestCheckRolesKeepsTheInvariants(t *testing.T) {
	old := loneWorker()
	edit := func(f func(rs access.Roles) access.Roles) access.Roles {
		rs := loneWorker()
		for i := range rs {
			rs[i].Names = map[string]string{}
			for k, v := range loneWorker()[i].Names {
				rs[i].Names[k] = v
			}
			rs[i].MayInvite = append([]string{}, rs[i].MayInvite...)
		}
		return f(rs)
	}
	cases := []struct {
		name  string
		roles access.Roles
		want  string // a field error's text, "" for valid
	}{
		{"unchanged", loneWorker(), ""},
		{"owner renamed", edit(func(rs access.Roles) access.Roles { rs[0].Names = map[string]string{"en": "Boss"}; return rs }), ""},
		{"owner removed", edit(func(rs access.Roles) access.Roles { return rs[1:] }), "cannot be removed"},
		{"owner stripped", edit(func(rs access.Roles) access.Roles { rs[0].ReadAudit = false; return rs }), "roles[0].readAudit: the owner role holds every ability"},
		{"owner stops inviting", edit(func(rs access.Roles) access.Roles { rs[0].MayInvite = []string{"admin"}; return rs }), "may not stop inviting"},
		{"second owner", edit(func(rs access.Roles) access.Roles { rs[1].Owner = true; return rs }), "roles[1].owner"},
		{"bad key", edit(func(rs access.Roles) access.Roles { rs[1].Key = "Responder!"; return rs }), "roles[1].key"},
		{"long key", edit(func(rs access.Roles) access.Roles { rs[1].Key = strings.Repeat("a", 41); return rs }), "roles[1].key"},
		{"duplicate key", edit(func(rs access.Roles) access.Roles { rs[2].Key = "responder"; return rs }), "another role has this key"},
		{"no names", edit(func(rs access.Roles) access.Roles { rs[1].Names = nil; return rs }), "at least one display name"},
		{"bad language", edit(func(rs access.Roles) access.Roles { rs[1].Names["not a tag"] = "X"; return rs }), "BCP 47"},
		{"long name", edit(func(rs access.Roles) access.Roles { rs[1].Names["en"] = strings.Repeat("x", 61); return rs }), "from 1 to 60"},
		{"name is another's key", edit(func(rs access.Roles) access.Roles { rs[1].Names["de"] = " Lone-Worker "; return rs }), `"lone-worker" is already called this`},
		{"name is another's name", edit(func(rs access.Roles) access.Roles { rs[2].Names["sv"] = "ADMINISTRATOR"; return rs }), `"admin" is already called this`},
		{"unknown mayInvite", edit(func(rs access.Roles) access.Roles { rs[1].MayInvite = []string{"ghost"}; return rs }), "no role has this key"},
		{"too many", func() access.Roles {
			rs := loneWorker()
			for i := 0; len(rs) <= MaxRoles; i++ {
				rs = append(rs, access.Role{Key: "r" + strings.Repeat("x", i), Names: map[string]string{"en": "R" + strings.Repeat("x", i)}})
			}
			return rs
		}(), "from 1 to 20 roles"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := CheckRoles(old, c.roles)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(out) != len(c.roles) {
					t.Fatalf("%d roles back, sent %d", len(out), len(c.roles))
				}
				return
			}
			if fault.CodeOf(err) != fault.Invalid || !strings.Contains(fieldsOf(err), c.want) {
				t.Fatalf("got %v (%s), want a field error with %q", err, fieldsOf(err), c.want)
			}
		})
	}
}

// A table that passes resolves every key and name to one role.
func TestCheckedRolesResolveUnambiguously(t *testing.T) {
	rs, err := CheckRoles(access.DefaultRoles(), loneWorker())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		for _, n := range append([]string{r.Key}, func() []string {
			var ns []string
			for _, n := range r.Names {
				ns = append(ns, n)
			}
			return ns
		}()...) {
			if k, ok := rs.Resolve(strings.ToUpper(n)); !ok || k != r.Key {
				t.Errorf("Resolve(%q) = %q, %v; want %q", n, k, ok, r.Key)
			}
		}
	}
}

// TestRoleNamesAreWhatTheyLookLike: names are NFKC (a full-width "Ａdmin"
// is the owner's "Admin"), carry no invisible characters, and are bounded
// in number, so the check stays linear and cheap.
func TestRoleNamesAreWhatTheyLookLike(t *testing.T) {
	cases := map[string]struct {
		names map[string]string
		want  string
	}{
		"full-width look-alike of the owner's name": {map[string]string{"en": "Ａdmin"}, "already called"},
		"zero-width space":                          {map[string]string{"en": "Ad\u200bmin"}, "invisible"},
		"right-to-left override":                    {map[string]string{"en": "\u202eAdmin"}, "invisible"},
		"too many names":                            {manyNames(MaxRoleNames + 1), "at most"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rs := loneWorker()
			rs[2].Names = c.names
			_, err := CheckRoles(loneWorker(), rs)
			if !strings.Contains(fieldsOf(err), c.want) {
				t.Fatalf("got %v, want a field error with %q", err, c.want)
			}
		})
	}
	rs := loneWorker()
	rs[2].Names = manyNames(MaxRoleNames)
	if _, err := CheckRoles(loneWorker(), rs); err != nil {
		t.Fatalf("%d names: %v", MaxRoleNames, err)
	}
}

func manyNames(n int) map[string]string {
	langs := []string{"ar", "da", "de", "en", "es", "fi", "fr", "id", "nb", "nl", "pl", "sv", "en-US", "en-GB", "de-AT", "de-CH", "fr-CA",
		"fr-BE", "es-MX", "es-AR", "nl-BE", "sv-FI", "pt", "it", "ja", "ko"}
	out := map[string]string{}
	for i := range n {
		out[langs[i]] = "Solo " + langs[i]
	}
	return out
}

func TestNobodyGrantsWhatTheyLack(t *testing.T) {
	old := loneWorker()
	responder := access.Actor{UserID: "u", Role: "responder"}
	owner := access.Actor{UserID: "o", Role: access.Owner}
	change := func(f func(rs access.Roles)) access.Roles {
		rs := loneWorker()
		f(rs)
		return rs
	}
	cases := []struct {
		name  string
		actor access.Actor
		roles access.Roles
		ok    bool
	}{
		{"owner grants anything", owner, change(func(rs access.Roles) { rs[2].ReadAudit = true }), true},
		{"responder grants an ability it has", responder, change(func(rs access.Roles) { rs[2].ReadLists = true }), true},
		{"responder grants one it lacks", responder, change(func(rs access.Roles) { rs[2].ReadAudit = true }), false},
		{"responder grants itself one it lacks", responder, change(func(rs access.Roles) { rs[1].ImportRosters = true }), false},
		{"responder lets a role invite what it invites", responder, change(func(rs access.Roles) { rs[2].MayInvite = []string{"lone-worker"} }), true},
		{"responder lets a role invite admins", responder, change(func(rs access.Roles) { rs[2].MayInvite = []string{"admin"} }), false},
		{"responder renames the owner", responder, change(func(rs access.Roles) { rs[0].Names = map[string]string{"en": "Boss"} }), false},
		{"responder unmonitors lone workers (it invites them)", responder, change(func(rs access.Roles) { rs[2].Monitored = false }), true},
		{"responder monitors itself (it cannot invite responders)", responder, change(func(rs access.Roles) { rs[1].Monitored = true }), false},
		{"responder adds a role with an ability it lacks", responder, append(loneWorker(), access.Role{Key: "auditor",
			Names: map[string]string{"en": "Auditor"}, ReadAudit: true}), false},
		{"responder adds a role it may shape", responder, append(loneWorker(), access.Role{Key: "viewer",
			Names: map[string]string{"en": "Viewer"}, ReadLists: true}), true},
		{"responder renames lone workers (it invites them)", responder, change(func(rs access.Roles) { rs[2].Names = map[string]string{"en": "Solo"} }), true},
		{"responder strips its own role (it cannot invite responders)", responder, change(func(rs access.Roles) { rs[1].ReadLists = false }), false},
		{"responder renames its own role", responder, change(func(rs access.Roles) { rs[1].Names = map[string]string{"en": "Chief"} }), false},
		{"responder deletes a role it invites", responder, loneWorker()[:2], true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := MayGrant(old, c.actor, c.roles)
			if c.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v", err, c.ok)
			}
			if err != nil && fault.CodeOf(err) != fault.Forbidden {
				t.Fatalf("code %s", fault.CodeOf(err))
			}
		})
	}
	withAuditors := append(loneWorker(), access.Role{Key: "auditor", Names: map[string]string{"en": "Auditor"}, ReadAudit: true})
	if err := MayGrant(withAuditors, responder, loneWorker()); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("responder deletes a role it cannot invite: %v", err)
	}
}

type roleStore struct {
	o    Organisation
	puts int
}

func (s *roleStore) Actor(ctx context.Context, orgID, userID string) (Organisation, *Member, error) {
	return s.o, &Member{UserID: userID, OrgID: orgID, Role: "responder", Units: []string{}}, nil
}

func (s *roleStore) PutRoles(ctx context.Context, orgID string, version int, old, roles access.Roles, e audit.Entry) (int, error) {
	s.puts++
	return version + 1, nil
}

// TestRolesAreCheckedAgainstTheVersionTheyReplace: a table is checked
// against the one read, so a change naming another version (a later one an
// owner has yet to write, say, demoting the caller) is refused before it is
// checked or stored (review: checked against one table, written over another).
func TestRolesAreCheckedAgainstTheVersionTheyReplace(t *testing.T) {
	store := &roleStore{o: Organisation{ID: "o1", Roles: loneWorker(), RolesVersion: 5}}
	svc := &RoleService{Store: store, Now: time.Now}
	for _, v := range []int{4, 6} {
		if _, err := svc.PutRoles(context.Background(), "u", "o1", RoleTable{Version: v, Roles: loneWorker()}); fault.CodeOf(err) != fault.Conflict {
			t.Fatalf("version %d against 5: %v", v, err)
		}
	}
	if store.puts != 0 {
		t.Fatalf("%d tables stored", store.puts)
	}
	if _, err := svc.PutRoles(context.Background(), "u", "o1", RoleTable{Version: 5, Roles: loneWorker()}); err != nil || store.puts != 1 {
		t.Fatalf("the version read: %v, %d stored", err, store.puts)
	}
}

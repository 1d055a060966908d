package erasure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/partner"
	"onboarding/shared/quota"
)

// fakeStore keeps accounts, memberships and invitations in maps and
// records what was erased, in order.
type fakeStore struct {
	accounts map[string]*account.Account
	members  []org.Member
	orgs     map[string]org.Organisation
	invites  []invite.Invitation
	profiles map[string]*monitor.Record // orgID/userID
	entries  map[string][]audit.Entry   // by org
	steps    []string
	// acceptDuringErasure, when set, makes the first EraseInvitation find
	// the invitation accepted meanwhile (a new membership).
	acceptDuringErasure bool
}

func (f *fakeStore) Account(_ context.Context, id string) (*account.Account, error) {
	return f.accounts[id], nil
}
func (f *fakeStore) Memberships(_ context.Context, id string) ([]org.Member, error) {
	var out []org.Member
	for _, m := range f.members {
		if m.UserID == id {
			out = append(out, m)
		}
	}
	return out, nil
}
func (f *fakeStore) Actor(_ context.Context, orgID, userID string) (org.Organisation, *org.Member, error) {
	for _, m := range f.members {
		if m.OrgID == orgID && m.UserID == userID {
			return f.orgs[orgID], &m, nil
		}
	}
	return f.orgs[orgID], nil, nil
}
func (f *fakeStore) MonitoringProfile(_ context.Context, orgID, userID string) (*monitor.Record, error) {
	return f.profiles[orgID+"/"+userID], nil
}
func (f *fakeStore) InvitationsTo(_ context.Context, email string) ([]invite.Invitation, error) {
	var out []invite.Invitation
	for _, inv := range f.invites {
		if inv.Email == email {
			out = append(out, inv)
		}
	}
	return out, nil
}
func (f *fakeStore) ExportSessions(context.Context, string) ([]map[string]any, error) {
	return []map[string]any{{"userAgent": "test"}}, nil
}
func (f *fakeStore) AuditAbout(_ context.Context, orgID string, p audit.Pseudonymisation) ([]audit.Entry, error) {
	var out []audit.Entry
	for _, e := range f.entries[orgID] {
		if _, about := p.Apply(e); about {
			out = append(out, e)
		}
	}
	return out, nil
}
func (f *fakeStore) Pseudonym(_ context.Context, userID string) (string, error) {
	return "erased-" + strings.Repeat("0", 8), nil
}
func (f *fakeStore) ToldOf(context.Context, string, string) ([]partner.Told, error) {
	return nil, nil
}
func (f *fakeStore) EraseDigestEntries(_ context.Context, orgID, _ string) error {
	f.steps = append(f.steps, "digests:"+orgID)
	return nil
}
func (f *fakeStore) EraseMembership(_ context.Context, m org.Member, e audit.Entry) error {
	if m.IsOrgWideAdmin() && f.orgs[m.OrgID].OrgWideAdmins <= 1 {
		return fault.New(fault.Conflict, "last admin")
	}
	f.steps = append(f.steps, "member:"+m.OrgID)
	f.entries[m.OrgID] = append(f.entries[m.OrgID], e)
	f.members = remove(f.members, func(x org.Member) bool { return x.OrgID == m.OrgID && x.UserID == m.UserID })
	return nil
}
func (f *fakeStore) EraseInvitation(_ context.Context, inv invite.Invitation, e *audit.Entry) error {
	if f.acceptDuringErasure {
		f.acceptDuringErasure = false
		for i := range f.invites {
			if f.invites[i].ID == inv.ID {
				f.invites[i].Status = invite.Accepted
			}
		}
		f.members = append(f.members, org.Member{OrgID: inv.OrgID, UserID: "u1", Role: "member", Units: []string{}})
		return fault.New(fault.Conflict, "changed meanwhile")
	}
	if inv.Status == invite.Pending && e == nil {
		return errors.New("a pending invitation without an audit entry")
	}
	f.steps = append(f.steps, "invitation:"+inv.ID)
	f.invites = remove(f.invites, func(x invite.Invitation) bool { return x.ID == inv.ID })
	return nil
}
func (f *fakeStore) PseudonymiseAudit(_ context.Context, orgID string, p audit.Pseudonymisation) error {
	f.steps = append(f.steps, "audit:"+orgID)
	for i, e := range f.entries[orgID] {
		f.entries[orgID][i], _ = p.Apply(e)
	}
	return nil
}
func (f *fakeStore) EraseAccount(_ context.Context, a account.Account, orgIDs []string) error {
	f.steps = append(f.steps, "account")
	delete(f.accounts, a.UserID)
	return nil
}

func remove[T any](list []T, match func(T) bool) []T {
	var out []T
	for _, x := range list {
		if !match(x) {
			out = append(out, x)
		}
	}
	return out
}

// fakeRevoker records each revoke, marked "(erased)" when the account was
// already gone.
type fakeRevoker struct {
	revoked  []string
	accounts map[string]*account.Account
}

func (r *fakeRevoker) RevokeSessions(_ context.Context, userID, keep string) error {
	mark := ""
	if _, ok := r.accounts[userID]; !ok {
		mark = "(erased)"
	}
	r.revoked = append(r.revoked, userID+"|"+keep+mark)
	return nil
}

type fakeGuesses struct{ reserved, succeeded int }

func (g *fakeGuesses) Reserve(context.Context, string, string) (func(context.Context) error, error) {
	g.reserved++
	return func(context.Context) error { g.succeeded++; return nil }, nil
}

// fakeQuotas counts uses in fixed windows, by quota and window start.
type fakeQuotas map[string]int

func (q fakeQuotas) Take(_ context.Context, n quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	start := now.Truncate(window)
	k := fmt.Sprint(n, start.Unix())
	if q[k] >= limit {
		return start.Add(window).Sub(now), nil
	}
	q[k]++
	return 0, nil
}

var cheap = account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}}

// world: u1 (the person) is a member of org A; admin a1 is A's org-wide
// admin, and u1 has a pending invitation in org B.
func world(t *testing.T) (*fakeStore, *Service, *fakeRevoker, *fakeGuesses) {
	t.Helper()
	hash, err := cheap.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeStore{
		accounts: map[string]*account.Account{
			"u1": {UserID: "u1", Email: "kari@example.com", FirstName: "Kari", LastName: "Nordmann", PasswordHash: hash},
			"a1": {UserID: "a1", Email: "boss@example.com"},
		},
		orgs: map[string]org.Organisation{
			"A": {ID: "A", Name: "Org A", Roles: access.Roles(access.DefaultRoles()), OrgWideAdmins: 1},
			"B": {ID: "B", Name: "Org B", Roles: access.Roles(access.DefaultRoles()), OrgWideAdmins: 1},
		},
		members: []org.Member{
			{OrgID: "A", UserID: "u1", Role: "member", Units: []string{}},
			{OrgID: "A", UserID: "a1", Role: "admin", Units: []string{}},
			{OrgID: "A", UserID: "c1", Role: "admin", Units: []string{"north"}},
		},
		invites: []invite.Invitation{{ID: "i1", OrgID: "B", Email: "kari@example.com", Status: invite.Pending, FirstName: "Kari"}},
		entries: map[string][]audit.Entry{
			"A": {audit.New("A", "a1", audit.MemberAdded, "member", "u1", time.Now()).Changed(nil, map[string]any{"email": "kari@example.com"})},
		},
		profiles: map[string]*monitor.Record{"A/u1": {OrgID: "A", UserID: "u1", Profile: monitor.Profile{SafeWord: "bluebird"}, Version: 1}},
	}
	r, g := &fakeRevoker{accounts: f.accounts}, &fakeGuesses{}
	return f, &Service{Store: f, Quotas: fakeQuotas{}, Sessions: r, Hasher: cheap, Guesses: g, Now: time.Now}, r, g
}

func TestEraseSelf(t *testing.T) {
	f, s, r, g := world(t)
	if err := s.EraseSelf(context.Background(), "u1", "wrong", "198.51.100.1"); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("wrong password: %v", err)
	}
	if g.reserved != 1 || g.succeeded != 0 || len(f.steps) != 0 {
		t.Fatalf("a wrong password must count a guess and change nothing: %+v %v", g, f.steps)
	}
	if err := s.EraseSelf(context.Background(), "u1", "correct horse battery", "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	want := "member:A,invitation:i1,digests:A,digests:B,audit:A,audit:B,account"
	if got := strings.Join(f.steps, ","); got != want {
		t.Errorf("steps %s, want %s", got, want)
	}
	// Once more after the account is gone: a sign-in racing the erasure
	// stored its session after the first, but re-read the account before
	// its deletion.
	if got := strings.Join(r.revoked, ","); got != "u1|,u1|(erased)" {
		t.Errorf("sessions revoked: %v", r.revoked)
	}
	for _, e := range f.entries["A"] {
		if e.TargetID == "u1" || e.ActorID == "u1" || strings.Contains(e.Action, "kari") || e.After["email"] == "kari@example.com" {
			t.Errorf("entry still names the person: %+v", e)
		}
	}
	last := f.entries["A"][len(f.entries["A"])-1]
	if last.Action != audit.MemberErased || !strings.HasPrefix(last.ActorID, "erased-") || !strings.HasPrefix(last.TargetID, "erased-") {
		t.Errorf("member.erased entry: %+v", last)
	}
}

func TestEraseRefusesTheLastOrgWideAdminBeforeAnything(t *testing.T) {
	f, s, _, _ := world(t)
	hash, _ := cheap.Hash("admin password 1")
	f.accounts["a1"].PasswordHash = hash
	err := s.EraseSelf(context.Background(), "a1", "admin password 1", "198.51.100.1")
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != fault.Conflict || !strings.Contains(fe.Error(), "Org A") {
		t.Fatalf("want a 409 naming Org A, got %v", err)
	}
	if len(f.steps) != 0 {
		t.Errorf("changed %v before refusing", f.steps)
	}
}

func TestEraseMemberAuthorization(t *testing.T) {
	cases := []struct {
		name, actor, target string
		want                fault.Code
	}{
		{"a member may not", "u1", "a1", fault.Forbidden},
		{"a unit-scoped admin may not", "c1", "u1", fault.Forbidden},
		{"a non-member may not", "x9", "u1", fault.Forbidden},
		{"no such member", "a1", "nobody", fault.NotFound},
		{"not oneself", "a1", "a1", fault.Conflict},
		{"an org-wide admin may", "a1", "u1", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, s, _, _ := world(t)
			err := s.EraseMember(context.Background(), c.actor, "A", c.target)
			if fault.CodeOf(err) != c.want && !(c.want == "" && err == nil) {
				t.Fatalf("got %v, want %s", err, c.want)
			}
			if c.want != "" && len(f.steps) != 0 {
				t.Errorf("refused, yet changed %v", f.steps)
			}
			if c.want == "" {
				if f.accounts["u1"] != nil {
					t.Error("account not erased")
				}
				last := f.entries["A"][len(f.entries["A"])-1]
				if last.ActorID != "a1" || last.Action != audit.MemberErased {
					t.Errorf("the admin's erasure is recorded as theirs: %+v", last)
				}
			}
		})
	}
}

func TestEraseMemberOfAnotherOrganisationIsRefused(t *testing.T) {
	f, s, _, _ := world(t)
	f.members = append(f.members, org.Member{OrgID: "B", UserID: "u1", Role: "member", Units: []string{}})
	err := s.EraseMember(context.Background(), "a1", "A", "u1")
	if fault.CodeOf(err) != fault.Conflict || len(f.steps) != 0 {
		t.Fatalf("got %v after %v; want a 409 and no change", err, f.steps)
	}
}

// An invitation accepted while the erasure runs makes a membership the
// first read missed; the next pass erases it.
func TestEraseTakesAMembershipMadeMeanwhile(t *testing.T) {
	f, s, _, _ := world(t)
	f.acceptDuringErasure = true
	if err := s.EraseMember(context.Background(), "a1", "A", "u1"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := f.Memberships(context.Background(), "u1"); len(ms) != 0 || len(f.invites) != 0 {
		t.Errorf("left %v and %v", ms, f.invites)
	}
}

func TestExportLeavesOutTheSafeWord(t *testing.T) {
	_, s, _, _ := world(t)
	doc, err := s.Export(context.Background(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Memberships) != 1 || len(doc.Invitations) != 1 || len(doc.Sessions) != 1 || len(doc.Audit) != 1 {
		t.Errorf("export: %+v", doc)
	}
	if len(doc.Monitoring) != 1 || !doc.Monitoring[0].HasSafeWord {
		t.Fatalf("monitoring: %+v", doc.Monitoring)
	}
	b, _ := json.Marshal(doc)
	if strings.Contains(string(b), "bluebird") || strings.Contains(string(b), "$argon2") {
		t.Errorf("the export holds the safe word or the password hash: %s", b)
	}
}

// Each export reads whole audit trails: an account gets ExportsPerHour an
// hour, then TooMany with the wait until the hour's end, its own budget
// only.
func TestExportIsLimitedPerUser(t *testing.T) {
	_, s, _, _ := world(t)
	now := time.Date(2026, 1, 5, 10, 15, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	ctx := context.Background()
	for i := range ExportsPerHour {
		if _, err := s.Export(ctx, "u1"); err != nil {
			t.Fatalf("export %d: %v", i+1, err)
		}
	}
	_, err := s.Export(ctx, "u1")
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != fault.TooMany || fe.RetryAfter != 45*time.Minute {
		t.Fatalf("export %d: %v", ExportsPerHour+1, err)
	}
	if _, err := s.Export(ctx, "a1"); err != nil {
		t.Errorf("another account's export: %v", err)
	}
	now = now.Add(45 * time.Minute)
	if _, err := s.Export(ctx, "u1"); err != nil {
		t.Errorf("export in the next hour: %v", err)
	}
}

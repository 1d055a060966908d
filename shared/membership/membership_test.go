package membership_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/membership"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/phone"
	"onboarding/shared/search"
)

// store is an organisation in memory with the default roles, units A and
// B, and one member of each kind. It records the writes, and answers them
// with writeErr (the real store's refusals, such as its last-admin rule).
type store struct {
	org      org.Organisation
	members  map[string]org.Member
	profiles map[string]monitor.Record

	listed   string // the last ListMembers call's arguments
	next     string // the cursor ListMembers answers with
	writes   []string
	entries  []audit.Entry
	saved    []monitor.Record
	writeErr error
}

func newStore() *store {
	s := &store{
		org:      org.Organisation{ID: "o1", Roles: access.DefaultRoles(), Settings: org.Settings{DefaultPhoneRegion: "NO"}},
		members:  map[string]org.Member{},
		profiles: map[string]monitor.Record{},
	}
	for _, m := range []org.Member{
		{UserID: "admin", Role: access.Admin, Units: []string{}},
		{UserID: "unit-admin", Role: access.Admin, Units: []string{"A"}},
		{UserID: "coordinator", Role: access.Coordinator, Units: []string{}},
		{UserID: "unit-coordinator", Role: access.Coordinator, Units: []string{"A"}},
		{UserID: "reporter", Role: access.Reporter, Units: []string{}},
		{UserID: "member-a", Role: access.Member, Units: []string{"A"}, Email: "a@example.no", Phone: "+4791234567"},
		{UserID: "member-b", Role: access.Member, Units: []string{"B"}, Email: "b@example.no"},
	} {
		m.OrgID = "o1"
		s.members[m.UserID] = m
	}
	return s
}

func (s *store) Actor(_ context.Context, orgID, userID string) (org.Organisation, *org.Member, error) {
	if orgID != s.org.ID {
		return org.Organisation{}, nil, nil
	}
	m, err := s.Member(context.Background(), orgID, userID)
	return s.org, m, err
}

func (s *store) Member(_ context.Context, orgID, userID string) (*org.Member, error) {
	m, ok := s.members[userID]
	if !ok || orgID != s.org.ID {
		return nil, nil
	}
	return &m, nil
}

func (s *store) ListMembers(_ context.Context, orgID, role, unit string, limit int, cursor string) ([]org.Member, string, error) {
	s.listed = fmt.Sprintf("%s role=%q unit=%q limit=%d cursor=%q", orgID, role, unit, limit, cursor)
	var out []org.Member
	for _, m := range s.members {
		if (role == "" || m.Role == role) && (unit == "" || slices.Contains(m.Units, unit)) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b org.Member) int { return strings.Compare(a.UserID, b.UserID) })
	return out, s.next, nil
}

// SearchMembers is ListMembers of those with a term starting with q.
func (s *store) SearchMembers(ctx context.Context, orgID, q, role, unit string, limit int, cursor string) ([]org.Member, string, error) {
	all, next, err := s.ListMembers(ctx, orgID, role, unit, limit, cursor)
	s.listed = "search q=" + q + " " + s.listed
	var out []org.Member
	for _, m := range all {
		// The fake's people are found by their user id too.
		if slices.ContainsFunc(search.Terms(m.Email, m.UserID, m.LastName), func(t string) bool { return strings.HasPrefix(t, q) }) {
			out = append(out, m)
		}
	}
	return out, next, err
}

func (s *store) UpdateMember(_ context.Context, old, updated org.Member, e audit.Entry) error {
	s.writes = append(s.writes, fmt.Sprintf("update %s %s%v -> %s%v", old.UserID, old.Role, old.Units, updated.Role, updated.Units))
	s.entries = append(s.entries, e)
	return s.writeErr
}

func (s *store) RemoveMember(_ context.Context, m org.Member, e audit.Entry) error {
	s.writes = append(s.writes, "remove "+m.UserID)
	s.entries = append(s.entries, e)
	return s.writeErr
}

func (s *store) MonitoringProfile(_ context.Context, orgID, userID string) (*monitor.Record, error) {
	r, ok := s.profiles[userID]
	if !ok {
		return nil, nil
	}
	return &r, nil
}

func (s *store) PutMonitoringProfile(_ context.Context, r monitor.Record, e audit.Entry) error {
	s.saved = append(s.saved, r)
	s.entries = append(s.entries, e)
	return s.writeErr
}

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func service(s *store) *membership.Service {
	return &membership.Service{Store: s, Monitor: s, Phones: phone.Normalize, Now: func() time.Time { return now }}
}

// code is the fault code of err, "ok" for none.
func code(err error) string {
	if err == nil {
		return "ok"
	}
	return string(fault.CodeOf(err))
}

func ptr[T any](v T) *T { return &v }

func describe(c membership.Change) string {
	var parts []string
	if c.Role != nil {
		parts = append(parts, "role "+*c.Role)
	}
	if c.Units != nil {
		parts = append(parts, fmt.Sprint("units ", *c.Units))
	}
	return strings.Join(parts, ", ")
}

// Who sees whom in a list: organisation-wide readers everyone, unit-scoped
// ones those who share a unit with them (and themselves); roles that may
// not read lists, and strangers, nothing.
func TestListShowsWhomTheCallerMaySee(t *testing.T) {
	everyone := "admin coordinator member-a member-b reporter unit-admin unit-coordinator"
	for caller, want := range map[string]string{
		"admin":            everyone,
		"reporter":         everyone,
		"coordinator":      everyone,
		"unit-admin":       "member-a unit-admin unit-coordinator",
		"unit-coordinator": "member-a unit-admin unit-coordinator",
		"member-a":         "forbidden",
		"stranger":         "forbidden",
	} {
		s := newStore()
		page, err := service(s).List(context.Background(), caller, "o1", membership.Query{})
		got := code(err)
		if err == nil {
			var ids []string
			for _, m := range page.Items {
				ids = append(ids, m.UserID)
			}
			got = strings.Join(ids, " ")
		}
		if got != want {
			t.Errorf("%s sees %q, want %q", caller, got, want)
		}
	}
}

// A list hands the store its filters trimmed and a page size within
// bounds (50 when none is asked), and passes the store's cursor on.
func TestListPagesThroughTheStore(t *testing.T) {
	s := newStore()
	svc := service(s)
	ctx := context.Background()
	page, err := svc.List(ctx, "admin", "o1", membership.Query{Role: " member ", Unit: " A", Cursor: "c1"})
	if err != nil || s.listed != `o1 role="member" unit="A" limit=50 cursor="c1"` || page.NextCursor != nil || len(page.Items) != 1 {
		t.Fatalf("%v %s %+v", err, s.listed, page)
	}
	s.next = "c2"
	page, err = svc.List(ctx, "admin", "o1", membership.Query{Role: "reporter", Limit: 100})
	if err != nil || s.listed != `o1 role="reporter" unit="" limit=100 cursor=""` || page.NextCursor == nil || *page.NextCursor != "c2" {
		t.Fatalf("%v %s %+v", err, s.listed, page)
	}
	// No one matches: an empty list, not null.
	s.next = ""
	if page, err := svc.List(ctx, "admin", "o1", membership.Query{Role: "nobody"}); err != nil || page.Items == nil || len(page.Items) != 0 {
		t.Fatalf("%v %#v", err, page.Items)
	}
	for _, limit := range []int{-1, 101} {
		s.listed = ""
		_, err := svc.List(ctx, "admin", "o1", membership.Query{Limit: limit})
		if e, ok := fault.As(err); !ok || e.Code != fault.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "limit" || s.listed != "" {
			t.Errorf("limit %d: %v, store asked %q", limit, err, s.listed)
		}
	}
}

// Who may change whom, and into what: the caller must be able to invite
// the member both as they are and as they will be; members the caller
// cannot see are not found.
func TestUpdateChecksRoleUnitsAndOrganisation(t *testing.T) {
	cases := []struct {
		caller, target string
		change         membership.Change
		want           string // a fault code, or the write
	}{
		{"admin", "member-a", membership.Change{Role: ptr("reporter")}, "update member-a member[A] -> reporter[A]"},
		{"admin", "member-a", membership.Change{Role: ptr(" admin "), Units: &[]string{}}, "update member-a member[A] -> admin[]"},
		{"unit-admin", "member-a", membership.Change{Role: ptr("coordinator")}, "update member-a member[A] -> coordinator[A]"},
		{"unit-admin", "member-a", membership.Change{Units: &[]string{" A ", "A"}}, "update member-a member[A] -> member[A]"},
		{"unit-admin", "member-a", membership.Change{Units: &[]string{"B"}}, "forbidden"},
		{"unit-admin", "member-a", membership.Change{Units: &[]string{}}, "forbidden"},
		{"unit-admin", "member-a", membership.Change{Role: ptr("admin")}, "forbidden"},
		{"unit-admin", "member-b", membership.Change{Role: ptr("reporter")}, "not_found"},
		{"unit-admin", "admin", membership.Change{Role: ptr("member")}, "not_found"},
		{"coordinator", "member-b", membership.Change{Role: ptr("reporter")}, "update member-b member[B] -> reporter[B]"},
		{"coordinator", "admin", membership.Change{Role: ptr("member")}, "forbidden"},
		{"coordinator", "member-a", membership.Change{Role: ptr("admin")}, "forbidden"},
		{"unit-coordinator", "unit-admin", membership.Change{Role: ptr("member")}, "forbidden"},
		{"reporter", "member-a", membership.Change{Role: ptr("member")}, "forbidden"},
		{"member-a", "member-a", membership.Change{Role: ptr("admin")}, "forbidden"},
		{"stranger", "member-a", membership.Change{Role: ptr("reporter")}, "forbidden"},
		{"admin", "nobody", membership.Change{Role: ptr("reporter")}, "not_found"},
		{"admin", "member-a", membership.Change{Role: ptr("janitor")}, "invalid"},
		{"admin", "member-a", membership.Change{Units: &[]string{""}}, "invalid"},
		{"admin", "member-a", membership.Change{Units: &[]string{strings.Repeat("u", 65)}}, "invalid"},
	}
	for _, tc := range cases {
		s := newStore()
		m, err := service(s).Update(context.Background(), tc.caller, "o1", tc.target, tc.change)
		got := code(err)
		if err == nil {
			got = strings.Join(s.writes, "; ")
		}
		if got != tc.want || err != nil && len(s.writes) > 0 {
			t.Errorf("%s changes %s (%s): %s, writes %v; want %s", tc.caller, tc.target, describe(tc.change), got, s.writes, tc.want)
			continue
		}
		if err == nil && (m.UserID != tc.target || s.entries[0].Action != audit.MemberUpdated || s.entries[0].ActorID != tc.caller ||
			s.entries[0].TargetID != tc.target || !s.entries[0].At.Equal(now) || s.entries[0].Before["role"] == nil || s.entries[0].After["role"] != m.Role) {
			t.Errorf("%s changes %s: %+v, audit %+v", tc.caller, tc.target, m, s.entries[0])
		}
	}
	// At most 50 units, named in the error.
	units := make([]string, 51)
	for i := range units {
		units[i] = fmt.Sprint("u", i)
	}
	_, err := service(newStore()).Update(context.Background(), "admin", "o1", "member-a", membership.Change{Units: &units})
	if e, ok := fault.As(err); !ok || e.Code != fault.Invalid || e.Fields[0].Field != "units" {
		t.Errorf("51 units: %v", err)
	}
}

// The store refuses to leave an organisation without an organisation-wide
// admin (the rule lives where the count is kept): membership passes its
// answer on as it is, a Conflict with its message.
func TestLastOrgWideAdminIsTheStoresConflict(t *testing.T) {
	lastAdmin := fault.New(fault.Conflict, "the organisation must keep at least one organisation-wide admin")
	ctx := context.Background()
	for name, call := range map[string]func(*membership.Service) error{
		"demote": func(svc *membership.Service) error {
			_, err := svc.Update(ctx, "admin", "o1", "admin", membership.Change{Role: ptr("member")})
			return err
		},
		"scope to a unit": func(svc *membership.Service) error {
			_, err := svc.Update(ctx, "admin", "o1", "admin", membership.Change{Units: &[]string{"A"}})
			return err
		},
		"remove": func(svc *membership.Service) error { return svc.Remove(ctx, "admin", "o1", "admin") },
	} {
		s := newStore()
		s.writeErr = lastAdmin
		err := call(service(s))
		if e, ok := fault.As(err); !ok || e.Code != fault.Conflict || e.Message != lastAdmin.Message || len(s.writes) != 1 {
			t.Errorf("%s the last admin: %v, writes %v", name, err, s.writes)
		}
	}
	// Any other failure of the store stays an error of ours.
	s := newStore()
	s.writeErr = errors.New("dynamodb: throttled")
	if err := service(s).Remove(ctx, "admin", "o1", "member-a"); code(err) != "internal" {
		t.Errorf("store failure: %v", err)
	}
}

// Removing: the same rules as changing, and the audit entry keeps who it
// was.
func TestRemoveChecksRoleUnitsAndOrganisation(t *testing.T) {
	for _, tc := range []struct{ caller, target, want string }{
		{"admin", "member-b", "remove member-b"},
		{"admin", "unit-admin", "remove unit-admin"},
		{"unit-admin", "member-a", "remove member-a"},
		{"unit-admin", "member-b", "not_found"},
		{"unit-coordinator", "unit-admin", "forbidden"},
		{"coordinator", "admin", "forbidden"},
		{"reporter", "member-a", "forbidden"},
		{"member-a", "member-a", "forbidden"},
		{"stranger", "member-a", "forbidden"},
		{"admin", "nobody", "not_found"},
	} {
		s := newStore()
		err := service(s).Remove(context.Background(), tc.caller, "o1", tc.target)
		got := code(err)
		if err == nil {
			got = strings.Join(s.writes, "; ")
		}
		if got != tc.want {
			t.Errorf("%s removes %s: %s, want %s", tc.caller, tc.target, got, tc.want)
			continue
		}
		if err == nil {
			if e := s.entries[0]; e.Action != audit.MemberRemoved || e.ActorID != tc.caller || e.Before["email"] != s.members[tc.target].Email || e.After != nil {
				t.Errorf("%s removes %s: audit %+v", tc.caller, tc.target, e)
			}
		}
	}
}

// A member reads their own monitoring profile; others need a role that
// reads lists and to see the member.
func TestMonitoringIsReadByTheMemberAndListReaders(t *testing.T) {
	for _, tc := range []struct{ caller, target, want string }{
		{"member-a", "member-a", "ok"},
		{"member-a", "member-b", "forbidden"},
		{"reporter", "member-b", "ok"},
		{"unit-coordinator", "member-a", "ok"},
		{"unit-coordinator", "member-b", "not_found"},
		{"admin", "nobody", "not_found"},
		{"stranger", "member-a", "forbidden"},
	} {
		s := newStore()
		s.profiles["member-a"] = monitor.Record{OrgID: "o1", UserID: "member-a", Version: 3,
			Profile: monitor.Profile{EscalationContacts: []monitor.Contact{{Name: "Ola", Phone: "+4741234567"}}, SafeWord: "blåbær"}}
		v, err := service(s).Monitoring(context.Background(), tc.caller, "o1", tc.target)
		if code(err) != tc.want {
			t.Errorf("%s reads %s: %v, want %s", tc.caller, tc.target, err, tc.want)
			continue
		}
		if err != nil {
			continue
		}
		switch tc.target {
		case "member-a":
			if v.Version != 3 || !v.HasSafeWord || len(v.EscalationContacts) != 1 {
				t.Errorf("%s reads %s: %+v", tc.caller, tc.target, v)
			}
		default: // none stored: an empty profile at version 0
			if v.UserID != tc.target || v.Version != 0 || v.EscalationContacts == nil || v.HasSafeWord {
				t.Errorf("%s reads %s: %+v", tc.caller, tc.target, v)
			}
		}
	}
}

func contacts(phones ...string) []monitor.Contact {
	var cs []monitor.Contact
	for i, p := range phones {
		cs = append(cs, monitor.Contact{Name: fmt.Sprint("Kontakt ", i+1), Phone: p})
	}
	return cs
}

// Setting a profile: who may (those who may manage the member), the
// profile rules with numbers read in the organisation's region, the
// version it was read at, and the safe word kept, replaced or removed but
// never written into the audit trail.
func TestSetMonitoring(t *testing.T) {
	ctx := context.Background()
	valid := membership.MonitoringChange{EscalationContacts: contacts("412 34 567", "0047 41234568"), SafeWord: ptr("blåbær")}

	for _, tc := range []struct{ caller, target, want string }{
		{"admin", "member-b", "ok"},
		{"unit-coordinator", "member-a", "ok"},
		{"unit-coordinator", "member-b", "not_found"},
		{"reporter", "member-a", "forbidden"},
		{"member-a", "member-a", "forbidden"},
		{"stranger", "member-a", "forbidden"},
		{"admin", "nobody", "not_found"},
	} {
		s := newStore()
		if _, err := service(s).SetMonitoring(ctx, tc.caller, "o1", tc.target, valid); code(err) != tc.want || (err != nil) != (len(s.saved) == 0) {
			t.Errorf("%s sets %s's profile: %v, saved %d, want %s", tc.caller, tc.target, err, len(s.saved), tc.want)
		}
	}

	// National numbers are read in the organisation's default region and
	// stored in E.164; the first version is 1.
	s := newStore()
	svc := service(s)
	saved, err := svc.SetMonitoring(ctx, "admin", "o1", "member-a", valid)
	if err != nil || len(s.saved) != 1 {
		t.Fatalf("%v %v", err, s.saved)
	}
	rec := s.saved[0]
	if rec.EscalationContacts[0].Phone != "+4741234567" || rec.EscalationContacts[1].Phone != "+4741234568" || rec.Version != 1 ||
		rec.SafeWord != "blåbær" || rec.UpdatedBy != "admin" || !rec.UpdatedAt.Equal(now) || !saved.HasSafeWord || saved.Version != 1 ||
		saved.Warnings == nil || len(saved.Warnings) != 0 {
		t.Fatalf("saved %+v, answered %+v", rec, saved)
	}
	if e := s.entries[0]; e.Action != audit.MonitoringUpdated || e.TargetID != "member-a" || e.After["version"] != 1 ||
		strings.Contains(fmt.Sprint(e.Before, e.After), "blåbær") {
		t.Fatalf("audit %+v", e)
	}
	s.profiles["member-a"] = rec

	// The same profile again is no change: nothing is written.
	if again, err := svc.SetMonitoring(ctx, "admin", "o1", "member-a", valid); err != nil || len(s.saved) != 1 || again.Version != 1 {
		t.Fatalf("unchanged: %v, %d saves, %+v", err, len(s.saved), again)
	}
	// No safe word given keeps the stored one; "" removes it.
	keep := valid
	keep.SafeWord, keep.LicencePlate = nil, "ab 12345"
	if _, err := svc.SetMonitoring(ctx, "admin", "o1", "member-a", keep); err != nil || s.saved[1].SafeWord != "blåbær" ||
		s.saved[1].LicencePlate != "AB 12345" || s.saved[1].Version != 2 {
		t.Fatalf("keep the safe word: %v %+v", err, s.saved)
	}
	s.profiles["member-a"] = s.saved[1]
	drop := keep
	drop.SafeWord = ptr("")
	if v, err := svc.SetMonitoring(ctx, "admin", "o1", "member-a", drop); err != nil || s.saved[2].SafeWord != "" || v.HasSafeWord {
		t.Fatalf("remove the safe word: %v %+v", err, s.saved)
	}
	s.profiles["member-a"] = s.saved[2]

	// A change made on an older version is refused, before any check.
	stale := valid
	stale.Version = ptr(1)
	if _, err := svc.SetMonitoring(ctx, "admin", "o1", "member-a", stale); code(err) != "conflict" || len(s.saved) != 3 {
		t.Fatalf("stale version: %v", err)
	}

	// The profile's rules, each error keyed by its field; nothing stored.
	for _, tc := range []struct {
		name   string
		change membership.MonitoringChange
		field  string
	}{
		{"one contact", membership.MonitoringChange{EscalationContacts: contacts("41234567")}, "escalationContacts"},
		{"not a number", membership.MonitoringChange{EscalationContacts: contacts("41234567", "12")}, "escalationContacts[1].phone"},
		{"the worker's own number", membership.MonitoringChange{EscalationContacts: contacts("41234567", "91234567")}, "escalationContacts[1].phone"},
		{"the same number twice", membership.MonitoringChange{EscalationContacts: contacts("41234567", "+47 412 34 567")}, "escalationContacts[1].phone"},
		{"a contact without a name", membership.MonitoringChange{EscalationContacts: []monitor.Contact{{Name: "Ola", Phone: "41234567"}, {Phone: "41234568"}}},
			"escalationContacts[1].name"},
		{"a rota without a date", membership.MonitoringChange{EscalationContacts: contacts("41234567", "41234568"), Rota: &struct {
			Reference     string `json:"reference"`
			EffectiveDate string `json:"effectiveDate"`
		}{Reference: "Turnus 3"}}, "rota.effectiveDate"},
	} {
		s := newStore()
		_, err := service(s).SetMonitoring(ctx, "admin", "o1", "member-a", tc.change)
		e, ok := fault.As(err)
		if !ok || e.Code != fault.Invalid || len(s.saved) > 0 || !slices.ContainsFunc(e.Fields, func(f fault.FieldError) bool { return f.Field == tc.field }) {
			t.Errorf("%s: %v, saved %d", tc.name, err, len(s.saved))
		}
	}

	// A rota at short notice is saved, with a warning.
	s = newStore()
	soon := valid
	soon.Rota = &struct {
		Reference     string `json:"reference"`
		EffectiveDate string `json:"effectiveDate"`
	}{Reference: "Turnus 3", EffectiveDate: now.AddDate(0, 0, 1).Format("02.01.2006")}
	saved, err = service(s).SetMonitoring(ctx, "admin", "o1", "member-a", soon)
	if err != nil || len(s.saved) != 1 || s.saved[0].Rota == nil || s.saved[0].Rota.EffectiveDate != "2026-03-03" ||
		len(saved.Warnings) != 1 || saved.Warnings[0].Field != "rota.effectiveDate" {
		t.Fatalf("short notice: %v %+v", err, saved)
	}

	// The store's refusal (the profile changed meanwhile, the member left)
	// keeps its code.
	s = newStore()
	s.writeErr = fault.New(fault.Conflict, "the profile changed meanwhile")
	if _, err := service(s).SetMonitoring(ctx, "admin", "o1", "member-a", valid); code(err) != "conflict" {
		t.Fatalf("store conflict: %v", err)
	}
}

// q searches (folded before it reaches the store) with the same filters,
// and a unit-scoped caller still sees only those who share a unit; a bad q
// is named.
func TestListSearchesByQ(t *testing.T) {
	s := newStore()
	svc := service(s)
	ctx := context.Background()
	if _, err := svc.List(ctx, "admin", "o1", membership.Query{Q: " ÅDMIN", Role: "admin"}); err != nil || s.listed != `search q=admin o1 role="admin" unit="" limit=50 cursor=""` {
		t.Fatalf("%v %s", err, s.listed)
	}
	all, _ := svc.List(ctx, "admin", "o1", membership.Query{})
	scoped, err := svc.List(ctx, "unit-admin", "o1", membership.Query{Q: "MEMBER"})
	if err != nil || len(scoped.Items) != 1 || len(all.Items) < 7 {
		t.Fatalf("%v: unit-scoped search %d of %d", err, len(scoped.Items), len(all.Items))
	}
	for _, m := range scoped.Items {
		if m.UserID != "unit-admin" && !slices.Contains(m.Units, "A") {
			t.Errorf("unit-admin found %s (units %v)", m.UserID, m.Units)
		}
	}
	s.listed = ""
	_, err = svc.List(ctx, "admin", "o1", membership.Query{Q: strings.Repeat("x", 101)})
	if e, ok := fault.As(err); !ok || e.Code != fault.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "q" || s.listed != "" {
		t.Fatalf("long q: %v, store asked %q", err, s.listed)
	}
}

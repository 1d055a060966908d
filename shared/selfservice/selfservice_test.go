package selfservice

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
	"onboarding/shared/phone"
	"onboarding/shared/quota"
)

// memStore is one account in two organisations, in memory.
type memStore struct {
	accounts map[string]*account.Account
	members  []org.Member
	regions  map[string]string
	changes  map[string]EmailChange
	removed  []org.Member
	quotas   map[quota.Name]int
	limits   map[quota.Name]int // the limits Take was given
	moved    []string           // from->to of each MoveInvitations
	moveErr  error
	terms    map[string]string // each organisation's terms version
}

func (m *memStore) Account(_ context.Context, userID string) (*account.Account, error) {
	if a, ok := m.accounts[userID]; ok {
		c := *a
		return &c, nil
	}
	return nil, nil
}
func (m *memStore) AccountByEmail(_ context.Context, email string) (*account.Account, error) {
	for _, a := range m.accounts {
		if a.Email == email {
			return a, nil
		}
	}
	return nil, nil
}
func (m *memStore) Memberships(_ context.Context, userID string) ([]org.Member, error) {
	var out []org.Member
	for _, x := range m.members {
		if x.UserID == userID {
			out = append(out, x)
		}
	}
	return out, nil
}
func (m *memStore) Organisations(ctx context.Context, ids []string) (map[string]org.Organisation, error) {
	out := map[string]org.Organisation{}
	for _, id := range ids {
		out[id], _, _ = m.Actor(ctx, id, "")
	}
	return out, nil
}
func (m *memStore) Actor(_ context.Context, orgID, userID string) (org.Organisation, *org.Member, error) {
	o := org.Organisation{ID: orgID}
	o.Settings.DefaultPhoneRegion = m.regions[orgID]
	if v := m.terms[orgID]; v != "" {
		o.Settings.TermsURL, o.Settings.TermsVersion = "https://example.com/"+orgID, v
	}
	for _, x := range m.members {
		if x.OrgID == orgID && x.UserID == userID {
			return o, &x, nil
		}
	}
	return o, nil, nil
}
func (m *memStore) UpdateProfile(_ context.Context, a account.Account, ms []org.Member) error {
	*m.accounts[a.UserID] = a
	for _, u := range ms {
		for i := range m.members {
			if m.members[i].OrgID == u.OrgID && m.members[i].UserID == u.UserID {
				m.members[i] = u
			}
		}
	}
	return nil
}
func (m *memStore) SetPasswordHash(_ context.Context, userID, old, updated string) error {
	if m.accounts[userID].PasswordHash != old {
		return fault.New(fault.Conflict, "changed")
	}
	m.accounts[userID].PasswordHash = updated
	return nil
}
func (m *memStore) PutEmailChange(_ context.Context, hash string, c EmailChange) error {
	m.changes[hash] = c
	return nil
}
func (m *memStore) EmailChange(_ context.Context, hash string) (EmailChange, error) {
	c, ok := m.changes[hash]
	if !ok {
		return c, fault.New(fault.NotFound, "none")
	}
	return c, nil
}
func (m *memStore) ChangeEmail(_ context.Context, hash string, c EmailChange, passwordHash string, ms []org.Member, at time.Time) error {
	if _, ok := m.changes[hash]; !ok || m.accounts[c.UserID].Email != c.OldEmail || m.accounts[c.UserID].PasswordHash != passwordHash {
		return fault.New(fault.NotFound, "none")
	}
	if a, _ := m.AccountByEmail(context.Background(), c.NewEmail); a != nil {
		return fault.New(fault.Conflict, "taken")
	}
	delete(m.changes, hash)
	m.accounts[c.UserID].Email = c.NewEmail
	return m.UpdateProfile(context.Background(), *m.accounts[c.UserID], ms)
}
func (m *memStore) MoveInvitations(_ context.Context, from, to string) error {
	m.moved = append(m.moved, from+"->"+to)
	return m.moveErr
}
func (m *memStore) Take(_ context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	m.limits[q] = limit
	if m.quotas[q] >= limit {
		return time.Hour, nil
	}
	m.quotas[q]++
	return 0, nil
}
func (m *memStore) RecordConsent(_ context.Context, x org.Member, version string, at time.Time, _ audit.Entry) error {
	if m.terms[x.OrgID] != version {
		return fault.New(fault.Conflict, "changed")
	}
	for i := range m.members {
		if m.members[i].OrgID == x.OrgID && m.members[i].UserID == x.UserID {
			m.members[i].TermsVersion, m.members[i].TermsAcceptedAt = version, &at
			return nil
		}
	}
	return fault.New(fault.NotFound, "gone")
}
func (m *memStore) RemoveMember(_ context.Context, x org.Member, _ audit.Entry) error {
	m.removed = append(m.removed, x)
	return nil
}

type sent struct{ to, kind, body string }

type memMail struct{ sent []sent }

func (m *memMail) SendEmailChange(_ context.Context, to, language, name, link string) error {
	m.sent = append(m.sent, sent{to, "change", link})
	return nil
}
func (m *memMail) SendEmailChangeNotice(_ context.Context, to, language, name, newEmail string) error {
	m.sent = append(m.sent, sent{to, "notice", newEmail})
	return nil
}

type revoker struct{ calls []string }

func (r *revoker) RevokeSessions(_ context.Context, userID, keep string) error {
	r.calls = append(r.calls, userID+" keep="+keep)
	return nil
}

var cheap = account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}}

func kari(t *testing.T, now *time.Time) (*Service, *memStore, *memMail, *revoker) {
	hash, _ := cheap.Hash("correct horse battery")
	other, _ := cheap.Hash("another long secret")
	store := &memStore{
		accounts: map[string]*account.Account{
			"u1": {UserID: "u1", Email: "kari@example.no", FirstName: "Kari", LastName: "N", Language: "nb", PasswordHash: hash},
			"u2": {UserID: "u2", Email: "ola@example.no", FirstName: "Ola", PasswordHash: other},
		},
		members: []org.Member{
			{UserID: "u1", OrgID: "o1", Email: "kari@example.no", FirstName: "Kari", LastName: "N", Role: "member"},
			{UserID: "u1", OrgID: "o2", Email: "kari@example.no", FirstName: "Kari", LastName: "N", Role: "admin"},
			{UserID: "u2", OrgID: "o1", Email: "ola@example.no", FirstName: "Ola", Role: "admin"},
		},
		regions: map[string]string{"o1": "NO", "o2": "NO"},
		changes: map[string]EmailChange{},
		quotas:  map[quota.Name]int{},
		limits:  map[quota.Name]int{},
	}
	mail, rev := &memMail{}, &revoker{}
	return &Service{Store: store, Hasher: cheap, Sessions: rev, Mailer: mail, Phones: phone.Normalize,
		Languages: []string{"en", "nb", "sv"}, Now: func() time.Time { return *now }}, store, mail, rev
}

func fields(err error) string {
	e, ok := fault.As(err)
	if !ok {
		return "not a fault: " + err.Error()
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	return string(e.Code) + " " + strings.Join(out, ",")
}

func ptr(s string) *string { return &s }

func TestUpdateProfile(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, store, _, _ := kari(t, &now)
	ctx := context.Background()
	_, err := s.UpdateProfile(ctx, "u1", ProfileChange{FirstName: ptr("  "), LastName: ptr("N\x07"), Phone: ptr("not a phone"), Language: ptr("xx")})
	if got := fields(err); got != "invalid firstName:invalid,lastName:invalid,phone:invalid,language:invalid" {
		t.Fatalf("invalid change: %s", got)
	}
	if store.accounts["u1"].FirstName != "Kari" {
		t.Fatal("a refused change was written")
	}
	// A national number is read in the organisations' region; every
	// membership of the caller (and no one else's) gets the copy.
	me, err := s.UpdateProfile(ctx, "u1", ProfileChange{FirstName: ptr(" Kari Anne "), Phone: ptr("412 34 567"), Language: ptr("sv")})
	if err != nil {
		t.Fatal(err)
	}
	if me.FirstName != "Kari Anne" || me.LastName != "N" || me.Phone != "+4741234567" || me.Language != "sv" || len(me.Memberships) != 2 {
		t.Fatalf("me %+v", me)
	}
	for _, m := range store.members {
		want := m.UserID == "u1"
		if (m.FirstName == "Kari Anne" && m.Phone == "+4741234567") != want {
			t.Errorf("membership %s/%s: %+v", m.OrgID, m.UserID, m)
		}
	}
	// An empty phone removes it; organisations that disagree on a region
	// take only international numbers.
	store.regions["o2"] = "SE"
	if _, err := s.UpdateProfile(ctx, "u1", ProfileChange{Phone: ptr("41234567")}); fields(err) != "invalid phone:invalid" {
		t.Fatalf("national number with two regions: %v", err)
	}
	if me, err := s.UpdateProfile(ctx, "u1", ProfileChange{Phone: ptr("")}); err != nil || me.Phone != "" || store.members[0].Phone != "" {
		t.Fatalf("remove phone: %+v %v", me, err)
	}
	// A token of an account that is gone.
	if _, err := s.UpdateProfile(ctx, "gone", ProfileChange{}); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("gone: %v", err)
	}
}

func TestChangePassword(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, store, _, rev := kari(t, &now)
	ctx := context.Background()
	for _, c := range []struct {
		change PasswordChange
		want   string
	}{
		{PasswordChange{CurrentPassword: "correct horse battery", NewPassword: "short"}, "invalid newPassword:invalid"},
		{PasswordChange{CurrentPassword: "correct horse battery", NewPassword: "kari@example.no"}, "invalid newPassword:invalid"},
		{PasswordChange{CurrentPassword: "wrong horse battery", NewPassword: "a brand new secret"}, "invalid currentPassword:wrong"},
		{PasswordChange{NewPassword: "a brand new secret"}, "invalid currentPassword:wrong"},
	} {
		if got := fields(s.ChangePassword(ctx, "u1", "sess-1", "203.0.113.9", c.change)); got != c.want {
			t.Errorf("%+v: %s, want %s", c.change, got, c.want)
		}
	}
	if len(rev.calls) != 0 {
		t.Fatalf("revoked after refusals: %v", rev.calls)
	}
	if err := s.ChangePassword(ctx, "u1", "sess-1", "203.0.113.9", PasswordChange{CurrentPassword: "correct horse battery", NewPassword: "a brand new secret"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := cheap.Verify(store.accounts["u1"].PasswordHash, "a brand new secret"); !ok {
		t.Fatal("new password not stored")
	}
	if ok, _ := cheap.Verify(store.accounts["u2"].PasswordHash, "another long secret"); !ok {
		t.Fatal("someone else's password changed")
	}
	if strings.Join(rev.calls, ";") != "u1 keep=sess-1" {
		t.Fatalf("revoked %v, want the caller's other sessions", rev.calls)
	}
}

func TestEmailChange(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, store, mail, rev := kari(t, &now)
	ctx := context.Background()
	start := func(newEmail, password string) error {
		return s.StartEmailChange(ctx, "u1", "203.0.113.9", "https://app.example", EmailChangeRequest{NewEmail: newEmail, Password: password})
	}
	for _, c := range []struct{ email, password, want string }{
		{"not an address", "correct horse battery", "invalid newEmail:invalid"},
		{"KARI@example.no", "correct horse battery", "invalid newEmail:unchanged"},
		{"kari@example.com", "wrong", "invalid password:wrong"},
	} {
		if got := fields(start(c.email, c.password)); got != c.want {
			t.Errorf("%s: %s, want %s", c.email, got, c.want)
		}
	}
	if len(mail.sent) != 0 || len(store.changes) != 0 {
		t.Fatalf("refusals sent %v, stored %v", mail.sent, store.changes)
	}
	// An address another account has: the same answer and store work (a
	// change naming no one), only the notice.
	if err := start("ola@example.no", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if len(mail.sent) != 1 || mail.sent[0] != (sent{"kari@example.no", "notice", "ola@example.no"}) || len(store.changes) != 1 {
		t.Fatalf("taken address: sent %v, stored %v", mail.sent, store.changes)
	}
	for k, c := range store.changes {
		if c.UserID != "" || c.NewEmail != "" {
			t.Fatalf("the decoy names %+v", c)
		}
		delete(store.changes, k)
	}
	mail.sent = nil
	if err := start(" Kari@Example.COM ", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if len(mail.sent) != 2 || mail.sent[0].to != "kari@example.com" || mail.sent[1] != (sent{"kari@example.no", "notice", "kari@example.com"}) {
		t.Fatalf("sent %v", mail.sent)
	}
	token, ok := strings.CutPrefix(mail.sent[0].body, "https://app.example/email-change#token=")
	if !ok || !opaque.Valid(token) {
		t.Fatalf("link %q", mail.sent[0].body)
	}
	c, stored := store.changes[opaque.Hash(token)]
	if !stored || len(store.changes) != 1 || c.NewEmail != "kari@example.com" || c.OldEmail != "kari@example.no" || !c.ExpiresAt.Equal(now.Add(24*time.Hour)) ||
		c.PasswordFingerprint != passwordFingerprint(store.accounts["u1"].PasswordHash) || strings.Contains(c.PasswordFingerprint, store.accounts["u1"].PasswordHash) {
		t.Fatalf("stored %v (only the token's hash is a key)", store.changes)
	}
	for k := range store.changes {
		if strings.Contains(k, token) {
			t.Fatal("the raw token is stored")
		}
	}

	// Junk and unknown tokens are one NotFound; an expired one is Gone.
	for _, bad := range []string{"", "x", strings.Repeat("A", 43)} {
		if err := s.ConfirmEmailChange(ctx, bad); fault.CodeOf(err) != fault.NotFound {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	later := now.Add(24 * time.Hour)
	s.Now = func() time.Time { return later }
	if err := s.ConfirmEmailChange(ctx, token); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("expired: %v", err)
	}
	s.Now = func() time.Time { return now.Add(time.Hour) }
	// Moving the invitations is best effort: its failure is logged, and the
	// change stands.
	store.moveErr = errors.New("throttled")
	if err := s.ConfirmEmailChange(ctx, token); err != nil {
		t.Fatal(err)
	}
	if strings.Join(store.moved, ";") != "kari@example.no->kari@example.com" {
		t.Fatalf("invitations moved %v", store.moved)
	}
	if store.accounts["u1"].Email != "kari@example.com" || store.members[0].Email != "kari@example.com" || store.members[1].Email != "kari@example.com" ||
		store.members[2].Email != "ola@example.no" {
		t.Fatalf("after confirming: %+v %+v", store.accounts["u1"], store.members)
	}
	if strings.Join(rev.calls, ";") != "u1 keep=" {
		t.Fatalf("revoked %v, want every session of the account", rev.calls)
	}
	if err := s.ConfirmEmailChange(ctx, token); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("second use: %v", err)
	}
}

// startChange starts Kari's change to kari@example.com and returns the
// link's token.
func startChange(t *testing.T, s *Service, mail *memMail) string {
	t.Helper()
	mail.sent = nil
	if err := s.StartEmailChange(context.Background(), "u1", "203.0.113.9", "https://app.example",
		EmailChangeRequest{NewEmail: "kari@example.com", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	if len(mail.sent) != 2 || mail.sent[0].kind != "change" {
		t.Fatalf("sent %v", mail.sent)
	}
	return strings.TrimPrefix(mail.sent[0].body, "https://app.example/email-change#token=")
}

// A change of password, by the owner or through a reset, cancels a pending
// change of address: whoever knew the old password and started it cannot
// finish it once the owner, warned by the notice, changed the password.
func TestEmailChangeCancelledByPasswordChange(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, store, mail, _ := kari(t, &now)
	ctx := context.Background()
	token := startChange(t, s, mail)
	if err := s.ChangePassword(ctx, "u1", "sess-1", "203.0.113.9", PasswordChange{CurrentPassword: "correct horse battery", NewPassword: "a brand new secret"}); err != nil {
		t.Fatal(err)
	}
	err := s.ConfirmEmailChange(ctx, token)
	if e, ok := fault.As(err); !ok || e.Code != fault.Gone || !strings.Contains(e.Message, "password changed") {
		t.Fatalf("after a password change: %v", err)
	}
	if store.accounts["u1"].Email != "kari@example.no" {
		t.Fatal("the address changed")
	}
}

func TestEmailChangeCancelledByPasswordReset(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, store, mail, _ := kari(t, &now)
	token := startChange(t, s, mail)
	// A reset (account.PasswordReset) writes a fresh hash.
	store.accounts["u1"].PasswordHash, _ = cheap.Hash("a reset passphrase")
	if err := s.ConfirmEmailChange(context.Background(), token); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("after a reset: %v", err)
	}
	if store.accounts["u1"].Email != "kari@example.no" {
		t.Fatal("the address changed")
	}
}

// The caller's own budget refuses openly; the new address's answers as
// ever and sends nothing.
func TestEmailChangeLimits(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, store, mail, _ := kari(t, &now)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		startChange(t, s, mail)
	}
	mail.sent = nil
	err := s.StartEmailChange(ctx, "u1", "203.0.113.9", "", EmailChangeRequest{NewEmail: "kari@example.org", Password: "correct horse battery"})
	if e, ok := fault.As(err); !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 || len(mail.sent) != 0 {
		t.Fatalf("6th change in a day: %v, sent %v", err, mail.sent)
	}
	if got := store.limits[quota.Name{Kind: quota.EmailChangeUser, Subject: "u1"}]; got != 5 {
		t.Fatalf("per-user limit %d", got)
	}
	// The new address had its day's emails (reset's budget): 202, nothing sent or stored.
	store.quotas = map[quota.Name]int{{Kind: quota.AddressEmails, Subject: "kari@example.net"}: AddressEmailsPerDay}
	store.changes = map[string]EmailChange{}
	err = s.StartEmailChange(ctx, "u1", "203.0.113.9", "", EmailChangeRequest{NewEmail: "Kari@example.net", Password: "correct horse battery"})
	if err != nil || len(mail.sent) != 0 || len(store.changes) != 0 {
		t.Fatalf("address over its budget: %v, sent %v, stored %v", err, mail.sent, store.changes)
	}
}

// Taken or free, the new address gets the same answer in no less than Floor.
func TestEmailChangeFloor(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, _, _, _ := kari(t, &now)
	s.Floor = 60 * time.Millisecond
	for _, to := range []string{"ola@example.no", "free@example.no"} {
		start := time.Now()
		err := s.StartEmailChange(context.Background(), "u1", "203.0.113.9", "", EmailChangeRequest{NewEmail: to, Password: "correct horse battery"})
		if d := time.Since(start); err != nil || d < s.Floor {
			t.Fatalf("%s: %v in %v", to, err, d)
		}
	}
}

func TestLeaveOrg(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, store, _, _ := kari(t, &now)
	ctx := context.Background()
	if err := s.LeaveOrg(ctx, "u1", "o3"); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("not a member: %v", err)
	}
	if err := s.LeaveOrg(ctx, "u1", "o1"); err != nil {
		t.Fatal(err)
	}
	if len(store.removed) != 1 || store.removed[0].UserID != "u1" || store.removed[0].OrgID != "o1" {
		t.Fatalf("removed %+v: only the caller's own membership", store.removed)
	}
}

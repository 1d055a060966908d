package account

import (
	"context"
	"strings"
	"testing"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/opaque"
)

// memResets is an in-memory ResetStore: accounts by email, tokens by hash,
// fixed-window counters (memSignIn's).
type memResets struct {
	*memSignIn
	accounts map[string]*Account
	tokens   map[string]ResetToken
	lookups  int
}

func (m *memResets) ResetAccount(_ context.Context, email string) (*Account, error) {
	m.lookups++
	return m.accounts[email], nil
}
func (m *memResets) Account(_ context.Context, userID string) (*Account, error) {
	for _, a := range m.accounts {
		if a.UserID == userID {
			return a, nil
		}
	}
	return nil, nil
}
func (m *memResets) PutResetToken(_ context.Context, hash string, t ResetToken) error {
	m.tokens[hash] = t
	return nil
}
func (m *memResets) ResetToken(_ context.Context, hash string) (ResetToken, error) {
	t, ok := m.tokens[hash]
	if !ok {
		return t, fault.New(fault.NotFound, "no token")
	}
	return t, nil
}
func (m *memResets) CompleteReset(_ context.Context, hash, userID, email, passwordHash string, now time.Time) error {
	t, ok := m.tokens[hash]
	if !ok || t.UserID != userID || !now.Before(t.ExpiresAt) {
		return fault.New(fault.Gone, "used")
	}
	delete(m.tokens, hash)
	for _, a := range m.accounts {
		if a.UserID == userID && a.Email == email {
			a.PasswordHash = passwordHash
		}
	}
	return nil
}

type sentResets struct{ links map[string]string }

func (s *sentResets) SendPasswordReset(_ context.Context, a Account, link string) error {
	s.links[a.Email+"|"+a.Language] = link
	return nil
}

type revoker struct{ calls []string }

func (r *revoker) RevokeSessions(_ context.Context, userID, keep string) error {
	r.calls = append(r.calls, userID+"|"+keep)
	return nil
}

func TestPasswordReset(t *testing.T) {
	ctx := context.Background()
	h := Hasher{Params: Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	old, _ := h.Hash("the old passphrase")
	kari := &Account{UserID: "u1", Email: "kari@example.no", Language: "nb", PasswordHash: old}
	store := &memResets{memSignIn: newMemSignIn(nil), accounts: map[string]*Account{kari.Email: kari}, tokens: map[string]ResetToken{}}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	mail, sessions := &sentResets{links: map[string]string{}}, &revoker{}
	r := &PasswordReset{Store: store, Mailer: mail, Hasher: h, Sessions: sessions, Limits: DefaultResetLimits,
		Now: func() time.Time { return now }}
	const src = "198.51.100.7"

	if err := r.Request(ctx, "not an address", src, "https://x"); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("malformed address: %v", err)
	}
	// A missing address does the same work and sends nothing.
	if err := r.Request(ctx, "nobody@example.no", src, "https://x"); err != nil || len(mail.links) != 0 || len(store.tokens) != 1 || store.lookups != 1 {
		t.Fatalf("missing address: %v %v %d tokens", err, mail.links, len(store.tokens))
	}
	if err := r.Request(ctx, "Kari@Example.no", src, "https://x"); err != nil {
		t.Fatal(err)
	}
	link := mail.links["kari@example.no|nb"]
	token, ok := strings.CutPrefix(link, "https://x/reset#token=")
	if !ok || len(token) != 43 {
		t.Fatalf("link %q", link)
	}
	if _, stored := store.tokens[token]; stored || len(store.tokens) != 2 {
		t.Fatal("the raw token is stored")
	}
	// The decoy token of the missing address opens nothing.
	for hash, tok := range store.tokens {
		if tok.UserID == "" && hash == opaque.Hash(token) {
			t.Fatal("the decoy is the real token")
		}
	}

	// The password policy of accepting applies; the token survives a refusal.
	if err := r.Confirm(ctx, token, "short", src); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("weak password: %v", err)
	}
	if err := r.Confirm(ctx, token, "kari@example.no", src); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("the address as password: %v", err)
	}
	if err := r.Confirm(ctx, token, "a brand new passphrase", src); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if ok, _ := h.Verify(kari.PasswordHash, "a brand new passphrase"); !ok {
		t.Fatal("password not set")
	}
	if len(sessions.calls) != 1 || sessions.calls[0] != "u1|" {
		t.Fatalf("sessions revoked: %v", sessions.calls)
	}
	if th, _ := store.SignInThrottle(ctx, "kari@example.no", src); !th.Known(now) {
		t.Fatal("the confirming source is not known to the address")
	}
	// Single use.
	if err := r.Confirm(ctx, token, "another new passphrase", src); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("reuse: %v", err)
	}
	for _, junk := range []string{"", "abc", strings.Repeat("A", 43)} {
		if err := r.Confirm(ctx, junk, "another new passphrase", src); fault.CodeOf(err) != fault.Gone {
			t.Fatalf("token %q: %v", junk, err)
		}
	}

	// Expiry is checked at use.
	r.Limits.AddressRequests = 10
	if err := r.Request(ctx, "kari@example.no", src, "https://x"); err != nil {
		t.Fatal(err)
	}
	token = strings.TrimPrefix(mail.links["kari@example.no|nb"], "https://x/reset#token=")
	now = now.Add(ResetLifetime)
	if err := r.Confirm(ctx, token, "another new passphrase", src); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("expired: %v", err)
	}
}

// Over any budget a request answers as any other and sends nothing.
func TestPasswordResetThrottled(t *testing.T) {
	ctx := context.Background()
	kari := &Account{UserID: "u1", Email: "kari@example.no"}
	store := &memResets{memSignIn: newMemSignIn(nil), accounts: map[string]*Account{kari.Email: kari}, tokens: map[string]ResetToken{}}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	mail := &sentResets{links: map[string]string{}}
	r := &PasswordReset{Store: store, Mailer: mail, Sessions: &revoker{},
		Limits: ResetLimits{AddressRequests: 2, AddressWindow: time.Hour, SourceRequests: 3, SourceWindow: time.Hour, DailyEmails: 3},
		Now:    func() time.Time { return now }}
	sent := func() int { return len(store.tokens) }
	for i := 0; i < 4; i++ {
		if err := r.Request(ctx, "kari@example.no", "198.51.100.7", "https://x"); err != nil {
			t.Fatal(err)
		}
	}
	if sent() != 2 {
		t.Fatalf("per address: %d sent", sent())
	}
	// A source walking addresses stops at its budget (3 requests an hour;
	// it made 4 already).
	if err := r.Request(ctx, "other@example.no", "198.51.100.7", "https://x"); err != nil || sent() != 2 {
		t.Fatalf("per source: %v, %d", err, sent())
	}
	// The day's emails to an address cap requests from any source.
	now = now.Add(time.Hour)
	for _, src := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		r.Request(ctx, "kari@example.no", src, "https://x")
	}
	if sent() != 3 {
		t.Fatalf("per day: %d sent", sent())
	}
}

// The floor hides how long the work took.
func TestPasswordResetFloor(t *testing.T) {
	store := &memResets{memSignIn: newMemSignIn(nil), accounts: map[string]*Account{}, tokens: map[string]ResetToken{}}
	r := &PasswordReset{Store: store, Mailer: &sentResets{}, Limits: DefaultResetLimits, Floor: 50 * time.Millisecond, Now: time.Now}
	start := time.Now()
	r.Request(context.Background(), "nobody@example.no", "198.51.100.7", "https://x")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("answered in %v", d)
	}
}

// A link mailed to an address the account no longer has opens nothing: after
// a change of address, whoever reads the old mailbox cannot reset.
func TestPasswordResetEmailChanged(t *testing.T) {
	ctx := context.Background()
	h := Hasher{Params: Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	old, _ := h.Hash("the old passphrase")
	kari := &Account{UserID: "u1", Email: "kari@example.no", PasswordHash: old}
	store := &memResets{memSignIn: newMemSignIn(nil), accounts: map[string]*Account{kari.Email: kari}, tokens: map[string]ResetToken{}}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	mail := &sentResets{links: map[string]string{}}
	r := &PasswordReset{Store: store, Mailer: mail, Hasher: h, Sessions: &revoker{}, Limits: DefaultResetLimits,
		Now: func() time.Time { return now }}
	if err := r.Request(ctx, "kari@example.no", "198.51.100.7", "https://x"); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(mail.links["kari@example.no|"], "https://x/reset#token=")
	if tok := store.tokens[opaque.Hash(token)]; tok.Email != "kari@example.no" {
		t.Fatalf("token item %+v: the address it went to is not kept", tok)
	}
	// The address changes (self-service) before the link is used.
	delete(store.accounts, kari.Email)
	kari.Email = "kari@example.com"
	store.accounts[kari.Email] = kari
	if err := r.Confirm(ctx, token, "a brand new passphrase", "198.51.100.7"); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("link to the old address after a change: %v", err)
	}
	if ok, _ := h.Verify(kari.PasswordHash, "the old passphrase"); !ok {
		t.Fatal("the password changed")
	}
}

package account

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/opaque"
)

// memSessions is a SessionStore in memory. rotateFn, when set, answers
// RotateSession instead (a race lost elsewhere).
type memSessions struct {
	mu       sync.Mutex
	items    map[string]StoredSession
	deletes  int
	rotateFn func() error
}

func newMemSessions() *memSessions { return &memSessions{items: map[string]StoredSession{}} }

func (m *memSessions) PutSession(_ context.Context, s StoredSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[s.UserID+"/"+s.ID] = s
	return nil
}

func (m *memSessions) Session(_ context.Context, userID, id string) (*StoredSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.items[userID+"/"+id]
	if !ok {
		return nil, nil
	}
	return &s, nil
}

func (m *memSessions) RotateSession(_ context.Context, s StoredSession, oldHash string, now time.Time) error {
	if m.rotateFn != nil {
		return m.rotateFn()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.items[s.UserID+"/"+s.ID]
	if !ok || cur.Hash != oldHash || !now.Before(cur.IdleExpiresAt) || !now.Before(cur.ExpiresAt) {
		return fault.New(fault.Conflict, "changed")
	}
	m.items[s.UserID+"/"+s.ID] = s
	return nil
}

func (m *memSessions) DeleteSession(_ context.Context, userID, id, hash string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.items[userID+"/"+id]
	if !ok || (hash != "" && cur.Hash != hash) {
		return false, nil
	}
	delete(m.items, userID+"/"+id)
	m.deletes++
	return true, nil
}

func (m *memSessions) Sessions(_ context.Context, userID string) ([]StoredSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredSession
	for _, s := range m.items {
		if s.UserID == userID {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memSessions) RevokeSessions(_ context.Context, userID, keep string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.items {
		if s.UserID == userID && s.ID != keep {
			delete(m.items, k)
		}
	}
	return nil
}

type sidIssuer struct{}

func (sidIssuer) Issue(_ context.Context, userID, _, sid string) (string, time.Duration, error) {
	return userID + "/" + sid, 15 * time.Minute, nil
}

func newTestSessions() (*Sessions, *memSessions, *time.Time) {
	store := newMemSessions()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	return &Sessions{Store: store, Tokens: sidIssuer{}, Idle: 30 * 24 * time.Hour, Absolute: 90 * 24 * time.Hour,
		Now: func() time.Time { return now }}, store, &now
}

func TestRefreshRotates(t *testing.T) {
	s, store, now := newTestSessions()
	ctx := context.Background()
	first, err := s.Start(ctx, "u1", "kari@example.no", "  Firefox  ")
	if err != nil {
		t.Fatal(err)
	}
	userID, id, secret, ok := parseRefreshToken(first.RefreshToken)
	if !ok || userID != "u1" || first.AccessToken != "u1/"+id || len(secret) != 43 {
		t.Fatalf("first: %+v", first)
	}
	stored := store.items["u1/"+id]
	if stored.Hash != opaque.Hash(secret) || strings.Contains(stored.Hash, secret) || stored.UserAgent != "Firefox" {
		t.Fatalf("stored: %+v", stored)
	}
	*now = now.Add(time.Hour)
	second, err := s.Refresh(ctx, first.RefreshToken)
	if err != nil || second.RefreshToken == first.RefreshToken || second.AccessToken != first.AccessToken {
		t.Fatalf("refresh: %+v %v", second, err)
	}
	if got := store.items["u1/"+id]; !got.LastUsedAt.Equal(*now) || !got.IdleExpiresAt.Equal(now.Add(30*24*time.Hour)) {
		t.Fatalf("after refresh: %+v", got)
	}
}

func TestReuseRevokesTheSession(t *testing.T) {
	s, store, now := newTestSessions()
	ctx := context.Background()
	first, _ := s.Start(ctx, "u1", "kari@example.no", "")
	second, _ := s.Refresh(ctx, first.RefreshToken)
	*now = now.Add(RefreshGrace) // past the grace: a reuse, not a retry
	if _, err := s.Refresh(ctx, first.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("reuse: %v", err)
	}
	if len(store.items) != 0 {
		t.Fatal("a reuse left the session")
	}
	if _, err := s.Refresh(ctx, second.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("current token after reuse: %v", err)
	}
}

// A refresh whose conditional write loses to another with the same token
// answers 401 and ends nothing: it presented the then-current token.
func TestLostRaceDoesNotRevoke(t *testing.T) {
	s, store, _ := newTestSessions()
	ctx := context.Background()
	first, _ := s.Start(ctx, "u1", "kari@example.no", "")
	store.rotateFn = func() error { return fault.New(fault.Conflict, "changed") }
	if _, err := s.Refresh(ctx, first.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("lost race: %v", err)
	}
	if store.deletes != 0 || len(store.items) != 1 {
		t.Fatal("a lost race revoked the session")
	}
}

func TestSessionLifetimes(t *testing.T) {
	s, _, now := newTestSessions()
	ctx := context.Background()
	idle, _ := s.Start(ctx, "u1", "kari@example.no", "")
	*now = now.Add(30 * 24 * time.Hour)
	if _, err := s.Refresh(ctx, idle.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("idle 30 days: %v", err)
	}
	busy, _ := s.Start(ctx, "u1", "kari@example.no", "")
	for range 4 { // 4 x 29 days > 90: the absolute lifetime ends it
		*now = now.Add(29 * 24 * time.Hour)
		next, err := s.Refresh(ctx, busy.RefreshToken)
		if err != nil {
			if fault.CodeOf(err) != fault.Unauthorized {
				t.Fatal(err)
			}
			return
		}
		busy = next
	}
	t.Fatal("a session outlived its absolute lifetime")
}

func TestMalformedRefreshTokens(t *testing.T) {
	s, _, _ := newTestSessions()
	for _, tok := range []string{"", "a.b", "a.b.c", "u#1.s.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "u1.s1.!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if _, err := s.Refresh(context.Background(), tok); fault.CodeOf(err) != fault.Unauthorized {
			t.Errorf("%q: %v", tok, err)
		}
		if err := s.SignOut(context.Background(), tok); err != nil {
			t.Errorf("sign out %q: %v", tok, err)
		}
	}
}

func TestListMarksCurrentAndHidesEnded(t *testing.T) {
	s, _, now := newTestSessions()
	ctx := context.Background()
	old, _ := s.Start(ctx, "u1", "kari@example.no", "old")
	*now = now.Add(31 * 24 * time.Hour)
	a, _ := s.Start(ctx, "u1", "kari@example.no", "a")
	s.Start(ctx, "u2", "ola@example.no", "stranger")
	_, aID, _, _ := parseRefreshToken(a.RefreshToken)
	list, err := s.List(ctx, "u1", aID)
	if err != nil || len(list.Sessions) != 1 || !list.Sessions[0].Current || list.Sessions[0].UserAgent != "a" {
		t.Fatalf("list: %+v %v (old %s)", list, err, old.RefreshToken[:3])
	}
}

// Sign-in with Sessions opens one: its access token names it.
func TestSignInOpensASession(t *testing.T) {
	h := Hasher{Params: Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	hash, _ := h.Hash("correct horse battery")
	sessions, store, now := newTestSessions()
	in := NewSignIn(newMemSignIn(map[string]*Credentials{"kari@example.no": {UserID: "u1", Email: "kari@example.no", PasswordHash: hash}}),
		h, sidIssuer{}, func() time.Time { return *now })
	in.Sessions = sessions
	got, err := in.SignIn(context.Background(), "kari@example.no", "correct horse battery", "198.51.100.7", "Firefox")
	if err != nil || got.RefreshToken == "" || len(store.items) != 1 {
		t.Fatalf("sign-in: %+v %v", got, err)
	}
	_, id, _, _ := parseRefreshToken(got.RefreshToken)
	if got.AccessToken != "u1/"+id {
		t.Fatalf("access token %q names no session %s", got.AccessToken, id)
	}
}

// A second refresh with the token the winner just spent (a client's
// concurrent or retried refresh) gets 401 and ends nothing: the winner's
// new token goes on.
func TestRefreshWithinGraceEndsNothing(t *testing.T) {
	s, store, now := newTestSessions()
	ctx := context.Background()
	first, _ := s.Start(ctx, "u1", "kari@example.no", "")
	second, err := s.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	*now = now.Add(RefreshGrace - time.Second)
	if _, err := s.Refresh(ctx, first.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("spent token within the grace: %v", err)
	}
	if store.deletes != 0 {
		t.Fatal("a retry within the grace ended the session")
	}
	if _, err := s.Refresh(ctx, second.RefreshToken); err != nil {
		t.Fatalf("the winner's token after a retry: %v", err)
	}
}

// A secret the session never had proves nothing about its holder: 401, and
// the session goes on (else anyone knowing the ids, which the access
// token's sid and the export show, could end it).
func TestForgedSecretEndsNothing(t *testing.T) {
	s, store, now := newTestSessions()
	ctx := context.Background()
	first, _ := s.Start(ctx, "u1", "kari@example.no", "")
	second, _ := s.Refresh(ctx, first.RefreshToken)
	*now = now.Add(time.Hour)
	parts := strings.Split(second.RefreshToken, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", 43)
	if _, err := s.Refresh(ctx, forged); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("forged: %v", err)
	}
	if store.deletes != 0 || len(store.items) != 1 {
		t.Fatal("a forged secret ended the session")
	}
	if _, err := s.Refresh(ctx, second.RefreshToken); err != nil {
		t.Fatalf("the current token after a forgery: %v", err)
	}
}

// A sign-in that checked the old password while a reset (or erasure, or
// email change) wrote the new one and revoked the sessions must not leave
// a session behind: it re-reads the account after storing its session.
func TestSignInRacingAResetLeavesNoSession(t *testing.T) {
	h := Hasher{Params: Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	oldHash, _ := h.Hash("correct horse battery")
	newHash, _ := h.Hash("a brand new passphrase")
	sessions, sessionStore, now := newTestSessions()
	store := &racingSignIn{memSignIn: newMemSignIn(map[string]*Credentials{
		"kari@example.no": {UserID: "u1", Email: "kari@example.no", PasswordHash: oldHash}})}
	// The reset lands between the sign-in's read and its PutSession: the new
	// hash is written and the sessions revoked (none yet) before it stores.
	store.afterRead = func() {
		store.creds["kari@example.no"] = &Credentials{UserID: "u1", Email: "kari@example.no", PasswordHash: newHash}
		_ = sessionStore.RevokeSessions(context.Background(), "u1", "")
	}
	in := NewSignIn(store, h, sidIssuer{}, func() time.Time { return *now })
	in.Sessions = sessions
	_, err := in.SignIn(context.Background(), "kari@example.no", "correct horse battery", "198.51.100.7", "Firefox")
	if fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("sign-in racing a reset: %v", err)
	}
	if len(sessionStore.items) != 0 {
		t.Fatalf("a session outlived the reset: %d left", len(sessionStore.items))
	}
}

// racingSignIn runs afterRead once, after the first Credentials read.
type racingSignIn struct {
	*memSignIn
	afterRead func()
}

func (r *racingSignIn) Credentials(ctx context.Context, email string) (*Credentials, error) {
	c, err := r.memSignIn.Credentials(ctx, email)
	if r.afterRead != nil {
		f := r.afterRead
		r.afterRead = nil
		f()
	}
	return c, err
}

// Sessions per person are capped: a sign-in beyond the cap ends the
// session used longest ago, so revoking all stays a bounded job.
func TestSessionsPerPersonAreCapped(t *testing.T) {
	s, store, now := newTestSessions()
	s.MaxSessions = 3
	ctx := context.Background()
	var toks []Session
	for range 3 {
		tok, err := s.Start(ctx, "u1", "kari@example.no", "")
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
		*now = now.Add(time.Minute)
	}
	if _, err := s.Refresh(ctx, toks[0].RefreshToken); err != nil { // the first is now the last used
		t.Fatal(err)
	}
	*now = now.Add(time.Minute)
	if _, err := s.Start(ctx, "u1", "kari@example.no", ""); err != nil {
		t.Fatal(err)
	}
	if n := len(store.items); n != 3 {
		t.Fatalf("%d sessions, want the cap 3", n)
	}
	_, oldest, _, _ := parseRefreshToken(toks[1].RefreshToken)
	if _, ok := store.items["u1/"+oldest]; ok {
		t.Fatal("the session used longest ago survived the cap")
	}
}

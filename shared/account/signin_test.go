package account

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/quota"
)

// memSignIn is a small in-memory SignInStore: throttles by address and
// source, fixed-window counters by quota and window start.
type memSignIn struct {
	mu        sync.Mutex
	creds     map[string]*Credentials
	throttles map[string]Throttle
	used      map[string]int
}

func (m *memSignIn) Credentials(_ context.Context, email string) (*Credentials, error) {
	return m.creds[email], nil
}
func (m *memSignIn) SignInThrottle(_ context.Context, email, source string) (Throttle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.throttles[email+"|"+source], nil
}
func (m *memSignIn) UpdateSignInThrottle(_ context.Context, email, source string, change func(Throttle) (Throttle, bool)) (Throttle, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next, ok := change(m.throttles[email+"|"+source])
	if !ok {
		return m.throttles[email+"|"+source], false, nil
	}
	m.throttles[email+"|"+source] = next
	return next, true, nil
}
func (m *memSignIn) SetSignInThrottle(_ context.Context, email, source string, t Throttle) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.throttles[email+"|"+source] = t
	return nil
}
func (m *memSignIn) Take(_ context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := fmt.Sprint(q) + "|" + now.Truncate(window).String()
	if m.used[k] >= limit {
		return now.Truncate(window).Add(window).Sub(now), nil
	}
	m.used[k]++
	return 0, nil
}
func (m *memSignIn) Give(_ context.Context, q quota.Name, window time.Duration, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := fmt.Sprint(q) + "|" + now.Truncate(window).String(); m.used[k] > 0 {
		m.used[k]--
	}
	return nil
}

func newMemSignIn(creds map[string]*Credentials) *memSignIn {
	return &memSignIn{creds: creds, throttles: map[string]Throttle{}, used: map[string]int{}}
}

type fixedIssuer struct{}

func (fixedIssuer) Issue(context.Context, string, string, string) (string, time.Duration, error) {
	return "token", 15 * time.Minute, nil
}

func TestSignIn(t *testing.T) {
	h := Hasher{Params: Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	hash, _ := h.Hash("correct horse battery")
	store := newMemSignIn(map[string]*Credentials{"kari@example.no": {UserID: "u1", Email: "kari@example.no", PasswordHash: hash}})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := NewSignIn(store, h, fixedIssuer{}, func() time.Time { return now })
	ctx := context.Background()
	const src = "198.51.100.7"

	sess, err := s.SignIn(ctx, "Kari@Example.no", "correct horse battery", src, "")
	if err != nil || sess.AccessToken != "token" || sess.ExpiresIn != 900 || sess.TokenType != "Bearer" {
		t.Fatalf("sign-in: %+v %v", sess, err)
	}

	_, wrongPassword := s.SignIn(ctx, "kari@example.no", "wrong password!!", src, "")
	_, wrongEmail := s.SignIn(ctx, "nobody@example.no", "correct horse battery", src, "")
	if wrongPassword.Error() != wrongEmail.Error() || fault.CodeOf(wrongEmail) != fault.Unauthorized {
		t.Fatalf("errors differ: %v / %v", wrongPassword, wrongEmail)
	}

	// Four more failures are free (five in all), the sixth starts a wait.
	for i := 0; i < 5; i++ {
		if _, err := s.SignIn(ctx, "kari@example.no", "wrong password!!", src, ""); fault.CodeOf(err) != fault.Unauthorized {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err = s.SignIn(ctx, "kari@example.no", "correct horse battery", src, "")
	e, ok := fault.As(err)
	if !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 {
		t.Fatalf("want throttled, got %v", err)
	}
	now = now.Add(e.RetryAfter)
	if _, err := s.SignIn(ctx, "kari@example.no", "correct horse battery", src, ""); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	if th := store.throttles["kari@example.no|"+src]; th.Failures != 0 || !th.NextAllowedAt.IsZero() {
		t.Fatal("success did not clear the throttle")
	}
}

func TestThrottleFail(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var th Throttle
	for i := 0; i < FreeFailures; i++ {
		th = th.Fail(now)
	}
	if !th.NextAllowedAt.IsZero() {
		t.Fatal("free failures throttled")
	}
	th = th.Fail(now)
	if th.NextAllowedAt.Sub(now) != time.Second {
		t.Fatalf("first wait %v", th.NextAllowedAt.Sub(now))
	}
	for i := 0; i < 40; i++ {
		th = th.Fail(now)
	}
	if th.NextAllowedAt.Sub(now) != MaxWait {
		t.Fatalf("wait not capped: %v", th.NextAllowedAt.Sub(now))
	}
	if th.Fail(now.Add(2*time.Hour)).Failures != 1 {
		t.Fatal("quiet hour not forgiven")
	}
}

func TestOWASPDecoyMatchesParameters(t *testing.T) {
	h := Hasher{Params: OWASP}
	s := NewSignIn(nil, h, nil, time.Now)
	if s.decoyHash() != owaspDecoy {
		t.Fatal("the constant decoy is not used for the OWASP parameters")
	}
	// Same parameters as a real hash, so verifying it costs the same.
	real, _ := h.Hash("x")
	prefix := func(s string) string { return s[:strings.LastIndex(s[:strings.LastIndex(s, "$")], "$")] }
	if prefix(real) != prefix(owaspDecoy) {
		t.Fatalf("decoy parameters %q differ from %q", prefix(owaspDecoy), prefix(real))
	}
	if ok, err := h.Verify(owaspDecoy, ""); ok || err != nil {
		t.Fatalf("decoy verify: %v %v", ok, err)
	}
}

// kariSignIn is a sign-in service with one account (kari@example.no,
// "correct horse battery") on an in-memory store, at a clock the test moves.
func kariSignIn(now *time.Time) (*SignIn, *memSignIn) {
	h := Hasher{Params: Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	hash, _ := h.Hash("correct horse battery")
	store := newMemSignIn(map[string]*Credentials{"kari@example.no": {UserID: "u1", Email: "kari@example.no", PasswordHash: hash}})
	return NewSignIn(store, h, fixedIssuer{}, func() time.Time { return *now }), store
}

// wantTooMany fails unless err is a 429 whose Retry-After is in (0, most].
func wantTooMany(t *testing.T, err error, most time.Duration, what string) time.Duration {
	t.Helper()
	e, ok := fault.As(err)
	if !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 || e.RetryAfter > most {
		t.Fatalf("%s: want 429 with Retry-After within %v, got %v", what, most, err)
	}
	return e.RetryAfter
}

func TestSignInSourceLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s, _ := kariSignIn(&now)
	ctx := context.Background()
	// One source guessing across many addresses: no address is throttled,
	// the source is.
	for i := 0; i < DefaultLimits.SourceFailures; i++ {
		if _, err := s.SignIn(ctx, fmt.Sprintf("p%d@example.no", i), "wrong password!!", "203.0.113.9", ""); fault.CodeOf(err) != fault.Unauthorized {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err := s.SignIn(ctx, "p99@example.no", "wrong password!!", "203.0.113.9", "")
	wantTooMany(t, err, DefaultLimits.SourceWindow, "31st failure from one source")
	// Another address of the same IPv6 /64 is the same source.
	for i := 0; i < DefaultLimits.SourceFailures; i++ {
		s.SignIn(ctx, fmt.Sprintf("q%d@example.no", i), "wrong password!!", fmt.Sprintf("2001:db8:1:2::%x", i), "")
	}
	_, err = s.SignIn(ctx, "q99@example.no", "wrong password!!", "2001:db8:1:2:ffff::1", "")
	wantTooMany(t, err, DefaultLimits.SourceWindow, "31st failure from one /64")
	// Others are not affected, and a correct password costs no budget.
	for i := 0; i < DefaultLimits.SourceFailures+5; i++ {
		if _, err := s.SignIn(ctx, "kari@example.no", "correct horse battery", "198.51.100.1", ""); err != nil {
			t.Fatalf("owner, sign-in %d: %v", i, err)
		}
	}
}

func TestSignInGlobalLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s, _ := kariSignIn(&now)
	ctx := context.Background()
	// A botnet: every guess from its own source at its own address.
	for i := 0; i < DefaultLimits.GlobalFailures; i++ {
		src := fmt.Sprintf("10.%d.%d.1", i/256, i%256)
		if _, err := s.SignIn(ctx, fmt.Sprintf("p%d@example.no", i), "wrong password!!", src, ""); fault.CodeOf(err) != fault.Unauthorized {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err := s.SignIn(ctx, "p-last@example.no", "wrong password!!", "192.0.2.1", "")
	wait := wantTooMany(t, err, DefaultLimits.GlobalWindow, "failure over the global budget")
	_, err = s.SignIn(ctx, "kari@example.no", "correct horse battery", "192.0.2.2", "")
	wantTooMany(t, err, DefaultLimits.GlobalWindow, "owner from a new source while the budget is spent")
	now = now.Add(wait)
	if _, err := s.SignIn(ctx, "kari@example.no", "correct horse battery", "192.0.2.2", ""); err != nil {
		t.Fatalf("owner after the window: %v", err)
	}
}

// A stranger who guesses from one source as fast as allowed for a day locks
// the owner out for at most one quarter hour of it, and gets few guesses.
func TestSignInLockoutBound(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s, _ := kariSignIn(&now)
	ctx := context.Background()
	var guessed, refused int
	for sec := 0; sec < 24*60*60; sec++ {
		if _, err := s.SignIn(ctx, "kari@example.no", "wrong password!!", "203.0.113.66", ""); fault.CodeOf(err) == fault.Unauthorized {
			guessed++
		}
		if sec%60 == 30 {
			// The owner, each time from a network never used before.
			_, err := s.SignIn(ctx, "kari@example.no", "correct horse battery", fmt.Sprintf("2001:db8:%x::1", sec), "")
			if e, ok := fault.As(err); ok && e.Code == fault.TooMany {
				refused++
				if e.RetryAfter > MaxWait {
					t.Fatalf("owner told to wait %v", e.RetryAfter)
				}
			} else if err != nil {
				t.Fatalf("owner: %v", err)
			}
		}
		now = now.Add(time.Second)
	}
	t.Logf("stranger's guesses evaluated: %d; owner refused %d of 1440 minutes", guessed, refused)
	if refused > 15 {
		t.Fatalf("owner refused in %d minutes of the day, want at most 15", refused)
	}
	if guessed > 120 {
		t.Fatalf("stranger's guesses evaluated: %d, want at most 120 a day", guessed)
	}
}

// Strangers with many sources can spend an address's budget: the owner's
// usual source is still let in, a new one waits at most the rest of the
// quarter hour, and the strangers' guesses stop at the budget.
func TestSignInManySourcesAgainstOneAddress(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s, _ := kariSignIn(&now)
	ctx := context.Background()
	const home = "198.51.100.20"
	if _, err := s.SignIn(ctx, "kari@example.no", "correct horse battery", home, ""); err != nil {
		t.Fatal(err)
	}
	now = now.Add(24 * time.Hour)
	guessed := 0
	for i := 0; i < 100; i++ {
		if _, err := s.SignIn(ctx, "kari@example.no", "wrong password!!", fmt.Sprintf("203.0.113.%d", i), ""); fault.CodeOf(err) == fault.Unauthorized {
			guessed++
		}
	}
	if guessed != DefaultLimits.AddressFailures {
		t.Fatalf("guesses evaluated from 100 sources: %d, want %d", guessed, DefaultLimits.AddressFailures)
	}
	if _, err := s.SignIn(ctx, "kari@example.no", "correct horse battery", home, ""); err != nil {
		t.Fatalf("owner at home: %v", err)
	}
	_, err := s.SignIn(ctx, "kari@example.no", "correct horse battery", "192.0.2.77", "")
	wait := wantTooMany(t, err, DefaultLimits.AddressWindow, "owner from a new network")
	now = now.Add(wait)
	if _, err := s.SignIn(ctx, "kari@example.no", "correct horse battery", "192.0.2.77", ""); err != nil {
		t.Fatalf("owner from a new network after the wait: %v", err)
	}
}

func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":          "203.0.113.9",
		"::ffff:203.0.113.9":   "203.0.113.9",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::1%eth0": "2001:db8:1:2::/64",
		"":                     "unknown",
		"not an address":       "unknown",
	} {
		if got := SourceKey(in); got != want {
			t.Errorf("SourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}

package account

import (
	"context"
	"strings"
	"testing"
	"time"

	"onboarding/shared/fault"
)

// memSignIn is a small in-memory SignInStore.
type memSignIn struct {
	creds     map[string]*Credentials
	throttles map[string]Throttle
}

func (m *memSignIn) SignInState(_ context.Context, email string) (*Credentials, Throttle, error) {
	return m.creds[email], m.throttles[email], nil
}
func (m *memSignIn) RecordSignInFailure(_ context.Context, email string, t Throttle) error {
	m.throttles[email] = t
	return nil
}
func (m *memSignIn) ClearSignInFailures(_ context.Context, email string) error {
	delete(m.throttles, email)
	return nil
}

type fixedIssuer struct{}

func (fixedIssuer) Issue(context.Context, string, string) (string, time.Duration, error) {
	return "token", 15 * time.Minute, nil
}

func TestSignIn(t *testing.T) {
	h := Hasher{Params: Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	hash, _ := h.Hash("correct horse battery")
	store := &memSignIn{
		creds:     map[string]*Credentials{"kari@example.no": {UserID: "u1", Email: "kari@example.no", PasswordHash: hash}},
		throttles: map[string]Throttle{},
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := NewSignIn(store, h, fixedIssuer{}, func() time.Time { return now })
	ctx := context.Background()

	sess, err := s.SignIn(ctx, "Kari@Example.no", "correct horse battery")
	if err != nil || sess.AccessToken != "token" || sess.ExpiresIn != 900 || sess.TokenType != "Bearer" {
		t.Fatalf("sign-in: %+v %v", sess, err)
	}

	_, wrongPassword := s.SignIn(ctx, "kari@example.no", "wrong password!!")
	_, wrongEmail := s.SignIn(ctx, "nobody@example.no", "correct horse battery")
	if wrongPassword.Error() != wrongEmail.Error() || fault.CodeOf(wrongEmail) != fault.Unauthorized {
		t.Fatalf("errors differ: %v / %v", wrongPassword, wrongEmail)
	}

	// Four more failures are free (five in all), the sixth starts a wait.
	for i := 0; i < 5; i++ {
		if _, err := s.SignIn(ctx, "kari@example.no", "wrong password!!"); fault.CodeOf(err) != fault.Unauthorized {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err = s.SignIn(ctx, "kari@example.no", "correct horse battery")
	e, ok := fault.As(err)
	if !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 {
		t.Fatalf("want throttled, got %v", err)
	}
	now = now.Add(e.RetryAfter)
	if _, err := s.SignIn(ctx, "kari@example.no", "correct horse battery"); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	if _, ok := store.throttles["kari@example.no"]; ok {
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

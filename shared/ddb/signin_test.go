package ddb_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
)

type stubIssuer struct{}

func (stubIssuer) Issue(context.Context, string, string, string) (string, time.Duration, error) {
	return "token", 15 * time.Minute, nil
}

func (f fixture) signIn() *account.SignIn {
	return account.NewSignIn(f.store, f.svc.Hasher, stubIssuer{}, f.clock.Now)
}

// guessAtOnce sends 30 wrong guesses at email at the same time, the i-th
// from source(i), and counts those whose password was checked (401) and
// those refused unchecked (429).
func guessAtOnce(t *testing.T, s *account.SignIn, email string, source func(int) string) (evaluated, refused int32) {
	var ev, ref atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SignIn(context.Background(), email, "not the admin passphrase", source(i), "")
			switch e, _ := fault.As(err); {
			case e != nil && e.Code == fault.Unauthorized:
				ev.Add(1)
			case e != nil && e.Code == fault.TooMany && e.RetryAfter > 0:
				ref.Add(1)
			default:
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	return ev.Load(), ref.Load()
}

// Thirty wrong guesses at once against one address: each must win a
// conditional write before its password is checked, so only the allowed
// ones are.
func TestParallelWrongGuessesAreReservedFirst(t *testing.T) {
	f := newFixture(t)
	f.provisionAndJoin(t, "ada@example.no")
	s := f.signIn()

	evaluated, refused := guessAtOnce(t, s, "ada@example.no", func(int) string { return "203.0.113.9" })
	t.Logf("one source: evaluated %d, refused %d", evaluated, refused)
	if evaluated > account.FreeFailures+1 || evaluated+refused != 30 {
		t.Fatalf("one source: evaluated %d refused %d: want at most %d evaluated", evaluated, refused, account.FreeFailures+1)
	}

	evaluated, refused = guessAtOnce(t, s, "bo@example.no", func(i int) string { return fmt.Sprintf("198.51.100.%d", i) })
	t.Logf("30 sources: evaluated %d, refused %d", evaluated, refused)
	if evaluated > int32(account.DefaultLimits.AddressFailures) || evaluated+refused != 30 {
		t.Fatalf("30 sources: evaluated %d refused %d: want at most %d evaluated", evaluated, refused, account.DefaultLimits.AddressFailures)
	}
}

// Accepting an invitation with an existing account's password is a password
// guess like a sign-in: same throttle, same limits.
func TestAcceptWithExistingAccountIsThrottled(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.Guesses = f.signIn().Guesses
	org1, ada := f.provisionAndJoin(t, "ada@example.no")
	if _, err := f.svc.Invite(ctx, ada, org1, invite.Request{Email: "kari@example.no", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	first := f.mail.token(t, "kari@example.no")
	org2, bo := f.provisionAndJoin(t, "bo@example.no")
	if _, err := f.svc.Invite(ctx, bo, org2, invite.Request{Email: "kari@example.no", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	second := f.mail.token(t, "kari@example.no")
	accept := func(tok, password string) error {
		_, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: tok, FirstName: "Kari", LastName: "N",
			Password: password, AcceptTerms: true, TermsVersion: "2026-01", Source: "203.0.113.9"})
		return err
	}
	if err := accept(first, "fjord and mountain"); err != nil {
		t.Fatalf("accept (new account): %v", err)
	}
	// Now the second invitation needs the account's password.
	for i := 0; i < 6; i++ {
		if err := accept(second, "not kari's passphrase"); fault.CodeOf(err) != fault.Unauthorized {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	err := accept(second, "not kari's passphrase")
	if e, ok := fault.As(err); !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 {
		t.Fatalf("7th wrong password on accept: want 429, got %v", err)
	}
	// The same throttle guards sign-in.
	if _, err := f.signIn().SignIn(ctx, "kari@example.no", "fjord and mountain", "203.0.113.9", ""); fault.CodeOf(err) != fault.TooMany {
		t.Fatalf("sign-in after accept's failures: want 429, got %v", err)
	}
}

package ddb_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/fault"
)

// resetMail records the reset links the service would have emailed.
type resetMail struct {
	mu    sync.Mutex
	links map[string][]string
}

func (m *resetMail) SendPasswordReset(_ context.Context, a account.Account, link string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.links[a.Email] = append(m.links[a.Email], link)
	return nil
}

type countRevoker struct {
	mu    sync.Mutex
	calls []string
}

func (c *countRevoker) RevokeSessions(_ context.Context, userID, keep string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, userID+"|"+keep)
	return nil
}

// A reset token is stored only as its hash, works once (ten racing
// confirmations: exactly one sets the password), and not after its hour.
func TestPasswordResetAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, adaID := f.provisionAndJoin(t, "ada@example.no")
	mail := &resetMail{links: map[string][]string{}}
	revoked := &countRevoker{}
	resets := &account.PasswordReset{Store: f.store, Mailer: mail, Hasher: f.svc.Hasher, Sessions: revoked,
		Limits: account.DefaultResetLimits, Now: f.clock.Now}

	// An address with no account: the same answer, nothing sent.
	if err := resets.Request(ctx, "nobody@example.no", "198.51.100.7", "http://localhost"); err != nil {
		t.Fatal(err)
	}
	if err := resets.Request(ctx, "Ada@Example.no", "198.51.100.7", "http://localhost"); err != nil {
		t.Fatal(err)
	}
	if len(mail.links) != 1 || len(mail.links["ada@example.no"]) != 1 {
		t.Fatalf("links %v", mail.links)
	}
	token, ok := strings.CutPrefix(mail.links["ada@example.no"][0], "http://localhost/reset#token=")
	if !ok || len(token) != 43 {
		t.Fatalf("link %q", mail.links["ada@example.no"][0])
	}
	if f.tableHolds(t, token) {
		t.Fatal("the raw token is stored")
	}

	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = resets.Confirm(ctx, token, "a brand new passphrase", "198.51.100.7")
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case fault.CodeOf(err) != fault.Gone:
			t.Errorf("a losing confirmation: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d confirmations won: %v", won, errs)
	}
	if len(revoked.calls) != 1 || revoked.calls[0] != adaID+"|" {
		t.Fatalf("revoked %v", revoked.calls)
	}
	signIn := account.NewSignIn(f.store, f.svc.Hasher, stubIssuer{}, f.clock.Now)
	if _, err := signIn.SignIn(ctx, "ada@example.no", "a brand new passphrase", "198.51.100.7", ""); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
	if _, err := signIn.SignIn(ctx, "ada@example.no", "a long admin passphrase", "198.51.100.7", ""); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("the old password still works: %v", err)
	}

	// Expiry is checked at use: a token an hour old is Gone, in the store's
	// condition too (a confirmation that read it just in time).
	if err := resets.Request(ctx, "ada@example.no", "198.51.100.7", "http://localhost"); err != nil {
		t.Fatal(err)
	}
	late := strings.TrimPrefix(mail.links["ada@example.no"][1], "http://localhost/reset#token=")
	f.clock.Add(account.ResetLifetime)
	if err := resets.Confirm(ctx, late, "yet another passphrase", "198.51.100.7"); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("expired token: %v", err)
	}
	if err := f.store.CompleteReset(ctx, hashOf(late), adaID, "ada@example.no", "x", f.clock.Now()); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("store completes an expired reset: %v", err)
	}
}

// Requests are counted per address: the fourth in an hour sends nothing,
// and answers as the others did.
func TestPasswordResetThrottledAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.provisionAndJoin(t, "ada@example.no")
	mail := &resetMail{links: map[string][]string{}}
	resets := &account.PasswordReset{Store: f.store, Mailer: mail, Hasher: f.svc.Hasher, Sessions: &countRevoker{},
		Limits: account.DefaultResetLimits, Now: f.clock.Now}
	for i := 0; i < 5; i++ {
		if err := resets.Request(ctx, "ada@example.no", "198.51.100.7", "http://localhost"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mail.links["ada@example.no"]); n != account.DefaultResetLimits.AddressRequests {
		t.Fatalf("%d emails sent", n)
	}
	f.clock.Add(time.Hour)
	if err := resets.Request(ctx, "ada@example.no", "198.51.100.7", "http://localhost"); err != nil || len(mail.links["ada@example.no"]) != 4 {
		t.Fatalf("after the hour: %v, %d emails", err, len(mail.links["ada@example.no"]))
	}
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

package ddb_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/phone"
	"onboarding/shared/quota"
	"onboarding/shared/selfservice"
)

// changeLinks keeps the email-change links sent, by address.
type changeLinks struct {
	mu     sync.Mutex
	byTo   map[string]string
	notice map[string]int
}

func (c *changeLinks) SendEmailChange(_ context.Context, to, _, _, link string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byTo[to] = link
	return nil
}
func (c *changeLinks) SendEmailChangeNotice(_ context.Context, to, _, _, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notice[to]++
	return nil
}

func (f fixture) self(mail *changeLinks) *selfservice.Service {
	return &selfservice.Service{Store: f.store, Hasher: account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}},
		Guesses: account.NewGuesses(f.store, f.clock.Now), Mailer: mail, Phones: phone.Normalize,
		Languages: []string{"en", "nb"}, Now: f.clock.Now}
}

// PATCH /me writes the account and every membership's copy; leaving is the
// removal of a member, never of the last org-wide admin.
func TestSelfServiceProfileAndLeave(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgA, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgA, "kari@example.no", "member")
	orgB, bo := f.provisionAndJoin(t, "bo@example.no")
	if inv, err := f.svc.Invite(ctx, bo, orgB, invite.Request{Email: "kari@example.no", Role: "member"}); err != nil || inv.Status != invite.Accepted {
		t.Fatalf("add kari to B: %+v %v", inv, err)
	}
	self := f.self(&changeLinks{byTo: map[string]string{}, notice: map[string]int{}})
	first, phoneNo, lang := "Kari", "412 34 567", "nb"
	if _, err := self.UpdateProfile(ctx, kari, selfservice.ProfileChange{FirstName: &first, Phone: &phoneNo, Language: &lang}); err != nil {
		t.Fatal(err)
	}
	a, _ := f.store.Account(ctx, kari)
	if a.FirstName != "Kari" || a.LastName != "L" || a.Phone != "+4741234567" || a.Language != "nb" || a.Email != "kari@example.no" {
		t.Fatalf("account %+v", a)
	}
	for _, o := range []string{orgA, orgB} {
		m, err := f.store.Member(ctx, o, kari)
		if err != nil || m == nil || m.FirstName != "Kari" || m.Phone != "+4741234567" || m.Role != "member" || m.Email != "kari@example.no" {
			t.Fatalf("membership in %s: %+v %v", o, m, err)
		}
	}
	if m, _ := f.store.Member(ctx, orgA, ada); m.FirstName != "Ada" {
		t.Fatalf("another member changed: %+v", m)
	}

	if err := self.LeaveOrg(ctx, ada, orgA); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("the last org-wide admin left: %v", err)
	}
	if err := self.LeaveOrg(ctx, kari, orgA); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.store.Member(ctx, orgA, kari); m != nil {
		t.Fatalf("still a member: %+v", m)
	}
	if ms, _ := f.store.Memberships(ctx, kari); len(ms) != 1 || ms[0].OrgID != orgB {
		t.Fatalf("memberships after leaving A: %+v", ms)
	}
	if err := self.LeaveOrg(ctx, kari, orgA); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("leaving twice: %v", err)
	}
}

// Two accounts confirm a change to the same address at once: exactly one
// wins, and the address then belongs to it alone; the loser keeps its own.
func TestEmailChangeRace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgID, "kari@example.no", "member")
	mail := &changeLinks{byTo: map[string]string{}, notice: map[string]int{}}
	self := f.self(mail)
	token := func(t *testing.T) string {
		t.Helper()
		tok, ok := strings.CutPrefix(mail.byTo["shared@example.no"], "https://app.example/email-change#token=")
		if !ok {
			t.Fatalf("no link: %v", mail.byTo)
		}
		return tok
	}
	if err := self.StartEmailChange(ctx, kari, "203.0.113.9", "https://app.example",
		selfservice.EmailChangeRequest{NewEmail: "shared@example.no", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	kariToken := token(t)
	if err := self.StartEmailChange(ctx, ada, "203.0.113.9", "https://app.example",
		selfservice.EmailChangeRequest{NewEmail: "shared@example.no", Password: "a long admin passphrase"}); err != nil {
		t.Fatal(err)
	}
	adaToken := token(t)
	if f.tableHolds(t, kariToken) || f.tableHolds(t, adaToken) {
		t.Fatal("a raw token is stored")
	}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, tok := range []string{kariToken, adaToken} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = self.ConfirmEmailChange(ctx, tok) }()
	}
	wg.Wait()
	winner, loser, loserEmail := kari, ada, "ada@example.no"
	switch {
	case errs[0] == nil && fault.CodeOf(errs[1]) == fault.Conflict:
	case errs[1] == nil && fault.CodeOf(errs[0]) == fault.Conflict:
		winner, loser, loserEmail = ada, kari, "kari@example.no"
	default:
		t.Fatalf("want exactly one winner and one 409: %v", errs)
	}
	if a, _ := f.store.AccountByEmail(ctx, "shared@example.no"); a == nil || a.UserID != winner {
		t.Fatalf("the address belongs to %+v, want %s", a, winner)
	}
	if a, _ := f.store.AccountByEmail(ctx, loserEmail); a == nil || a.UserID != loser {
		t.Fatalf("the loser lost its address: %+v", a)
	}
	if m, _ := f.store.Member(ctx, orgID, winner); m.Email != "shared@example.no" {
		t.Fatalf("the winner's membership: %+v", m)
	}
	if m, _ := f.store.Member(ctx, orgID, loser); m.Email != loserEmail {
		t.Fatalf("the loser's membership: %+v", m)
	}
	// The winner's old address is free again; the winner's token is used up.
	old := "kari@example.no"
	if winner == ada {
		old = "ada@example.no"
	}
	if a, _ := f.store.AccountByEmail(ctx, old); a != nil {
		t.Fatalf("the old address still names %+v", a)
	}
	winnerToken := kariToken
	if winner == ada {
		winnerToken = adaToken
	}
	if err := self.ConfirmEmailChange(ctx, winnerToken); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("second use: %v", err)
	}
	// The old addresses were told, each once per request.
	if mail.notice["kari@example.no"] != 1 || mail.notice["ada@example.no"] != 1 {
		t.Fatalf("notices %v", mail.notice)
	}
}

// A link expires after 24 hours, checked at use.
func TestEmailChangeExpires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, ada := f.provisionAndJoin(t, "ada@example.no")
	mail := &changeLinks{byTo: map[string]string{}, notice: map[string]int{}}
	self := f.self(mail)
	if err := self.StartEmailChange(ctx, ada, "203.0.113.9", "https://app.example",
		selfservice.EmailChangeRequest{NewEmail: "ada@example.com", Password: "a long admin passphrase"}); err != nil {
		t.Fatal(err)
	}
	tok, _ := strings.CutPrefix(mail.byTo["ada@example.com"], "https://app.example/email-change#token=")
	f.clock.Add(24 * time.Hour)
	if err := self.ConfirmEmailChange(ctx, tok); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("expired link: %v", err)
	}
	if a, _ := f.store.AccountByEmail(ctx, "ada@example.no"); a == nil || a.UserID != ada {
		t.Fatal("an expired link changed the address")
	}
}

// A pending change of address is bound to the password it was started
// with: a change of password, or a reset, cancels it (410), in the store's
// condition too.
func TestEmailChangeCancelledByPasswordAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgID, "kari@example.no", "member")
	mail := &changeLinks{byTo: map[string]string{}, notice: map[string]int{}}
	self := f.self(mail)
	start := func(userID, password, to string) string {
		t.Helper()
		if err := self.StartEmailChange(ctx, userID, "203.0.113.9", "https://app.example",
			selfservice.EmailChangeRequest{NewEmail: to, Password: password}); err != nil {
			t.Fatal(err)
		}
		tok, ok := strings.CutPrefix(mail.byTo[to], "https://app.example/email-change#token=")
		if !ok {
			t.Fatalf("no link to %s", to)
		}
		return tok
	}

	// Changed by its owner.
	tok := start(kari, "a long enough passphrase", "attacker@example.net")
	if err := self.ChangePassword(ctx, kari, "", "203.0.113.9", selfservice.PasswordChange{
		CurrentPassword: "a long enough passphrase", NewPassword: "the owner's new passphrase"}); err != nil {
		t.Fatal(err)
	}
	if err := self.ConfirmEmailChange(ctx, tok); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("confirmed after a password change: %v", err)
	}
	if a, _ := f.store.Account(ctx, kari); a.Email != "kari@example.no" {
		t.Fatalf("the address changed: %s", a.Email)
	}

	// Reset through the emailed link.
	tok = start(ada, "a long admin passphrase", "attacker@example.org")
	mails := &resetMail{links: map[string][]string{}}
	resets := &account.PasswordReset{Store: f.store, Mailer: mails, Hasher: f.svc.Hasher, Sessions: &countRevoker{},
		Limits: account.DefaultResetLimits, Now: f.clock.Now}
	if err := resets.Request(ctx, "ada@example.no", "198.51.100.7", "http://localhost"); err != nil {
		t.Fatal(err)
	}
	resetTok := strings.TrimPrefix(mails.links["ada@example.no"][0], "http://localhost/reset#token=")
	if err := resets.Confirm(ctx, resetTok, "the admin's new passphrase", "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	if err := self.ConfirmEmailChange(ctx, tok); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("confirmed after a password reset: %v", err)
	}
	if a, _ := f.store.Account(ctx, ada); a.Email != "ada@example.no" {
		t.Fatalf("the address changed: %s", a.Email)
	}

	// A password changed between the check and the transaction: the
	// store refuses a hash that is not the account's.
	c := selfservice.EmailChange{UserID: ada, OldEmail: "ada@example.no", NewEmail: "attacker@example.org",
		ExpiresAt: f.clock.Now().Add(time.Hour)}
	if err := f.store.PutEmailChange(ctx, hashOf("race"), c); err != nil {
		t.Fatal(err)
	}
	if err := f.store.ChangeEmail(ctx, hashOf("race"), c, "a stale hash", nil, f.clock.Now()); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("store changed the address under a stale password hash: %v", err)
	}
}

// A reset link mailed before a change of address opens nothing after it.
func TestPasswordResetAfterEmailChangeAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, ada := f.provisionAndJoin(t, "ada@example.no")
	mails := &resetMail{links: map[string][]string{}}
	resets := &account.PasswordReset{Store: f.store, Mailer: mails, Hasher: f.svc.Hasher, Sessions: &countRevoker{},
		Limits: account.DefaultResetLimits, Now: f.clock.Now}
	if err := resets.Request(ctx, "ada@example.no", "198.51.100.7", "http://localhost"); err != nil {
		t.Fatal(err)
	}
	resetTok := strings.TrimPrefix(mails.links["ada@example.no"][0], "http://localhost/reset#token=")
	mail := &changeLinks{byTo: map[string]string{}, notice: map[string]int{}}
	self := f.self(mail)
	if err := self.StartEmailChange(ctx, ada, "203.0.113.9", "https://app.example",
		selfservice.EmailChangeRequest{NewEmail: "ada@example.com", Password: "a long admin passphrase"}); err != nil {
		t.Fatal(err)
	}
	if err := self.ConfirmEmailChange(ctx, strings.TrimPrefix(mail.byTo["ada@example.com"], "https://app.example/email-change#token=")); err != nil {
		t.Fatal(err)
	}
	if err := resets.Confirm(ctx, resetTok, "a takeover passphrase", "198.51.100.7"); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("a link to the old address reset the password: %v", err)
	}
	// The store's condition as well (a confirmation that read the account
	// just before the change).
	if err := f.store.CompleteReset(ctx, hashOf(resetTok), ada, "ada@example.no", "x", f.clock.Now()); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("store completed a reset for the old address: %v", err)
	}
	signIn := account.NewSignIn(f.store, f.svc.Hasher, stubIssuer{}, f.clock.Now)
	if _, err := signIn.SignIn(ctx, "ada@example.com", "a long admin passphrase", "198.51.100.7", ""); err != nil {
		t.Fatalf("the password changed: %v", err)
	}
}

// Starting a change draws on the caller's daily budget (the sixth is 429)
// and on the new address's: past that, the same answer and nothing sent.
func TestEmailChangeQuotaAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, ada := f.provisionAndJoin(t, "ada@example.no")
	mail := &changeLinks{byTo: map[string]string{}, notice: map[string]int{}}
	self := f.self(mail)
	start := func(to string) error {
		return self.StartEmailChange(ctx, ada, "203.0.113.9", "https://app.example",
			selfservice.EmailChangeRequest{NewEmail: to, Password: "a long admin passphrase"})
	}
	for i := range selfservice.AddressEmailsPerDay {
		if _, err := f.store.Take(ctx, quota.Name{Kind: quota.AddressEmails, Subject: "full@example.com"}, 100, 24*time.Hour, f.clock.Now()); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := start("full@example.com"); err != nil || mail.byTo["full@example.com"] != "" || mail.notice["ada@example.no"] != 0 {
		t.Fatalf("address over its budget: %v, sent %v %v", err, mail.byTo, mail.notice)
	}
	for i := 2; i <= selfservice.EmailChangesPerUser; i++ {
		if err := start(fmt.Sprintf("ada%d@example.com", i)); err != nil {
			t.Fatal(err)
		}
	}
	err := start("ada6@example.com")
	if e, ok := fault.As(err); !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 || mail.byTo["ada6@example.com"] != "" {
		t.Fatalf("6th change in a day: %v", err)
	}
}

// changeEmail changes userID's address to to through self-service.
func (f fixture) changeEmail(t *testing.T, userID, password, to string) {
	t.Helper()
	ctx := context.Background()
	mail := &changeLinks{byTo: map[string]string{}, notice: map[string]int{}}
	self := f.self(mail)
	if err := self.StartEmailChange(ctx, userID, "203.0.113.9", "https://app.example",
		selfservice.EmailChangeRequest{NewEmail: to, Password: password}); err != nil {
		t.Fatal(err)
	}
	tok, ok := strings.CutPrefix(mail.byTo[to], "https://app.example/email-change#token=")
	if !ok {
		t.Fatalf("no link to %s", to)
	}
	if err := self.ConfirmEmailChange(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

// A confirmed email change takes the invitations to the old address
// along (accepted and pending): they are found by the new one, and keep
// the address they were sent to.
func TestEmailChangeMovesInviteeIndexAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	userID, _, _, _ := kari(t, f, "kari@example.no")
	f.changeEmail(t, userID, kariPassword, "kari.new@example.no")

	moved, err := f.store.InvitationsTo(ctx, "kari.new@example.no")
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[invite.Status]int{}
	for _, inv := range moved {
		statuses[inv.Status]++
		if inv.Email != "kari@example.no" {
			t.Errorf("the invitation's address was rewritten: %s", inv.Email)
		}
	}
	if len(moved) != 3 || statuses[invite.Accepted] != 2 || statuses[invite.Pending] != 1 {
		t.Errorf("invitations found by the new address: %d (%v), want 2 accepted and 1 pending", len(moved), statuses)
	}
	if left, err := f.store.InvitationsTo(ctx, "kari@example.no"); err != nil || len(left) != 0 {
		t.Errorf("invitations still found by the old address: %d %v", len(left), err)
	}
}

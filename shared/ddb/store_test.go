package ddb_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/ddb"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/phone"
)

// links records the links the service would have emailed.
type links struct {
	mu        sync.Mutex
	byTo      map[string][]string
	added     []string
	leaves    map[string][]string // leave links of "added" emails, by recipient
	failAdded atomic.Bool         // "added" emails fail
	reminders map[string][]string
	digests   []invite.ExpiredNotice
	fail      atomic.Bool // every email fails
	failDigst atomic.Bool // digests fail
	delay     time.Duration
}

func (l *links) SendInvitation(_ context.Context, inv invite.Invitation, link string) error {
	if l.fail.Load() {
		return fault.New(fault.Unavailable, "mail down")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byTo[inv.Email] = append(l.byTo[inv.Email], link)
	return nil
}

func (l *links) SendAdded(_ context.Context, inv invite.Invitation, _, link, leaveLink string) error {
	if l.failAdded.Load() {
		return fault.New(fault.Unavailable, "mail down")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.added = append(l.added, inv.Email)
	if l.leaves == nil {
		l.leaves = map[string][]string{}
	}
	l.leaves[inv.Email] = append(l.leaves[inv.Email], leaveLink)
	return nil
}

// leaveToken is the token of the newest leave link mailed to `to`.
func (l *links) leaveToken(t *testing.T, to string) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := l.leaves[to]
	if len(ls) == 0 {
		t.Fatalf("no leave link mailed to %s", to)
	}
	tok, ok := strings.CutPrefix(ls[len(ls)-1], "http://localhost/leave#token=")
	if !ok {
		t.Fatalf("leave link %q", ls[len(ls)-1])
	}
	return tok
}

func (l *links) token(t *testing.T, to string) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := l.byTo[to]
	if len(ls) == 0 {
		t.Fatalf("no invitation mailed to %s", to)
	}
	_, tok, _ := strings.Cut(ls[len(ls)-1], "#token=")
	return tok
}

type fixture struct {
	table string
	store *ddb.Store
	svc   *invite.Service
	mail  *links
	clock *testenv.Clock
}

func newFixture(t *testing.T) fixture {
	client, table := testenv.Table(t)
	clk := testenv.NewClock()
	store := ddb.New(client, table, clk.Now)
	mail := &links{byTo: map[string][]string{}, reminders: map[string][]string{}}
	svc := &invite.Service{
		Store: store, Mailer: mail, Phones: phone.Normalize,
		Hasher:    account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}},
		AcceptURL: "http://localhost/accept", Now: clk.Now, LifetimeDays: 30,
	}
	return fixture{table, store, svc, mail, clk}
}

// unit creates a unit as actorID and returns its id.
func (f fixture) unit(t *testing.T, orgID, actorID, name string) string {
	t.Helper()
	u, err := (&org.Service{Store: f.store, Now: f.clock.Now}).CreateUnit(context.Background(), actorID, orgID, name)
	if err != nil {
		t.Fatalf("create unit %s: %v", name, err)
	}
	return u.ID
}

// provisionAndJoin provisions an organisation and accepts its admin
// invitation, returning the org and the admin's user id.
func (f fixture) provisionAndJoin(t *testing.T, adminEmail string) (orgID, adminID string) {
	t.Helper()
	ctx := context.Background()
	p, err := f.svc.Provision(ctx, invite.ProvisionRequest{Name: "Nordlys Care", AdminEmail: adminEmail, AdminFirstName: "Ada", DefaultPhoneRegion: "NO"})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	j, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, adminEmail), FirstName: "Ada", LastName: "Admin",
		Password: "a long admin passphrase", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		t.Fatalf("accept admin invitation: %v", err)
	}
	return p.OrgID, j.UserID
}

func TestInviteAcceptAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	north := f.unit(t, orgID, adminID, "North")

	inv, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{
		Email: "Kari@Example.no", FirstName: "Kari", LastName: "Nordmann", Phone: "915 12 345", Role: "member", Units: []string{north},
	})
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	if inv.Email != "kari@example.no" || inv.Phone != "+4791512345" || inv.Status != invite.Pending || inv.DeliveryStatus != invite.DeliverySent {
		t.Fatalf("invitation %+v", inv)
	}
	if got := inv.ExpiresAt.Sub(inv.CreatedAt); got != 30*24*time.Hour {
		t.Fatalf("lifetime %v", got)
	}

	// One pending invitation per email per organisation.
	_, err = f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "kari@example.no", Role: "member"})
	e, ok := fault.As(err)
	if !ok || e.Code != fault.Conflict || e.Extra["invitationId"] != inv.ID {
		t.Fatalf("duplicate invite: %v", err)
	}

	// A stranger may not invite.
	if _, err := f.svc.Invite(ctx, "someone-else", orgID, invite.Request{Email: "x@example.no", Role: "member"}); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("stranger invite: %v", err)
	}

	tok := f.mail.token(t, "kari@example.no")
	p, err := f.svc.Preview(ctx, tok)
	if err != nil || p.OrgName != "Nordlys Care" || p.InviterName != "Ada Admin" || p.AccountExists || p.FirstName != "Kari" {
		t.Fatalf("preview %+v %v", p, err)
	}

	j, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: tok, FirstName: "Kari", LastName: "Nordmann",
		Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil || j.OrgID != orgID || j.Role != "member" {
		t.Fatalf("accept %+v %v", j, err)
	}
	// The token works once.
	if _, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: tok, FirstName: "K", LastName: "N",
		Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "2026-01"}); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("second accept: %v", err)
	}
	stored, err := f.store.Invitation(ctx, orgID, inv.ID)
	if err != nil || stored.Status != invite.Accepted || stored.AcceptedAt == nil {
		t.Fatalf("stored invitation %+v %v", stored, err)
	}

	// Sign-in state and memberships.
	creds, err := f.store.Credentials(ctx, "kari@example.no")
	if err != nil || creds == nil || creds.UserID != j.UserID {
		t.Fatalf("sign-in state %+v %v", creds, err)
	}
	ms, err := f.store.Memberships(ctx, j.UserID)
	if err != nil || len(ms) != 1 || ms[0].OrgID != orgID || ms[0].Units[0] != north {
		t.Fatalf("memberships %+v %v", ms, err)
	}

	// Inviting a current member is a conflict.
	if _, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "kari@example.no", Role: "member"}); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("invite member: %v", err)
	}

	// Kari has an account now: another organisation adds her at once.
	p2, err := f.svc.Provision(ctx, invite.ProvisionRequest{Name: "Second Org", AdminEmail: "ada@example.no"})
	if err != nil {
		t.Fatal(err)
	}
	// Ada has an account too, so her admin invitation to the second org was accepted at once.
	added, err := f.svc.Invite(ctx, adminID, p2.OrgID, invite.Request{Email: "kari@example.no", Role: "reporter"})
	if err != nil || added.Status != invite.Accepted || added.AcceptedAt == nil || added.DeliveryStatus != invite.DeliverySent {
		t.Fatalf("add existing account: %+v %v", added, err)
	}
	if stored, err := f.store.Invitation(ctx, p2.OrgID, added.ID); err != nil || stored.DeliveryStatus != invite.DeliverySent {
		t.Fatalf("the notice's delivery was not recorded: %+v %v", stored, err)
	}
	ms, _ = f.store.Memberships(ctx, j.UserID)
	if len(ms) != 2 {
		t.Fatalf("kari's memberships: %d", len(ms))
	}
	if len(f.mail.added) != 2 || f.mail.added[1] != "kari@example.no" {
		t.Fatalf("added emails %v", f.mail.added)
	}
}

func TestExpiryAtUseAndGuardTakeover(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	first, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "late@example.no", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.mail.token(t, "late@example.no")
	f.clock.Add(30*24*time.Hour + time.Second) // no sweep has run

	if _, err := f.svc.Preview(ctx, tok); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("preview of expired: %v", err)
	}
	if _, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: tok, FirstName: "L", LastName: "L",
		Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "v"}); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("accept of expired: %v", err)
	}
	// The expired invitation no longer blocks a new one.
	second, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "late@example.no", Role: "member"})
	if err != nil || second.ID == first.ID {
		t.Fatalf("re-invite after expiry: %+v %v", second, err)
	}
}

func TestDeliveryFailureIsRecorded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	f.mail.fail.Store(true)
	inv, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "bounce@example.no", Role: "member"})
	if err != nil || inv.DeliveryStatus != invite.DeliveryFailed {
		t.Fatalf("invite with mail down: %+v %v", inv, err)
	}
	stored, err := f.store.Invitation(ctx, orgID, inv.ID)
	if err != nil || stored.DeliveryStatus != invite.DeliveryFailed || stored.Status != invite.Pending {
		t.Fatalf("stored %+v %v", stored, err)
	}
}

func TestConcurrentAcceptsCreateOneAccount(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	if _, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "race@example.no", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	tok := f.mail.token(t, "race@example.no")
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: tok, FirstName: "R", LastName: "R",
				Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "v"})
			if err == nil {
				wins.Add(1)
			} else if c := fault.CodeOf(err); c == fault.Conflict || c == fault.NotFound {
				conflicts.Add(1)
			} else {
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 49 {
		t.Fatalf("wins %d conflicts %d", wins.Load(), conflicts.Load())
	}
	creds, err := f.store.Credentials(ctx, "race@example.no")
	if err != nil || creds == nil {
		t.Fatalf("account: %v", err)
	}
	ms, _ := f.store.Memberships(ctx, creds.UserID)
	if len(ms) != 1 {
		t.Fatalf("memberships %d", len(ms))
	}
}

func TestConcurrentInvitesLeaveOnePending(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "same@example.no", Role: "member"})
			if err == nil {
				ok.Add(1)
			} else if fault.CodeOf(err) == fault.Conflict {
				conflict.Add(1)
			} else {
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 49 {
		t.Fatalf("created %d conflicts %d", ok.Load(), conflict.Load())
	}
}

func TestSignInThrottleStore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	fail := func(th account.Throttle) (account.Throttle, bool) { return th.Fail(now), true }
	if _, ok, err := f.store.UpdateSignInThrottle(ctx, "x@example.no", "203.0.113.9", fail); err != nil || !ok {
		t.Fatal(ok, err)
	}
	creds, err := f.store.Credentials(ctx, "x@example.no")
	got, err2 := f.store.SignInThrottle(ctx, "x@example.no", "203.0.113.9")
	if err != nil || err2 != nil || creds != nil || got.Failures != 1 || !got.LastFailureAt.Equal(now) {
		t.Fatalf("state %+v %+v %v %v", creds, got, err, err2)
	}
	if other, _ := f.store.SignInThrottle(ctx, "x@example.no", "203.0.113.10"); other.Failures != 0 {
		t.Fatal("another source shares the throttle")
	}
	refuse := func(th account.Throttle) (account.Throttle, bool) { return th.Fail(now), false }
	if _, ok, _ := f.store.UpdateSignInThrottle(ctx, "x@example.no", "203.0.113.9", refuse); ok {
		t.Fatal("a refused change was written")
	}
	if err := f.store.SetSignInThrottle(ctx, "x@example.no", "203.0.113.9", account.Throttle{LastSuccessAt: now}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.SignInThrottle(ctx, "x@example.no", "203.0.113.9"); got.Failures != 0 || !got.Known(now) {
		t.Fatalf("not cleared: %+v", got)
	}
	// The version moved on: a write based on an earlier read still applies
	// to what is stored now.
	if got, ok, err := f.store.UpdateSignInThrottle(ctx, "x@example.no", "203.0.113.9", fail); err != nil || !ok || got.Failures != 1 || !got.Known(now) {
		t.Fatalf("after set: %+v %v %v", got, ok, err)
	}
}

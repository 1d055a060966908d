package ddb_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

func (l *links) SendReminder(_ context.Context, inv invite.Invitation, link string) error {
	if l.delay > 0 {
		time.Sleep(l.delay)
	}
	if l.fail.Load() {
		return fault.New(fault.Unavailable, "mail down")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reminders[inv.Email] = append(l.reminders[inv.Email], link)
	return nil
}

func (l *links) SendExpiredDigest(_ context.Context, n invite.ExpiredNotice) error {
	if l.fail.Load() || l.failDigst.Load() {
		return fault.New(fault.Unavailable, "mail down")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.digests = append(l.digests, n)
	return nil
}

func (l *links) reminderToken(t *testing.T, to string) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := l.reminders[to]
	if len(ls) == 0 {
		t.Fatalf("no reminder mailed to %s", to)
	}
	_, tok, _ := strings.Cut(ls[len(ls)-1], "#token=")
	return tok
}

func (f fixture) sweeper() *invite.Sweeper {
	return &invite.Sweeper{Store: f.store, Mailer: f.mail, AcceptURL: f.svc.AcceptURL, AppURL: "http://localhost",
		Now: f.clock.Now, Workers: 4}
}

func (f fixture) sweep(t *testing.T) invite.SweepReport {
	t.Helper()
	r, err := f.sweeper().Run(context.Background())
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return r
}

func (f fixture) invite(t *testing.T, orgID, actorID, email string) invite.Invitation {
	t.Helper()
	inv, err := f.svc.Invite(context.Background(), actorID, orgID, invite.Request{Email: email, FirstName: "Kari", Role: "member"})
	if err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	return inv
}

func (f fixture) get(t *testing.T, orgID, id string) invite.Invitation {
	t.Helper()
	inv, err := f.store.Invitation(context.Background(), orgID, id)
	if err != nil {
		t.Fatalf("read invitation %s: %v", id, err)
	}
	return inv
}

// nothingDone fails unless a sweep report shows no effect.
func nothingDone(t *testing.T, r invite.SweepReport) {
	t.Helper()
	if r.Expired+r.Reminded+r.Retried+r.SendFailures+r.GaveUp+r.Digests+r.DigestFailures+r.Errors != 0 {
		t.Fatalf("a second run changed something: %+v", r)
	}
}

const day = 24 * time.Hour

func TestSweepExpiresAndSendsOneDigest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	var due []invite.Invitation
	for _, e := range []string{"a@example.no", "b@example.no", "c@example.no"} {
		due = append(due, f.invite(t, orgID, adminID, e))
	}
	tokenA := f.mail.token(t, "a@example.no")
	f.clock.Add(10 * day)
	later := f.invite(t, orgID, adminID, "d@example.no")
	f.clock.Add(20*day + time.Minute) // 30 days and a minute after the first three

	r := f.sweep(t)
	if r.Expired != 3 || r.Digests != 1 || r.Reminded != 0 || r.Errors != 0 {
		t.Fatalf("report %+v", r)
	}
	for _, inv := range due {
		got := f.get(t, orgID, inv.ID)
		if got.Status != invite.Expired || got.ExpiredAt == nil {
			t.Fatalf("%s: %+v", inv.Email, got)
		}
	}
	if got := f.get(t, orgID, later.ID); got.Status != invite.Pending {
		t.Fatalf("the later invitation was touched: %+v", got)
	}
	// One digest, to the inviting admin, listing the three.
	if len(f.mail.digests) != 1 || f.mail.digests[0].To != "ada@example.no" || f.mail.digests[0].Total != 3 ||
		len(f.mail.digests[0].Invitations) != 3 {
		t.Fatalf("digests %+v", f.mail.digests)
	}
	// The token is dead, the email free for a new invitation.
	if _, err := f.svc.Preview(ctx, tokenA); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("expired token still opens: %v", err)
	}
	f.invite(t, orgID, adminID, "a@example.no")
	// Recorded in the audit trail as the system's doing, and kept by TTL.
	entries, _, err := f.store.AuditTrail(ctx, orgID, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	expired := 0
	for _, e := range entries {
		if e.Action == audit.InvitationExpired && e.ActorID == audit.System {
			expired++
		}
	}
	if expired != 3 {
		t.Fatalf("%d expiry audit entries", expired)
	}
	raw, err := testenv.DynamoDBClient().GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.table,
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + orgID},
			"SK": &types.AttributeValueMemberS{Value: "INVITE#" + due[0].ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Item["ttl"]; !ok {
		t.Fatal("an expired invitation has no TTL")
	}
	if _, ok := raw.Item["DuePK"]; ok {
		t.Fatal("an expired invitation is still in the due index")
	}

	nothingDone(t, f.sweep(t))
	if len(f.mail.digests) != 1 {
		t.Fatalf("digest sent again: %d", len(f.mail.digests))
	}
}

func TestSweepRemindsOncePerWindow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	inv := f.invite(t, orgID, adminID, "kari@example.no")
	if inv.RemindAt == nil || !inv.RemindAt.Equal(inv.ExpiresAt.Add(-3*day)) {
		t.Fatalf("remindAt %v (expires %v)", inv.RemindAt, inv.ExpiresAt)
	}
	first := f.mail.token(t, "kari@example.no")

	f.clock.Add(27*day - time.Minute)
	nothingDone(t, f.sweep(t))
	f.clock.Add(2 * time.Minute)
	if r := f.sweep(t); r.Reminded != 1 {
		t.Fatalf("report %+v", r)
	}
	reminder := f.mail.reminderToken(t, "kari@example.no")
	// Both links open the invitation.
	for _, tok := range []string{first, reminder} {
		if _, err := f.svc.Preview(ctx, tok); err != nil {
			t.Fatalf("preview: %v", err)
		}
	}
	nothingDone(t, f.sweep(t))

	// A resend restarts the window: the next reminder is due 27 days on.
	if _, err := f.svc.Resend(ctx, adminID, orgID, inv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Preview(ctx, reminder); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("the old reminder link survived the resend: %v", err)
	}
	f.clock.Add(26 * day)
	nothingDone(t, f.sweep(t))
	f.clock.Add(day + time.Minute)
	if r := f.sweep(t); r.Reminded != 1 {
		t.Fatalf("second window: %+v", r)
	}
	if n := len(f.mail.reminders["kari@example.no"]); n != 2 {
		t.Fatalf("%d reminders", n)
	}

	// The reminder's link accepts; afterwards neither link opens anything.
	if _, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.reminderToken(t, "kari@example.no"), FirstName: "Kari", LastName: "N",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "2026-01"}); err != nil {
		t.Fatalf("accept with the reminder's link: %v", err)
	}
	if _, err := f.svc.Preview(ctx, f.mail.token(t, "kari@example.no")); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("the invitation's link survived acceptance: %v", err)
	}
	nothingDone(t, f.sweep(t))
}

func TestAcceptRacesExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	expiry := func(at time.Time) invite.Expiry {
		return invite.Expiry{At: at, KeepUntil: at.Add(90 * day),
			Audit: audit.New(orgID, audit.System, audit.InvitationExpired, "invitation", "x", at)}
	}

	// The sweep read the invitation; the invitee accepts in the last second;
	// then the sweep tries to expire what it read: the accept stands.
	inv := f.invite(t, orgID, adminID, "kari@example.no")
	f.clock.Add(30*day - time.Second)
	seen := f.get(t, orgID, inv.ID)
	if _, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, "kari@example.no"), FirstName: "Kari", LastName: "N",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "2026-01"}); err != nil {
		t.Fatalf("accept before expiry: %v", err)
	}
	f.clock.Add(2 * time.Second)
	if err := f.store.Expire(ctx, seen, expiry(f.clock.Now())); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("expire after accept: %v", err)
	}
	if got := f.get(t, orgID, inv.ID); got.Status != invite.Accepted {
		t.Fatalf("status %s", got.Status)
	}

	// Revoke and resend win over a sweep holding an older read, too.
	for _, change := range []string{"revoke", "resend"} {
		inv := f.invite(t, orgID, adminID, change+"@example.no")
		f.clock.Add(30*day + time.Second)
		seen := f.get(t, orgID, inv.ID)
		f.clock.Add(-2 * time.Second) // the admin acts just before expiry
		var err error
		if change == "revoke" {
			_, err = f.svc.Remove(ctx, adminID, orgID, inv.ID)
		} else {
			_, err = f.svc.Resend(ctx, adminID, orgID, inv.ID)
		}
		if err != nil {
			t.Fatalf("%s: %v", change, err)
		}
		f.clock.Add(2 * time.Second)
		if err := f.store.Expire(ctx, seen, expiry(f.clock.Now())); fault.CodeOf(err) != fault.Conflict {
			t.Fatalf("expire after %s: %v", change, err)
		}
	}

	// Expiry first: the link no longer opens anything.
	late := f.invite(t, orgID, adminID, "late@example.no")
	f.clock.Add(30*day + time.Second)
	if r := f.sweep(t); r.Expired != 2 { // late, and the resent one whose new window ended just before
		t.Fatalf("report %+v", r)
	}
	if got := f.get(t, orgID, late.ID); got.Status != invite.Expired {
		t.Fatalf("status %s", got.Status)
	}
	_, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, "late@example.no"), FirstName: "L", LastName: "L",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "2026-01"})
	if fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("accept after expiry: %v", err)
	}
}

func TestSweepRetriesFailedEmailWithBackoff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	f.mail.fail.Store(true)
	inv := f.invite(t, orgID, adminID, "kari@example.no")
	if inv.DeliveryStatus != invite.DeliveryFailed || inv.NextDeliveryAt == nil {
		t.Fatalf("%+v", inv)
	}
	f.clock.Add(4 * time.Minute)
	nothingDone(t, f.sweep(t)) // not due yet
	f.clock.Add(time.Minute)
	if r := f.sweep(t); r.SendFailures != 1 {
		t.Fatalf("report %+v", r)
	}
	got := f.get(t, orgID, inv.ID)
	if got.DeliveryAttempts != 2 || got.NextDeliveryAt == nil || !got.NextDeliveryAt.Equal(f.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("after the second try: attempts %d next %v", got.DeliveryAttempts, got.NextDeliveryAt)
	}
	f.mail.fail.Store(false)
	f.clock.Add(15 * time.Minute)
	if r := f.sweep(t); r.Retried != 1 {
		t.Fatalf("report %+v", r)
	}
	got = f.get(t, orgID, inv.ID)
	if got.DeliveryStatus != invite.DeliverySent || got.DeliveryAttempts != 0 || got.NextDeliveryAt != nil {
		t.Fatalf("after recovery: %+v", got)
	}
	// The email that went out carries a working link.
	if _, err := f.svc.Preview(ctx, f.mail.token(t, "kari@example.no")); err != nil {
		t.Fatalf("the retried link: %v", err)
	}
	nothingDone(t, f.sweep(t))

	// Tries are bounded: after the fifth the invitation shows failed for good.
	f.mail.fail.Store(true)
	stuck := f.invite(t, orgID, adminID, "stuck@example.no")
	gaveUp := 0
	for range 10 {
		f.clock.Add(3 * time.Hour)
		gaveUp += f.sweep(t).GaveUp
	}
	got = f.get(t, orgID, stuck.ID)
	if gaveUp != 1 || got.DeliveryStatus != invite.DeliveryFailed || got.NextDeliveryAt != nil ||
		got.DeliveryAttempts != invite.MaxDeliveryAttempts || got.Status != invite.Pending {
		t.Fatalf("gave up %d: %+v", gaveUp, got)
	}
}

func TestDigestThatFailsIsSentLater(t *testing.T) {
	f := newFixture(t)
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	f.invite(t, orgID, adminID, "a@example.no")
	f.invite(t, orgID, adminID, "b@example.no")
	f.mail.failDigst.Store(true)
	f.clock.Add(30*day + time.Minute)
	if r := f.sweep(t); r.Expired != 2 || r.DigestFailures != 1 {
		t.Fatalf("report %+v", r)
	}
	f.mail.failDigst.Store(false)
	f.clock.Add(4 * time.Minute)
	nothingDone(t, f.sweep(t)) // the digest waits for its backoff
	f.clock.Add(2 * time.Minute)
	if r := f.sweep(t); r.Digests != 1 {
		t.Fatalf("report %+v", r)
	}
	if len(f.mail.digests) != 1 || f.mail.digests[0].Total != 2 {
		t.Fatalf("digests %+v", f.mail.digests)
	}
	nothingDone(t, f.sweep(t))
}

// seedDue loads n pending invitations into orgID, invited by adminID, whose
// reminders are due now (they expire in two days).
func seedDue(t *testing.T, f fixture, orgID, adminID, prefix string, n int, reminderDue bool) []invite.Invitation {
	t.Helper()
	now := f.clock.Now()
	var invs []invite.Invitation
	for i := range n {
		_, hash, _ := opaque.New()
		exp := now.Add(2 * day)
		remind := now.Add(-time.Hour)
		if !reminderDue {
			exp = now.Add(-time.Duration(i%4)*day - time.Hour)
			remind = exp.Add(-3 * day)
		}
		invs = append(invs, invite.Invitation{
			ID: invite.NewSortableID(now), OrgID: orgID, OrgName: "Nordlys Care", Email: fmt.Sprintf("%s%04d@example.no", prefix, i),
			FirstName: "P", Language: "nb", Role: "member", Units: []string{}, Attributes: org.Attributes{},
			Status: invite.Pending, DeliveryStatus: invite.DeliverySent, InvitedBy: adminID, InviterName: "Ada Admin",
			CreatedAt: now.Add(-27 * day), ExpiresAt: exp, RemindAt: &remind, TokenHash: hash,
		})
	}
	if err := f.store.LoadInvitations(context.Background(), testenv.DynamoDBClient(), invs, true); err != nil {
		t.Fatal(err)
	}
	return invs
}

func TestSweepStopsBeforeDeadlineAndCarriesOn(t *testing.T) {
	f := newFixture(t)
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	nothingDone(t, f.sweep(t)) // the first run ever looks back over the longest lifetime
	seedDue(t, f, orgID, adminID, "r", 60, true)
	f.mail.delay = 50 * time.Millisecond // 60 reminders on 2 workers: at least 1.5 s

	w := f.sweeper()
	w.Workers, w.Reserve = 2, 400*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	first, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !first.More || first.Reminded == 0 || first.Reminded >= 60 {
		t.Fatalf("first run should stop part way: %+v", first)
	}
	second := f.sweep(t)
	if second.More || first.Reminded+second.Reminded != 60 {
		t.Fatalf("runs: %+v then %+v", first, second)
	}
	for i := range 60 {
		if n := len(f.mail.reminders[fmt.Sprintf("r%04d@example.no", i)]); n != 1 {
			t.Fatalf("r%04d got %d reminders", i, n)
		}
	}
}

// countStatus counts an organisation's invitations with a stored status.
func countStatus(t *testing.T, table, orgID string, s invite.Status) int {
	t.Helper()
	client := testenv.DynamoDBClient()
	n := 0
	var start map[string]types.AttributeValue
	for {
		res, err := client.Query(context.Background(), &dynamodb.QueryInput{
			TableName: &table, IndexName: aws.String("GSI1"), Select: types.SelectCount, ExclusiveStartKey: start,
			KeyConditionExpression:    aws.String("GSI1PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "ORG#" + orgID + "#INVITES#" + string(s)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		n += int(res.Count)
		if start = res.LastEvaluatedKey; start == nil {
			return n
		}
	}
}

// budget is a pacer that lets n emails go.
type budget struct{ n atomic.Int64 }

func (b *budget) Wait(context.Context) error {
	if b.n.Add(-1) < 0 {
		return invite.ErrNoSendBudget
	}
	return nil
}

// An import's invitations are queued; the sweep sends them within the
// mail service's budget and leaves the rest due for the next run.
func TestSweepSendsQueuedEmailWithinTheBudget(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	for _, e := range []string{"a@example.no", "b@example.no", "c@example.no"} {
		inv, err := f.svc.InviteFromRoster(ctx, adminID, orgID, invite.Request{Email: e, Role: "reporter"}, nil)
		if err != nil || inv.DeliveryStatus != invite.DeliveryQueued {
			t.Fatalf("%+v %v", inv, err)
		}
	}
	if len(f.mail.byTo["a@example.no"]) != 0 {
		t.Fatal("a roster invitation was sent at once")
	}
	w := f.sweeper()
	w.Workers = 1
	b := &budget{}
	b.n.Store(2)
	w.Pacer = b
	if r, err := w.Run(ctx); err != nil || r.Sent != 2 || r.Deferred != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	b.n.Store(5)
	if r, err := w.Run(ctx); err != nil || r.Sent != 1 || r.Deferred != 0 {
		t.Fatalf("%+v %v", r, err)
	}
	for _, e := range []string{"a@example.no", "b@example.no", "c@example.no"} {
		tok := f.mail.token(t, e)
		if _, err := f.svc.Preview(ctx, tok); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
	}
	nothingDone(t, f.sweep(t))
}

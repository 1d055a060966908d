package ddb_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"onboarding/shared/audit"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/org"
)

// hanging sends as links does, except the email named by kind: that send
// never returns, as when a run is stopped mid-send by its timeout (the run
// is left blocked for good; a Lambda would have been killed).
type hanging struct {
	*links
	kind    string
	started chan struct{}
	sends   atomic.Int32
}

func (h *hanging) hang(kind string) bool {
	if kind != h.kind {
		return false
	}
	h.sends.Add(1)
	h.started <- struct{}{}
	select {}
}

func (h *hanging) SendInvitation(ctx context.Context, inv invite.Invitation, link string) error {
	if h.hang(invite.MailInvitation) {
		return nil
	}
	return h.links.SendInvitation(ctx, inv, link)
}

func (h *hanging) SendReminder(ctx context.Context, inv invite.Invitation, link string) error {
	if h.hang(invite.MailReminder) {
		return nil
	}
	return h.links.SendReminder(ctx, inv, link)
}

func (h *hanging) SendAdded(ctx context.Context, inv invite.Invitation, lang, link, leaveLink string) error {
	if h.hang(invite.MailAdded) {
		return nil
	}
	return h.links.SendAdded(ctx, inv, lang, link, leaveLink)
}

func (h *hanging) SendExpiredDigest(ctx context.Context, n invite.ExpiredNotice) error {
	if h.hang("digest") {
		return nil
	}
	return h.links.SendExpiredDigest(ctx, n)
}

// sweepOrHang runs a sweep with mailer and reports whether it got stuck in
// a send (then it is left there) or finished, with its report.
func sweepOrHang(t *testing.T, f fixture, h *hanging) (stuck bool, r invite.SweepReport) {
	t.Helper()
	w := f.sweeper()
	w.Mailer = h
	done := make(chan invite.SweepReport, 1)
	go func() {
		r, err := w.Run(context.Background())
		if err != nil {
			t.Errorf("sweep: %v", err)
		}
		done <- r
	}()
	select {
	case <-h.started:
		return true, r
	case r = <-done:
		return false, r
	case <-time.After(20 * time.Second):
		t.Fatal("a sweep neither sent nor finished in 20 s")
		return false, r
	}
}

// Every email a sweep claims is tried at most MaxDeliveryAttempts times,
// even when no try ever comes back to record a failure: the run that claims
// it after that marks it failed instead of sending, and no run claims it
// again.
func TestClaimedMailThatNeverReturnsIsTriedAtMostFiveTimes(t *testing.T) {
	for _, kind := range []string{invite.MailInvitation, invite.MailReminder, invite.MailAdded, "digest"} {
		t.Run(kind, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
			var id string
			switch kind {
			case invite.MailInvitation: // an import's invitation, queued for the sweep
				inv, err := f.svc.InviteFromRoster(ctx, adminID, orgID, invite.Request{Email: "kari@example.no", Role: "reporter"}, nil)
				if err != nil {
					t.Fatal(err)
				}
				id = inv.ID
			case invite.MailReminder:
				id = seedDue(t, f, orgID, adminID, "r", 1, true)[0].ID
			case invite.MailAdded: // someone with an account, added by an import
				f.provisionAndJoin(t, "bo@example.no")
				inv, err := f.svc.InviteFromRoster(ctx, adminID, orgID, invite.Request{Email: "bo@example.no", Role: "reporter"}, nil)
				if err != nil || inv.Status != invite.Accepted {
					t.Fatalf("%+v %v", inv, err)
				}
				id = inv.ID
			case "digest":
				f.invite(t, orgID, adminID, "kari@example.no")
				f.clock.Add(30*day + time.Minute)
			}
			h := &hanging{links: f.mail, kind: kind, started: make(chan struct{}, 1)}
			var last invite.SweepReport
			for range invite.MaxDeliveryAttempts + 3 {
				stuck, r := sweepOrHang(t, f, h)
				if !stuck {
					last = r
					break
				}
				f.clock.Add(11 * time.Minute) // past the stuck run's lease
			}
			if n := h.sends.Load(); n != invite.MaxDeliveryAttempts {
				t.Fatalf("tried %d times, want %d", n, invite.MaxDeliveryAttempts)
			}
			if kind != "digest" {
				if last.GaveUp != 1 {
					t.Fatalf("the run after the last try: %+v", last)
				}
				got := f.get(t, orgID, id)
				if got.DeliveryStatus != invite.DeliveryFailed || got.NextDeliveryAt != nil || got.DeliveryAttempts != invite.MaxDeliveryAttempts {
					t.Fatalf("not marked failed: %+v", got)
				}
			}
			// Never claimed again.
			f.clock.Add(day)
			if stuck, r := sweepOrHang(t, f, h); stuck || r.GaveUp+r.Retried+r.SendFailures+r.Digests+r.DigestFailures+r.Errors != 0 {
				t.Fatalf("a later run took it up again (stuck %v): %+v", stuck, r)
			}
		})
	}
}

// An organisation's template written straight into the table with an
// action in it (never validated) does not hang the sweep: its digest fails
// at rendering, is retried as any failed email, and is given up.
func TestStoredTemplateWithActionFailsTheDigestWithoutHanging(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	o, _, err := f.store.Actor(ctx, orgID, adminID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mail.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	st := o.Settings
	st.EmailTemplates = org.EmailTemplates{"expired": {}}
	for _, lang := range c.Languages() {
		st.EmailTemplates["expired"][lang] = org.EmailTemplate{Subject: "Expired", Body: "{{range 100000000000}}.{{end}}"}
	}
	now := f.clock.Now()
	if err := f.store.UpdateSettings(ctx, orgID, st, audit.New(orgID, adminID, audit.SettingsUpdated, "settings", orgID, now)); err != nil {
		t.Fatal(err)
	}
	f.invite(t, orgID, adminID, "kari@example.no")
	f.clock.Add(30*day + time.Minute)

	var sent atomic.Int32
	w := f.sweeper()
	w.Mailer = mail.InvitationMailer{Catalogue: c, Sender: senderFunc(func(context.Context, mail.Message) error { sent.Add(1); return nil })}
	run := func() invite.SweepReport {
		t.Helper()
		done := make(chan invite.SweepReport, 1)
		go func() {
			r, err := w.Run(ctx)
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
			done <- r
		}()
		select {
		case r := <-done:
			return r
		case <-time.After(20 * time.Second):
			t.Fatal("the sweep hung on the organisation's template")
			return invite.SweepReport{}
		}
	}
	r := run()
	if r.Expired != 1 || r.DigestFailures != 1 {
		t.Fatalf("first run %+v", r)
	}
	failures := r.DigestFailures
	for range 10 {
		f.clock.Add(3 * time.Hour)
		failures += run().DigestFailures
	}
	if failures != invite.MaxDeliveryAttempts || sent.Load() != 0 {
		t.Fatalf("digest failed %d times (want %d), %d sent", failures, invite.MaxDeliveryAttempts, sent.Load())
	}
	f.clock.Add(day)
	nothingDone(t, run())
}

type senderFunc func(context.Context, mail.Message) error

func (s senderFunc) Send(ctx context.Context, m mail.Message) error { return s(ctx, m) }

package invite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// SweepStore is what a sweep needs of storage. Every change is conditional
// on the state the sweep read, so a concurrent accept, resend or revoke wins
// cleanly (Conflict) and nothing is done twice.
type SweepStore interface {
	// SweepCheckpoint is the first day whose due bucket may hold anything
	// (zero when no sweep has run yet).
	SweepCheckpoint(ctx context.Context) (time.Time, error)
	SaveSweepCheckpoint(ctx context.Context, day time.Time) error
	// Due returns a page of what became due on day up to now.
	Due(ctx context.Context, day, now time.Time, cursor string) (DuePage, error)
	// Expire marks a pending invitation expired as x says: it must still be
	// pending, under the same tokens and due at the same time as seen.
	Expire(ctx context.Context, seen Invitation, x Expiry) error
	// ClaimMail stores claimed (new tokens, attempts, the lease) in place of
	// seen before an email goes out, or its delivery state when the email
	// is given up, on the same conditions as Expire.
	ClaimMail(ctx context.Context, seen, claimed Invitation) error
	RecordDelivery(ctx context.Context, inv Invitation) error
	// ClaimDigest takes a digest left by an earlier run until until, if it
	// is still due as seen, counts the try in its attempts, and returns it
	// with its entries.
	ClaimDigest(ctx context.Context, seen Digest, until time.Time) (Digest, error)
	// DigestSent deletes a digest and its entries; DigestFailed stores its
	// attempts and the time of the next try.
	DigestSent(ctx context.Context, d Digest) error
	DigestFailed(ctx context.Context, d Digest) error
	Actor(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error)
	Account(ctx context.Context, userID string) (*account.Account, error)
}

// SweepMailer sends what a sweep sends.
type SweepMailer interface {
	Mailer
	SendReminder(ctx context.Context, inv Invitation, link string) error
	SendExpiredDigest(ctx context.Context, n ExpiredNotice) error
}

// ExpiredNotice tells an admin which of their invitations expired.
type ExpiredNotice struct {
	To, Language, AdminName string
	Org                     org.Organisation
	// Invitations lists up to MaxDigestEntries of the Total that expired.
	Invitations []Invitation
	Total       int
	Link        string
}

// DuePage is one page of the due index.
type DuePage struct {
	Invitations []Invitation
	Digests     []Digest
	Next        string // "" on the last page
}

// Digest is one admin's list of invitations that expired in one run, kept
// (and due) until it is emailed. A run writes one per admin and worker, so
// its workers never contend for an item; it emails them as one.
type Digest struct {
	OrgID   string `dynamodbav:"orgId"`
	AdminID string `dynamodbav:"adminId"`
	ID      string `dynamodbav:"digestId"`
	// Entries are stored as items of their own, one per invitation, so that
	// adding one costs one small write whatever the digest's size.
	Entries []DigestEntry `dynamodbav:"-"`
	Total   int           `dynamodbav:"total"`
	// Attempts counts the tries begun: the run that writes a digest counts
	// its own, and each claim by a later run one more. A try that never
	// came back (the run stopped mid-send) is counted all the same.
	Attempts int       `dynamodbav:"attempts"`
	DueAt    time.Time `dynamodbav:"dueAt"`
}

// DigestEntry is one expired invitation as a digest lists it.
type DigestEntry struct {
	InvitationID string `dynamodbav:"invitationId"`
	Email        string `dynamodbav:"email"`
	FirstName    string `dynamodbav:"firstName,omitempty"`
	LastName     string `dynamodbav:"lastName,omitempty"`
	Role         string `dynamodbav:"role"`
}

// MaxDigestEntries bounds the invitations one digest email lists by name;
// it counts the rest.
const MaxDigestEntries = 500

// Expiry is the change that expires an invitation.
type Expiry struct {
	At, KeepUntil time.Time
	Audit         audit.Entry
	// Digest, when set, is the digest the invitation is added to as Entry.
	Digest *Digest
	Entry  DigestEntry
}

// SweepReport says what one run did.
type SweepReport struct {
	Expired  int `json:"expired"`
	Reminded int `json:"reminded"`
	// Sent counts first sends of queued email (an import's invitations).
	Sent int `json:"sent"`
	// Deferred counts emails left due because the mail service's rate or
	// daily quota allowed no more in this run.
	Deferred       int    `json:"deferred"`
	Retried        int    `json:"retried"`
	SendFailures   int    `json:"sendFailures"`
	GaveUp         int    `json:"gaveUp"`
	Digests        int    `json:"digests"`
	DigestFailures int    `json:"digestFailures"`
	Skipped        int    `json:"skipped"`
	Errors         int    `json:"errors"`
	From           string `json:"from"`
	Days           int    `json:"days"`
	// More is set when the run stopped for its deadline; the next one
	// carries on where it stopped.
	More bool `json:"more"`
}

// Sweeper does the scheduled work on invitations: it expires what is past
// its expiry, reminds invitees, retries failed emails and tells inviting
// admins what expired.
type Sweeper struct {
	Store     SweepStore
	Mailer    SweepMailer
	AcceptURL string // the acceptance page; tokens go in its fragment
	AppURL    string // where admins manage invitations (the digest's link)
	// RetentionDays is how long expired invitations are kept (default 90).
	RetentionDays int
	// Workers is how many invitations are handled at once (default 8).
	Workers int
	// Reserve is the time kept back from the deadline for the digests
	// (default a tenth of the time the run has, at least 2 s).
	Reserve time.Duration
	// Lease is how long an email being sent is held for this run: if the
	// run dies, the next run after it tries again (default 10 min).
	Lease time.Duration
	// Pacer keeps the run's email within the mail service's rate and daily
	// quota (nil: unpaced).
	Pacer Pacer
	Now   func() time.Time
	Log   *slog.Logger
}

func (w *Sweeper) now() time.Time { return w.Now().UTC().Truncate(time.Second) }

func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// Run sweeps every due bucket from the checkpoint up to today. It stops
// taking work when the context's deadline comes within the reserve, emails
// the digests of what it expired, and moves the checkpoint past the days it
// emptied.
func (w *Sweeper) Run(ctx context.Context) (SweepReport, error) {
	start := w.now()
	r := &sweepRun{w: w, start: start, id: NewSortableID(start), stopAt: stopAt(ctx, start, w.Reserve)}
	from, err := w.Store.SweepCheckpoint(ctx)
	if err != nil {
		return SweepReport{}, err
	}
	today := day(start)
	if from.IsZero() {
		// Never swept: nothing can be due from before the longest lifetime.
		from = today.AddDate(0, 0, -org.MaxLifetimeDays-1)
	}
	r.report.From = from.Format(time.DateOnly)
	// A day is left behind for good only when it is over by an hour, so an
	// item written at its very end by a slow clock is still found.
	settled := day(start.Add(-time.Hour))
	next, advancing := from, true
	for d := from; !d.After(today); d = d.AddDate(0, 0, 1) {
		r.report.Days++
		clean, err := r.sweepDay(ctx, d)
		if err != nil {
			return r.report, err
		}
		if r.more {
			break
		}
		if advancing && clean && d.Before(settled) {
			next = d.AddDate(0, 0, 1)
		} else {
			advancing = false
		}
	}
	r.report.More = r.more
	r.flushDigests(ctx)
	if next.After(from) {
		if err := w.Store.SaveSweepCheckpoint(ctx, next); err != nil {
			return r.report, err
		}
	}
	return r.report, nil
}

// stopAt is when a run stops taking work: the deadline less the reserve.
func stopAt(ctx context.Context, start time.Time, reserve time.Duration) time.Time {
	deadline, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	if reserve <= 0 {
		reserve = max(time.Until(deadline)/10, 2*time.Second)
	}
	return deadline.Add(-reserve)
}

// sweepRun is the state of one run.
type sweepRun struct {
	w      *Sweeper
	start  time.Time
	id     string
	stopAt time.Time // zero: no deadline
	more   bool      // stopped for the deadline (set by the dispatching goroutine only)

	mu       sync.Mutex
	report   SweepReport
	shards   []map[string]*Digest // per worker: admin key -> this run's digest
	leftover []Digest             // digests of earlier runs, found due
}

func (r *sweepRun) count(f func(*SweepReport)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.report)
}

func (r *sweepRun) outOfTime() bool {
	return !r.stopAt.IsZero() && !time.Now().Before(r.stopAt)
}

func (r *sweepRun) workers() int {
	if r.w.Workers > 0 {
		return r.w.Workers
	}
	return 8
}

// sweepDay handles everything due on day, page by page. clean is set when
// every item was dealt with, so the bucket is empty now.
func (r *sweepRun) sweepDay(ctx context.Context, d time.Time) (clean bool, err error) {
	clean = true
	cursor := ""
	for {
		if r.outOfTime() {
			r.more = true
			return false, nil
		}
		page, err := r.w.Store.Due(ctx, d, r.start, cursor)
		if err != nil {
			return false, fmt.Errorf("read what is due on %s: %w", d.Format(time.DateOnly), err)
		}
		r.leftover = append(r.leftover, page.Digests...)
		if len(page.Digests) > 0 {
			clean = false // they leave when flushed
		}
		if !r.handle(ctx, page.Invitations) {
			clean = false
		}
		if r.more {
			return false, nil
		}
		if page.Next == "" {
			return clean, nil
		}
		cursor = page.Next
	}
}

// handle deals with invitations on the workers; it reports whether every one
// was dealt with.
func (r *sweepRun) handle(ctx context.Context, invs []Invitation) bool {
	n := r.workers()
	for len(r.shards) < n {
		r.shards = append(r.shards, map[string]*Digest{})
	}
	work := make(chan Invitation)
	var wg sync.WaitGroup
	var mu sync.Mutex
	all := true
	for i := range n {
		wg.Add(1)
		go func(shard map[string]*Digest) {
			defer wg.Done()
			for inv := range work {
				if !r.one(ctx, inv, shard) {
					mu.Lock()
					all = false
					mu.Unlock()
				}
			}
		}(r.shards[i])
	}
	for _, inv := range invs {
		if r.outOfTime() {
			r.more = true
			mu.Lock()
			all = false
			mu.Unlock()
			break
		}
		work <- inv
	}
	close(work)
	wg.Wait()
	return all
}

// one does what is due for inv and reports whether it is done with.
func (r *sweepRun) one(ctx context.Context, inv Invitation, shard map[string]*Digest) bool {
	now := r.w.now()
	var err error
	switch {
	case inv.StatusAt(now) == Expired:
		err = r.expire(ctx, inv, now, shard)
	case inv.NextDeliveryAt != nil && !now.Before(*inv.NextDeliveryAt):
		err = r.mail(ctx, inv, inv.RetryMail, now)
	case inv.Status == Pending && inv.RemindedAt == nil && inv.RemindAt != nil && !now.Before(*inv.RemindAt):
		err = r.mail(ctx, inv, MailReminder, now)
	default:
		err = fault.New(fault.Conflict, "not due (the index was behind)")
	}
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNoSendBudget):
		r.count(func(s *SweepReport) { s.Deferred++ })
	case fault.CodeOf(err) == fault.Conflict:
		// The invitation changed since it was read: its new state stands,
		// and wherever it is due now, a run will find it there.
		r.count(func(s *SweepReport) { s.Skipped++ })
	default:
		r.count(func(s *SweepReport) { s.Errors++ })
		r.w.log().Error("sweep invitation", "orgId", inv.OrgID, "invitationId", inv.ID, "error", err)
	}
	return false
}

func (w *Sweeper) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// expire marks inv expired and adds it to its inviter's digest.
func (r *sweepRun) expire(ctx context.Context, inv Invitation, now time.Time, shard map[string]*Digest) error {
	x := Expiry{
		At: now, KeepUntil: now.Add(Retention(r.w.RetentionDays)),
		Audit: audit.New(inv.OrgID, audit.System, audit.InvitationExpired, "invitation", inv.ID, now).
			Changed(map[string]any{"status": Pending}, map[string]any{"status": Expired, "email": inv.Email}),
	}
	if inv.InvitedBy != "" && inv.InvitedBy != audit.System {
		k := inv.OrgID + "/" + inv.InvitedBy
		d := shard[k]
		if d == nil {
			// This run tries it at its end: that is the first attempt.
			d = &Digest{OrgID: inv.OrgID, AdminID: inv.InvitedBy, ID: r.id + "-" + NewID()[:8],
				DueAt: r.start.Add(r.w.lease()), Attempts: 1}
			shard[k] = d
		}
		x.Digest = d
		x.Entry = DigestEntry{InvitationID: inv.ID, Email: inv.Email, FirstName: inv.FirstName, LastName: inv.LastName, Role: inv.Role}
	}
	if err := r.w.Store.Expire(ctx, inv, x); err != nil {
		return err
	}
	if d := x.Digest; d != nil {
		d.Total++
		d.Entries = append(d.Entries, x.Entry)
	}
	r.count(func(s *SweepReport) { s.Expired++ })
	return nil
}

func (w *Sweeper) lease() time.Duration {
	if w.Lease > 0 {
		return w.Lease
	}
	return 10 * time.Minute
}

// mail sends (or sends again) one email about inv. It first claims the send:
// new tokens where the email carries a link, one more attempt, and a lease
// that brings the invitation back to a later run should this one die. Only
// then does the email go out, so two runs never both send it.
func (r *sweepRun) mail(ctx context.Context, inv Invitation, kind string, now time.Time) error {
	claimed := inv
	claimed.RetryMail = kind
	if inv.NextDeliveryAt == nil || inv.RetryMail != kind {
		claimed.DeliveryAttempts = 0 // a new email starts its own count
	}
	if claimed.DeliveryAttempts >= MaxDeliveryAttempts {
		// Every try is claimed, and the last never came back to record how
		// it went (its run stopped mid-send: a timeout, a crash). Without
		// this the lease would bring it back every ten minutes for ever.
		return r.giveUp(ctx, inv, claimed)
	}
	claimed.DeliveryAttempts++
	lease := now.Add(r.w.lease())
	claimed.NextDeliveryAt = &lease
	var token string
	var err error
	switch kind {
	case MailInvitation:
		token, claimed.TokenHash, err = opaque.New()
	case MailReminder:
		token, claimed.ReminderTokenHash, err = opaque.New()
		claimed.RemindedAt = &now
	case MailAdded:
		// A new leave link: the one in the email that failed never arrived.
		token, err = claimed.newLeaveToken(now)
	default:
		return fmt.Errorf("invitation %s: unknown email %q to retry", inv.ID, kind)
	}
	if err != nil {
		return err
	}
	if kind != MailAdded && inv.Status != Pending {
		return fault.New(fault.Conflict, "no longer pending")
	}
	if r.w.Pacer != nil {
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if !r.stopAt.IsZero() {
			wctx, cancel = context.WithDeadline(ctx, r.stopAt)
		}
		err := r.w.Pacer.Wait(wctx)
		cancel()
		if err != nil {
			return ErrNoSendBudget // it stays due for a later run
		}
	}
	if err := r.w.Store.ClaimMail(ctx, inv, claimed); err != nil {
		return err
	}
	link := r.w.AcceptURL + "#token=" + token
	switch kind {
	case MailInvitation:
		err = r.w.Mailer.SendInvitation(ctx, claimed, link)
	case MailReminder:
		err = r.w.Mailer.SendReminder(ctx, claimed, link)
	case MailAdded:
		var acct *account.Account
		if acct, err = r.w.Store.Account(ctx, claimed.UserID); err == nil && acct != nil {
			app := strings.TrimSuffix(r.w.AcceptURL, "/accept")
			err = r.w.Mailer.SendAdded(ctx, claimed, acct.Language, app, LeaveLink(app, token))
		} else if err == nil {
			err = fmt.Errorf("account %s is gone", claimed.UserID)
		}
	}
	if err != nil {
		r.w.log().Warn("sweep could not send", "email", kind, "orgId", inv.OrgID, "invitationId", inv.ID,
			"attempt", claimed.DeliveryAttempts, "error", err)
	}
	attempt := claimed.DeliveryAttempts
	claimed.recordSend(kind, err, r.w.now())
	// The email is out: record it even if the run's deadline is upon it,
	// or the lease would send it again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if rerr := r.w.Store.RecordDelivery(rctx, claimed); rerr != nil && fault.CodeOf(rerr) != fault.Conflict {
		// The lease brings it back: the email may go once more, nothing is lost.
		return rerr
	}
	r.count(func(s *SweepReport) {
		switch {
		case err != nil && claimed.NextDeliveryAt == nil:
			s.GaveUp++
		case err != nil:
			s.SendFailures++
		case kind == MailReminder && attempt == 1:
			s.Reminded++
		case attempt == 1:
			s.Sent++
		default:
			s.Retried++
		}
	})
	return nil
}

// giveUp marks the email claimed names failed for good, with no next try:
// the invitation shows deliveryStatus "failed" for an admin to act on, and
// leaves the Due index unless something else is due.
func (r *sweepRun) giveUp(ctx context.Context, seen, claimed Invitation) error {
	claimed.DeliveryStatus, claimed.NextDeliveryAt = DeliveryFailed, nil
	if err := r.w.Store.ClaimMail(ctx, seen, claimed); err != nil {
		return err
	}
	r.w.log().Error("sweep gave up an email whose last try never finished", "email", claimed.RetryMail,
		"orgId", seen.OrgID, "invitationId", seen.ID, "attempts", claimed.DeliveryAttempts)
	r.count(func(s *SweepReport) { s.GaveUp++ })
	return nil
}

// flushDigests emails this run's digests and those earlier runs left: one
// email per admin and organisation, whatever the number of workers and runs
// that wrote the digest.
func (r *sweepRun) flushDigests(ctx context.Context) {
	var order []string
	groups := map[string][]Digest{}
	add := func(d Digest) {
		k := d.OrgID + "/" + d.AdminID
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], d)
	}
	for _, shard := range r.shards {
		for _, d := range shard {
			add(*d)
		}
	}
	for _, seen := range r.leftover {
		if ctx.Err() != nil {
			break
		}
		d, err := r.w.Store.ClaimDigest(ctx, seen, r.w.now().Add(r.w.lease()))
		if fault.CodeOf(err) == fault.Conflict {
			continue // another run has it
		}
		if err != nil {
			r.count(func(s *SweepReport) { s.Errors++ })
			r.w.log().Error("claim digest", "orgId", seen.OrgID, "digestId", seen.ID, "error", err)
			continue
		}
		if d.Attempts > MaxDeliveryAttempts {
			// Its last try never came back (the run stopped mid-send):
			// tried enough, as a digest whose sending failed.
			log := r.w.log().With("orgId", d.OrgID, "adminId", d.AdminID)
			log.Error("digest given up: its last try never finished", "attempts", d.Attempts-1, "expired", d.Total)
			r.deleteDigests(ctx, []Digest{d}, log)
			continue
		}
		add(d)
	}
	for _, k := range order {
		if ctx.Err() != nil {
			return // what is left is due, and found, in a later run
		}
		r.sendDigest(ctx, groups[k])
	}
}

// sendDigest emails one admin the invitations of shards, then deletes them;
// if sending fails they stay, due again after a backoff.
func (r *sweepRun) sendDigest(ctx context.Context, shards []Digest) {
	first := shards[0]
	log := r.w.log().With("orgId", first.OrgID, "adminId", first.AdminID)
	n := ExpiredNotice{Link: r.w.AppURL}
	for _, d := range shards {
		n.Total += max(d.Total, len(d.Entries))
		for _, e := range d.Entries {
			if len(n.Invitations) < MaxDigestEntries {
				n.Invitations = append(n.Invitations, Invitation{ID: e.InvitationID, Email: e.Email,
					FirstName: e.FirstName, LastName: e.LastName, Role: e.Role, Status: Expired})
			}
		}
	}
	o, m, err := r.w.Store.Actor(ctx, first.OrgID, first.AdminID)
	var acct *account.Account
	if err == nil && m != nil {
		acct, err = r.w.Store.Account(ctx, first.AdminID)
	}
	if err == nil && (m == nil || acct == nil) {
		// The inviter has left: the invitations show as expired in the list.
		log.Info("digest dropped: the inviting admin is no longer a member", "expired", n.Total)
		r.deleteDigests(ctx, shards, log)
		return
	}
	if err == nil {
		n.To, n.Language, n.Org = m.Email, acct.Language, o
		n.AdminName = acct.FirstName
		err = r.w.Mailer.SendExpiredDigest(ctx, n)
	}
	if err == nil {
		r.count(func(s *SweepReport) { s.Digests++ })
		r.deleteDigests(ctx, shards, log)
		return
	}
	r.count(func(s *SweepReport) { s.DigestFailures++ })
	for _, d := range shards {
		if d.Attempts >= MaxDeliveryAttempts { // this try, counted when begun, was the last
			log.Error("digest given up", "attempts", d.Attempts, "expired", d.Total, "error", err)
			r.deleteDigests(ctx, []Digest{d}, log)
			continue
		}
		d.DueAt = r.w.now().Add(retryDelay(d.Attempts))
		if ferr := r.w.Store.DigestFailed(ctx, d); ferr != nil {
			log.Error("record failed digest", "digestId", d.ID, "error", ferr)
		}
	}
	log.Warn("digest not sent; tried again later", "error", err)
}

func (r *sweepRun) deleteDigests(ctx context.Context, shards []Digest, log *slog.Logger) {
	for _, d := range shards {
		if err := r.w.Store.DigestSent(ctx, d); err != nil {
			// It would go out again: better than never.
			log.Error("delete sent digest", "digestId", d.ID, "error", err)
		}
	}
}

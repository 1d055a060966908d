package partner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"onboarding/shared/fault"
	"onboarding/shared/webhook"
)

// Change names a person some of whose items changed, as a stream record
// tells it.
type Change struct {
	OrgID  string
	Email  string // "" when the record only names the user (a monitoring profile)
	UserID string
	At     time.Time // when the change was made
}

// Work is what one organisation's changes ask of its partners: the people
// whose items changed, and the partners whose coverage changed (every worker
// is looked at again for them).
type Work struct {
	OrgID    string
	Changes  []Change
	Partners []string
	// First names the organisation's first change (its stream record's
	// sequence number): what Handle reports when the work fails, so the
	// stream retries from it.
	First string
}

// Queue is one channel of one partner: its deliveries go out in order.
type Queue struct {
	OrgID     string `dynamodbav:"orgId"`
	PartnerID string `dynamodbav:"partnerId"`
	Channel   string `dynamodbav:"channel"`
}

// SnapshotKey names a snapshot.
type SnapshotKey struct{ PartnerID, Email string }

// Store is what notifying partners needs of storage.
type Store interface {
	// Partners lists an organisation's partners.
	Partners(ctx context.Context, orgID string) ([]Partner, error)
	// Partner reads one partner, or nil.
	Partner(ctx context.Context, orgID, partnerID string) (*Partner, error)
	// Sources reads the current state of the people changes name (their
	// membership, monitoring profile and pending invitation), one per
	// person, in the order of the changes.
	Sources(ctx context.Context, orgID string, changes []Change) ([]Source, error)
	// Snapshots reads what partners were last told.
	Snapshots(ctx context.Context, orgID string, keys []SnapshotKey) (map[SnapshotKey]Snapshot, error)
	// Record stores deliveries (each in its channel's queue) and the
	// snapshots they bring partners to, all or nothing. A snapshot is
	// written only if it still has the version in prev (absent when not
	// in prev); else Conflict.
	Record(ctx context.Context, ds []Delivery, snaps []Snapshot, prev map[SnapshotKey]int) error
	// LeaseQueue takes a queue for sending until until, unless someone
	// else holds it; it also marks the queue due at until, so a sender that
	// dies is followed by another.
	LeaseQueue(ctx context.Context, q Queue, now, until time.Time) (bool, error)
	// ReleaseQueue gives a queue up, due at the given time or (nil) not
	// due. With ifEmpty it only succeeds while the queue holds no delivery
	// (false when one arrived meanwhile).
	ReleaseQueue(ctx context.Context, q Queue, due *time.Time, ifEmpty bool) (bool, error)
	// MarkDue asks for a queue to be sent at at.
	MarkDue(ctx context.Context, q Queue, at time.Time) error
	// Outbox lists a queue's undelivered deliveries, oldest first. An
	// entry whose delivery is no longer stored comes with Gone set (and
	// only its ids and Seq).
	Outbox(ctx context.Context, q Queue, limit int) ([]Delivery, error)
	// Unqueue takes an entry whose delivery is gone out of its queue and
	// counts it out, together; false when it was out already (another
	// sender took it).
	Unqueue(ctx context.Context, q Queue, seq int, deliveryID string) (bool, error)
	// SaveAttempt stores a delivery after an attempt; done takes it out of
	// its queue (delivered, or given up).
	SaveAttempt(ctx context.Context, d Delivery, done bool) error
	// DueQueues lists queues due at now.
	DueQueues(ctx context.Context, now time.Time, limit int) ([]Queue, error)
	// People lists the emails of everyone a resync of partnerID looks at:
	// monitored members, pending invitations, and whoever the partner was
	// told of.
	People(ctx context.Context, orgID, partnerID string) ([]string, error)
	// DisableWebhook stops a partner's webhook after it answered 410.
	DisableWebhook(ctx context.Context, p Partner, reason string, at time.Time) error
	// EventSize is how many bytes e adds to a stored delivery, and
	// SnapshotSize how many sn's stored item takes: what MaxDeliveryBytes
	// and MaxRecordBytes count.
	EventSize(e Event) (int, error)
	SnapshotSize(sn Snapshot) (int, error)
}

// Poster posts a webhook (poster.HTTP: public addresses only).
type Poster interface {
	Post(ctx context.Context, url string, header map[string]string, body []byte) (status int, err error)
}

// Mailer sends the email channel's deliveries and tells admins about a
// webhook that is gone.
type Mailer interface {
	SendChanges(ctx context.Context, p Partner, d Delivery) error
	SendWebhookDisabled(ctx context.Context, p Partner, reason string) error
	// SendRoster emails the full current roster (d's events are every
	// worker the partner covers, as they are now).
	SendRoster(ctx context.Context, p Partner, d Delivery) error
}

// Notifier turns changes into deliveries and sends them.
type Notifier struct {
	Store  Store
	Poster Poster
	Mailer Mailer
	// Lease is how long a sender holds a queue (longer than a run).
	Lease time.Duration
	// Timeout is how long a webhook may take to answer (default
	// webhook.Timeout).
	Timeout time.Duration
	// Senders is how many queues a run sends at once, SendersPerOrg how
	// many of them one organisation's may take, Turn how long a queue is
	// sent before it gives way (defaults: DefaultSenders,
	// DefaultSendersPerOrg, DefaultTurn).
	Senders, SendersPerOrg int
	Turn                   time.Duration
	Now                    func() time.Time
	Log                    *slog.Logger
}

func (n *Notifier) now() time.Time { return n.Now().UTC() }

func (n *Notifier) log() *slog.Logger {
	if n.Log == nil {
		return slog.Default()
	}
	return n.Log
}

// Notify records what each partner of orgID must be told about the people
// changes name, then sends it. It is idempotent: the same changes again
// record nothing new, so a stream batch can be retried safely.
func (n *Notifier) Notify(ctx context.Context, orgID string, changes []Change) error {
	s := n.startSending(ctx, false)
	defer s.finish()
	return n.notify(ctx, orgID, changes, s)
}

// notify records what partners must be told and hands the queues it went
// to to s.
func (n *Notifier) notify(ctx context.Context, orgID string, changes []Change, s *senders) error {
	partners, err := n.Store.Partners(ctx, orgID)
	if err != nil || len(partners) == 0 {
		return err
	}
	queues, err := n.recordFor(ctx, orgID, partners, changes)
	if err != nil {
		return err
	}
	s.send(queues...)
	return nil
}

// Handle does a stream batch's work (ddb.StreamChanges reads it from the
// records) and returns the sequence numbers to report as failed (the
// earliest record of each organisation whose work failed; the stream
// retries from the earliest, and doing work again records nothing new).
//
// Each organisation's queues are sent as soon as its work is recorded,
// beside the others' (see senders): one organisation's slow receivers hold
// neither the others' sends nor the batch for longer than a turn.
func (n *Notifier) Handle(ctx context.Context, work []Work) []string {
	s := n.startSending(ctx, false)
	defer s.finish()
	var failed []string
	for _, w := range work {
		if err := n.work(ctx, w, s); err != nil {
			n.log().Error("partner notification failed; the stream retries it", "orgId", w.OrgID, "error", err)
			failed = append(failed, w.First)
		}
	}
	return failed
}

// work records what one organisation's partners must be told and hands
// the queues to s.
func (n *Notifier) work(ctx context.Context, w Work, s *senders) error {
	if len(w.Changes) > 0 {
		if err := n.notify(ctx, w.OrgID, w.Changes, s); err != nil {
			return err
		}
	}
	for _, id := range w.Partners {
		if err := n.resync(ctx, w.OrgID, id, s); err != nil {
			return err
		}
	}
	return nil
}

// resyncChunk is how many people a resync looks at per round.
const resyncChunk = 200

// Resync looks at every worker again for one partner (a new partner, or
// one whose coverage changed): it is told of those it should now know and
// of those it should no longer.
func (n *Notifier) Resync(ctx context.Context, orgID, partnerID string) error {
	s := n.startSending(ctx, false)
	defer s.finish()
	return n.resync(ctx, orgID, partnerID, s)
}

func (n *Notifier) resync(ctx context.Context, orgID, partnerID string, s *senders) error {
	p, err := n.Store.Partner(ctx, orgID, partnerID)
	if err != nil || p == nil {
		return err
	}
	emails, err := n.Store.People(ctx, orgID, partnerID)
	if err != nil {
		return err
	}
	now := n.now()
	for start := 0; start < len(emails); start += resyncChunk {
		var changes []Change
		for _, e := range emails[start:min(start+resyncChunk, len(emails))] {
			changes = append(changes, Change{OrgID: orgID, Email: e, At: now})
		}
		qs, err := n.recordFor(ctx, orgID, []Partner{*p}, changes)
		if err != nil {
			return err
		}
		// Sent while the next chunk is recorded (s sends a queue once at a
		// time, and again for what came meanwhile).
		s.send(qs...)
	}
	return nil
}

// recordFor writes what partners must be told of changes and returns the
// queues it went to.
func (n *Notifier) recordFor(ctx context.Context, orgID string, partners []Partner, changes []Change) ([]Queue, error) {
	latest := map[string]time.Time{}
	for _, c := range changes {
		if c.Email != "" && c.At.After(latest[c.Email]) {
			latest[c.Email] = c.At
		}
	}
	for attempt := 0; ; attempt++ {
		queues, err := n.recordOnce(ctx, orgID, partners, changes, latest)
		if fault.CodeOf(err) == fault.Conflict && attempt < 4 {
			continue // another run told a partner meanwhile: read again
		}
		return queues, err
	}
}

func (n *Notifier) recordOnce(ctx context.Context, orgID string, partners []Partner, changes []Change, latest map[string]time.Time) ([]Queue, error) {
	sources, err := n.Store.Sources(ctx, orgID, changes)
	if err != nil {
		return nil, err
	}
	var keys []SnapshotKey
	for _, p := range partners {
		for _, s := range sources {
			keys = append(keys, SnapshotKey{p.ID, s.Email})
		}
	}
	snaps, err := n.Store.Snapshots(ctx, orgID, keys)
	if err != nil {
		return nil, err
	}
	now := n.now()
	seq := 0
	var queues []Queue
	for _, p := range partners {
		channels := p.Channels()
		if len(channels) == 0 {
			continue
		}
		var events []Event
		var next []Snapshot
		var weights []weight
		prev := map[SnapshotKey]int{}
		for _, s := range sources {
			k := SnapshotKey{p.ID, s.Email}
			var snap *Snapshot
			if sn, ok := snaps[k]; ok {
				prev[k] = sn.Version
				if sn.Generation == p.Generation {
					snap = &sn // else what an earlier partner of this id was told
				}
			}
			w, ok := p.WorkerOf(s)
			at := latest[s.Email]
			if at.IsZero() {
				at = now
			}
			seq++
			ev, ns, wt, err := n.diffToFit(p, snap, w, ok, s.Email, "evt_"+NewID(now, seq), at)
			if err != nil {
				return nil, err
			}
			if ev != nil {
				events = append(events, *ev)
				next = append(next, ns)
				weights = append(weights, wt)
			}
		}
		// Each transaction: per channel a delivery, its queue entry and
		// the queue's count; then one snapshot per event (DynamoDB takes
		// 100 items). Deliveries are cut by weight as well as by count.
		per := min(MaxEvents, 100-3*len(channels))
		for start, end := 0, 0; start < len(events); start = end {
			end = start + fits(weights[start:min(start+per, len(events))], len(channels))
			var ds []Delivery
			for _, ch := range channels {
				seq++
				ds = append(ds, Delivery{OrgID: orgID, PartnerID: p.ID, ID: NewID(now, seq), Channel: ch, Kind: KindChanges, Generation: p.Generation,
					Events: events[start:end], Status: Pending, CreatedAt: now})
			}
			if err := n.Store.Record(ctx, ds, next[start:end], prev); err != nil {
				return nil, err
			}
		}
		if len(events) > 0 {
			for _, ch := range channels {
				queues = append(queues, Queue{orgID, p.ID, ch})
			}
		}
	}
	return queues, nil
}

// weight is what an event takes in a stored delivery, and its snapshot.
type weight struct{ event, snapshot int }

// fits is how many of the leading events go in one Record: the first
// always (diffToFit made each fit alone), then while a delivery stays within
// MaxDeliveryBytes and the whole (the events once per channel, and their
// snapshots) within MaxRecordBytes.
func fits(ws []weight, channels int) int {
	events, snaps := 0, 0
	for i, w := range ws {
		events, snaps = events+w.event, snaps+w.snapshot
		if i > 0 && (events > MaxDeliveryBytes || channels*events+snaps > MaxRecordBytes) {
			return i
		}
	}
	return len(ws)
}

// diffToFit is Diff for partner p, measured. A worker whose event or
// snapshot would not fit in a delivery alone has their other information
// cut (ending in CutMarker) to the longest start that fits, rather than
// blocking the queue or leaving the worker out: the partner still gets who
// they are, whom to call and the safe word, which answering an alarm
// needs, and the marker says the note is incomplete. The cut depends on the
// worker alone, so the next look at them finds nothing new to tell.
func (n *Notifier) diffToFit(p Partner, snap *Snapshot, w Worker, ok bool, email, eventID string, at time.Time) (*Event, Snapshot, weight, error) {
	measure := func(w Worker) (*Event, Snapshot, weight, error) {
		ev, ns := Diff(snap, w, ok, p.OrgID, p.ID, email, eventID, at)
		if ev == nil {
			return nil, ns, weight{}, nil
		}
		ns.Generation = p.Generation
		es, err := n.Store.EventSize(*ev)
		if err != nil {
			return nil, ns, weight{}, err
		}
		ss, err := n.Store.SnapshotSize(ns)
		return ev, ns, weight{es, ss}, err
	}
	ev, ns, wt, err := measure(w)
	// Below this, fitWorker (which measures the worker alone, a little
	// less) would keep every byte: most workers never pay for it.
	if err != nil || ev == nil || !ok || w.Monitoring == nil || max(wt.event, wt.snapshot)+eventSlack <= MaxDeliveryBytes {
		return ev, ns, wt, err
	}
	cut, kept, of, err := n.fitWorker(p, w, email)
	if err != nil || kept == of {
		return ev, ns, wt, err
	}
	if ev, ns, wt, err = measure(cut); ev != nil {
		n.log().Warn("partner event's other information cut to fit a delivery", "orgId", p.OrgID, "partnerId", p.ID,
			"workerId", ev.Worker.ID, "eventId", ev.ID, "keptBytes", kept, "ofBytes", of)
	}
	return ev, ns, wt, err
}

// fitWorker returns w with as much of its other information (kept of of
// bytes) as lets an event of w and its snapshot each fit in a delivery.
// (Other fields are short by validation: an event is well under 30 KB
// without the note, so the error is for a future field without a limit.)
func (n *Notifier) fitWorker(p Partner, w Worker, email string) (_ Worker, kept, of int, _ error) {
	text := w.Monitoring.OtherInformation
	with := func(keep int) (Worker, bool, error) {
		c := w
		if keep < len(text) {
			m := *w.Monitoring
			m.OtherInformation = cutText(text, keep) + CutMarker
			c.Monitoring = &m
		}
		// Measured before Diff gives the event an id, a type and a
		// version: eventSlack is for those.
		es, err := n.Store.EventSize(Event{Worker: c})
		if err != nil {
			return c, false, err
		}
		ss, err := n.Store.SnapshotSize(Snapshot{OrgID: p.OrgID, PartnerID: p.ID, Email: email, Generation: p.Generation, Present: true, Fields: c.Fields()})
		return c, max(es, ss)+eventSlack <= MaxDeliveryBytes, err
	}
	whole, fit, err := with(len(text))
	if err != nil || fit {
		return whole, len(text), len(text), err
	}
	if _, fit, err := with(0); err != nil || !fit {
		if err == nil {
			err = fmt.Errorf("the event for worker %s is over %d bytes even without its other information", WorkerID(p.OrgID, email), MaxDeliveryBytes)
		}
		return w, 0, len(text), err
	}
	// The longest start that fits: at most 14 measurements for 2,000
	// characters, and only for a worker that needs it.
	lo, hi := 0, len(text)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if _, fit, err := with(mid); err != nil {
			return w, 0, len(text), err
		} else if fit {
			lo = mid
		} else {
			hi = mid
		}
	}
	c, _, err := with(lo)
	return c, len(cutText(text, lo)), len(text), err
}

// eventSlack bounds what an event and a snapshot carry besides the worker:
// an id, a type, a time, changed fields (at most 14 names), a version.
const eventSlack = 2048

// cutText is the longest start of s of at most n bytes that ends between
// two characters.
func cutText(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Drain sends a queue's deliveries in order until it is empty, one fails
// (it is retried later, and nothing behind it overtakes it), or ctx is
// near its deadline.
func (n *Notifier) Drain(ctx context.Context, q Queue) error {
	_, err := n.sendTurn(ctx, q, time.Time{})
	return err
}

// sendTurn is Drain that starts no send after until (zero: no limit). more
// reports that it stopped for time (its turn, or the run's deadline) with
// deliveries left: the queue is then released, due at once.
func (n *Notifier) sendTurn(ctx context.Context, q Queue, until time.Time) (more bool, err error) {
	lease := n.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	now := n.now()
	ok, err := n.Store.LeaseQueue(ctx, q, now, now.Add(lease))
	if err != nil {
		return false, err
	}
	if !ok {
		// Someone is sending it; make sure it is looked at again soon in
		// case they had finished reading it.
		return false, n.Store.MarkDue(ctx, q, now.Add(5*time.Second))
	}
	for {
		r, err := n.drain(ctx, q, until)
		if err != nil {
			// Leave the lease to run out: the queue is due then.
			return false, err
		}
		released, err := n.Store.ReleaseQueue(ctx, q, r.due, r.due == nil && !r.paused)
		if err != nil || released {
			return r.outOfTime && err == nil, err
		}
		// A delivery arrived while sending: send it too.
	}
}

// drained is where drain stopped: when the queue is due next (nil: when
// something new arrives), whether the channel is paused, and whether it
// stopped for time with more to send.
type drained struct {
	due       *time.Time
	paused    bool
	outOfTime bool
}

// drain sends what the queue holds, starting no send after until (zero: no
// limit) or near ctx's deadline.
func (n *Notifier) drain(ctx context.Context, q Queue, until time.Time) (drained, error) {
	p, err := n.Store.Partner(ctx, q.OrgID, q.PartnerID)
	if err != nil {
		return drained{}, err
	}
	if p == nil || (q.Channel == ChannelWebhook && (p.Webhook == nil || p.Webhook.DisabledAt != nil)) ||
		(q.Channel == ChannelEmail && p.Email == nil) {
		// Removed, or paused until an admin saves the partner again (which
		// makes the queue due).
		return drained{paused: true}, nil
	}
	done := map[string]bool{}
	for {
		ds, err := n.Store.Outbox(ctx, q, 10)
		if err != nil || len(ds) == 0 {
			return drained{}, err
		}
		for i := 0; i < len(ds); i++ {
			d := ds[i]
			if done[d.ID] {
				// Never send one twice in a run: its queue entry should be gone.
				return drained{}, fmt.Errorf("delivery %s is still queued after it was done", d.ID)
			}
			done[d.ID] = true
			if d.Gone {
				// Its TTL passed while it waited: nothing is left to send.
				// Taking the entry out lets what waits behind it go, and the
				// queue be released once empty.
				out, err := n.Store.Unqueue(ctx, q, d.Seq, d.ID)
				if err != nil {
					return drained{}, err
				}
				if out {
					n.log().Warn("partner queue entry dropped: its delivery expired before it was sent", "orgId", q.OrgID,
						"partnerId", q.PartnerID, "channel", q.Channel, "deliveryId", d.ID, "seq", d.Seq)
				}
				continue
			}
			if d.Generation != p.Generation {
				// Made for an earlier partner of this id, deleted since.
				d.Status, d.NextAttemptAt, d.LastError = Failed, nil, "the partner it was for was deleted"
				if err := n.Store.SaveAttempt(ctx, d, true); err != nil {
					return drained{}, err
				}
				continue
			}
			now := n.now()
			if d.NextAttemptAt != nil && d.NextAttemptAt.After(now) {
				return drained{due: d.NextAttemptAt}, nil
			}
			if nearDeadline(ctx) || (!until.IsZero() && !time.Now().Before(until)) {
				return drained{due: &now, outOfTime: true}, nil // the next turn or run carries on
			}
			// An email partner gets what waits in one email (a burst is one
			// email, not dozens); a webhook gets one delivery per request.
			batch := []Delivery{d}
			if q.Channel == ChannelEmail && d.Kind == KindChanges {
				events := len(d.Events)
				for j := i + 1; j < len(ds) && ds[j].Kind == KindChanges && ds[j].Generation == p.Generation &&
					ds[j].NextAttemptAt == nil && events+len(ds[j].Events) <= MaxEmailEvents; j++ {
					batch = append(batch, ds[j])
					events += len(ds[j].Events)
				}
			}
			sent := d
			for _, b := range batch[1:] {
				sent.Events = append(append([]Event{}, sent.Events...), b.Events...)
			}
			sendErr := n.send(ctx, *p, sent)
			now = n.now()
			d.Attempts++
			d.LastAttemptAt = &now
			if d.FirstAttemptAt == nil {
				d.FirstAttemptAt = &now
			}
			if sendErr == nil {
				batch[0] = d
				for _, b := range batch {
					if b.ID != d.ID {
						b.Attempts++
						b.LastAttemptAt, b.FirstAttemptAt = &now, &now
						done[b.ID] = true
					}
					b.Status, b.DeliveredAt, b.NextAttemptAt, b.LastError = Delivered, &now, nil, ""
					if len(b.Events) > 0 {
						b.LatencyMs = now.Sub(b.Events[0].Timestamp).Milliseconds()
					}
					if err := n.Store.SaveAttempt(ctx, b.Trim(), true); err != nil {
						return drained{}, err
					}
				}
				i += len(batch) - 1
				continue
			}
			d.LastError = sendErr.Error()
			var gone *goneError
			if errors.As(sendErr, &gone) {
				d.NextAttemptAt = nil
				if err := n.Store.SaveAttempt(ctx, d, false); err != nil {
					return drained{}, err
				}
				return drained{paused: true}, n.disable(ctx, *p, gone.Error())
			}
			if now.Sub(*d.FirstAttemptAt) >= RetryFor {
				d.Status, d.NextAttemptAt = Failed, nil
				n.log().Error("partner delivery given up", "orgId", d.OrgID, "partnerId", d.PartnerID, "deliveryId", d.ID, "attempts", d.Attempts, "error", d.LastError)
				if err := n.Store.SaveAttempt(ctx, d, true); err != nil {
					return drained{}, err
				}
				continue
			}
			next := now.Add(RetryDelay(d.Attempts))
			d.NextAttemptAt = &next
			n.log().Warn("partner delivery failed", "orgId", d.OrgID, "partnerId", d.PartnerID, "deliveryId", d.ID, "attempt", d.Attempts, "error", d.LastError)
			if err := n.Store.SaveAttempt(ctx, d, false); err != nil {
				return drained{}, err
			}
			return drained{due: &next}, nil
		}
	}
}

// disable stops a webhook that answered 410 and tells the admins.
func (n *Notifier) disable(ctx context.Context, p Partner, reason string) error {
	if err := n.Store.DisableWebhook(ctx, p, reason, n.now()); err != nil {
		return err
	}
	n.log().Warn("partner webhook disabled", "orgId", p.OrgID, "partnerId", p.ID, "reason", reason)
	if n.Mailer != nil {
		if err := n.Mailer.SendWebhookDisabled(ctx, p, reason); err != nil {
			n.log().Error("could not tell the admins about a disabled webhook", "orgId", p.OrgID, "partnerId", p.ID, "error", err)
		}
	}
	return nil
}

// goneError is a webhook's 410: the receiver asks not to be sent to again.
type goneError struct{}

func (*goneError) Error() string { return "the endpoint answered 410 Gone" }

func (n *Notifier) send(ctx context.Context, p Partner, d Delivery) error {
	switch d.Channel {
	case ChannelEmail:
		if n.Mailer == nil {
			return errors.New("no mailer")
		}
		if d.Kind == KindRoster {
			events, err := n.Roster(ctx, p)
			if err != nil {
				return fmt.Errorf("read the roster: %w", err)
			}
			d.Events = events
			return n.Mailer.SendRoster(ctx, p, d)
		}
		return n.Mailer.SendChanges(ctx, p, d)
	case ChannelWebhook:
		body, err := d.Body()
		if err != nil {
			return err
		}
		// The header's timestamp is the real time of sending (receivers
		// compare it with their clocks); which secrets sign is the service's
		// business.
		at := time.Now()
		header, err := webhook.Headers(p.Webhook.LiveSecrets(n.now()), d.ID, at, body)
		if err != nil {
			return err
		}
		timeout := n.Timeout
		if timeout <= 0 {
			timeout = webhook.Timeout
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		status, err := n.Poster.Post(pctx, p.Webhook.URL, header, body)
		switch {
		case errors.Is(err, webhook.ErrPrivateAddress):
			return err
		case err != nil:
			if pctx.Err() != nil && ctx.Err() == nil {
				return fmt.Errorf("no answer within %s", timeout)
			}
			return fmt.Errorf("could not reach the endpoint: %w", err)
		case status == 410:
			return &goneError{}
		case status < 200 || status > 299:
			return fmt.Errorf("the endpoint answered %d", status)
		}
		return nil
	}
	return fmt.Errorf("unknown channel %q", d.Channel)
}

// Roster is every worker p covers, as they are now.
func (n *Notifier) Roster(ctx context.Context, p Partner) ([]Event, error) {
	emails, err := n.Store.People(ctx, p.OrgID, p.ID)
	if err != nil {
		return nil, err
	}
	now := n.now()
	var out []Event
	for start := 0; start < len(emails); start += resyncChunk {
		var changes []Change
		for _, e := range emails[start:min(start+resyncChunk, len(emails))] {
			changes = append(changes, Change{OrgID: p.OrgID, Email: e})
		}
		sources, err := n.Store.Sources(ctx, p.OrgID, changes)
		if err != nil {
			return nil, err
		}
		for _, s := range sources {
			if w, ok := p.WorkerOf(s); ok {
				out = append(out, Event{Type: WorkerCurrent, Timestamp: now, Worker: w})
			}
		}
	}
	return out, nil
}

// RetryDue sends the queues that are due now (the retry schedule): the
// organisations in turn, several queues at once, each a turn at a time
// (see senders).
func (n *Notifier) RetryDue(ctx context.Context) (int, error) {
	qs, err := n.Store.DueQueues(ctx, n.now(), MaxDuePerRun)
	if err != nil {
		return 0, err
	}
	s := n.startSending(ctx, true)
	s.send(inTurn(qs)...)
	s.finish()
	return len(qs), nil
}

// MaxDuePerRun is how many due queues a retry run reads (the longest
// waiting first). A queue a run sends is due again later (or not at all),
// so one that a run did not read comes first in the next.
const MaxDuePerRun = 500

// inTurn orders queues by organisation in turn: every organisation's first
// (in the order they came), then every one's second, and so on.
func inTurn(qs []Queue) []Queue {
	var orgs []string
	byOrg := map[string][]Queue{}
	for _, q := range qs {
		if _, ok := byOrg[q.OrgID]; !ok {
			orgs = append(orgs, q.OrgID)
		}
		byOrg[q.OrgID] = append(byOrg[q.OrgID], q)
	}
	out := make([]Queue, 0, len(qs))
	for round := 0; len(out) < len(qs); round++ {
		for _, o := range orgs {
			if round < len(byOrg[o]) {
				out = append(out, byOrg[o][round])
			}
		}
	}
	return out
}

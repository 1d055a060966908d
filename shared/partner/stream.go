package partner

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Work is what one organisation's stream records ask for: people whose
// items changed, and partners whose coverage changed (every worker is
// looked at again for them).
type Work struct {
	OrgID    string
	Changes  []Change
	Partners []string
	// First is the sequence number of the organisation's first record:
	// the one to report when its work fails, so the stream retries from it.
	First string
}

// StreamPrefixes are the sort key prefixes of the items whose changes
// matter to partners (the template's filter criteria let only these
// invoke the function).
var StreamPrefixes = []string{"MEMBER#", "MONITOR#", "INVITE#", "PARTNER#"}

// FromStream sorts a stream batch into work per organisation, in the order
// the records came.
func FromStream(records []events.DynamoDBEventRecord) []Work {
	var out []Work
	index := map[string]int{}
	for _, r := range records {
		pk, sk := r.Change.Keys["PK"].String(), r.Change.Keys["SK"].String()
		orgID, ok := strings.CutPrefix(pk, "ORG#")
		if !ok {
			continue
		}
		i, seen := index[orgID]
		if !seen {
			i = len(out)
			index[orgID] = i
			out = append(out, Work{OrgID: orgID, First: r.Change.SequenceNumber})
		}
		w := &out[i]
		img := r.Change.NewImage
		if len(img) == 0 {
			img = r.Change.OldImage
		}
		at := r.Change.ApproximateCreationDateTime.Time
		str := func(name string) string {
			if v, ok := img[name]; ok && v.DataType() == events.DataTypeString {
				return v.String()
			}
			return ""
		}
		switch {
		case strings.HasPrefix(sk, "MEMBER#"), strings.HasPrefix(sk, "INVITE#"):
			w.Changes = append(w.Changes, Change{OrgID: orgID, Email: str("email"), UserID: strings.TrimPrefix(sk, "MEMBER#"), At: at})
		case strings.HasPrefix(sk, "MONITOR#"):
			w.Changes = append(w.Changes, Change{OrgID: orgID, UserID: strings.TrimPrefix(sk, "MONITOR#"), At: at})
		case strings.HasPrefix(sk, "PARTNER#"):
			id := strings.TrimPrefix(sk, "PARTNER#")
			if r.EventName != "REMOVE" && coverageChanged(r.Change.OldImage, r.Change.NewImage) && !slices.Contains(w.Partners, id) {
				w.Partners = append(w.Partners, id)
			}
		}
	}
	return out
}

// coverageChanged reports whether a partner's save changed which workers
// it is told of, or how (a new partner, units, when workers are added,
// the channels).
func coverageChanged(old, new map[string]events.DynamoDBAttributeValue) bool {
	if len(old) == 0 {
		return true
	}
	for _, name := range []string{"units", "addedOn", "webhook", "email"} {
		o, n := old[name], new[name]
		if name == "webhook" || name == "email" {
			if (o.DataType() == events.DataTypeMap) != (n.DataType() == events.DataTypeMap) {
				return true
			}
			continue
		}
		if !sameValue(o, n) {
			return true
		}
	}
	return false
}

func sameValue(a, b events.DynamoDBAttributeValue) bool {
	if a.DataType() != b.DataType() {
		return false
	}
	switch a.DataType() {
	case events.DataTypeString:
		return a.String() == b.String()
	case events.DataTypeList:
		la, lb := a.List(), b.List()
		if len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !sameValue(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return true // both absent or null
}

// Handle does a stream batch's work and returns the sequence numbers to
// report as failed (the earliest record of each organisation whose work
// failed; the stream retries from the earliest, and doing work again
// records nothing new).
//
// Each organisation's queues are sent as soon as its work is recorded,
// beside the others' (see senders): one organisation's slow receivers hold
// neither the others' sends nor the batch for longer than a turn.
func (n *Notifier) Handle(ctx context.Context, records []events.DynamoDBEventRecord) []string {
	s := n.startSending(ctx, false)
	defer s.finish()
	var failed []string
	for _, w := range FromStream(records) {
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

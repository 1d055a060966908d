package partner

import (
	"context"
	"slices"
	"sync"
	"time"
)

// How a run shares its time between queues, so that one organisation's
// slow or failing receivers cannot hold up another's deliveries: queues are
// independent (the lease keeps one sender per queue), so a run sends
// several at once; one organisation's queues take only a few of those
// senders; and a queue is sent for a turn at a time, then gives way.
const (
	// DefaultSenders is how many queues a run sends at once. Senders wait
	// on receivers, not on the function's processor: eight slow webhooks
	// cost a 256 MB function nothing.
	DefaultSenders = 8
	// DefaultSendersPerOrg is how many of them one organisation's queues
	// may take at once: with eight, four organisations whose receivers
	// all answer at the last moment still leave senders free.
	DefaultSendersPerOrg = 2
	// DefaultTurn is how long a queue may start sends before it gives
	// way; a send started within it may take up to the webhook's timeout.
	// Five seconds is some 250 deliveries to a receiver that answers in
	// 20 ms, and one or two to one that waits.
	DefaultTurn = 5 * time.Second
)

// handOverBefore is how long before its deadline a run stops starting
// sends: enough for one to time out and be saved.
const handOverBefore = 20 * time.Second

// nearDeadline reports whether a run must hand what is left to the next.
func nearDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < handOverBefore
}

// senders sends queues handed to it, several at once, until it is closed
// and has nothing left.
//
// In a stream batch (again false) a queue gets one turn, counted from
// when it was handed over, waiting included: what it has not sent by then
// is left due, and the retry schedule sends it, so a batch (and the
// batches behind it on its shard) waits at most a turn and an answer for
// any receiver. In the retry run (again true) a queue whose turn ends goes
// behind the queues waiting, and is sent again when its turn comes, until
// the run's deadline.
type senders struct {
	n     *Notifier
	ctx   context.Context
	again bool
	turn  time.Duration

	mu      sync.Mutex
	changed *sync.Cond
	waiting []turn
	running map[Queue]bool
	rerun   map[Queue]time.Time // handed over again while it was being sent: its next turn's end
	perOrg  map[string]int
	maxOrg  int
	closed  bool
	done    sync.WaitGroup
}

// turn is a queue waiting to be sent, and when its turn ends (zero: it
// starts when it is sent).
type turn struct {
	q     Queue
	until time.Time
}

// startSending starts a notifier's senders.
func (n *Notifier) startSending(ctx context.Context, again bool) *senders {
	s := &senders{n: n, ctx: ctx, again: again, turn: n.Turn, maxOrg: n.SendersPerOrg,
		running: map[Queue]bool{}, rerun: map[Queue]time.Time{}, perOrg: map[string]int{}}
	if s.turn <= 0 {
		s.turn = DefaultTurn
	}
	if s.maxOrg <= 0 {
		s.maxOrg = DefaultSendersPerOrg
	}
	s.changed = sync.NewCond(&s.mu)
	count := n.Senders
	if count <= 0 {
		count = DefaultSenders
	}
	s.done.Add(count)
	for range count {
		go s.work()
	}
	return s
}

// send hands queues over to be sent.
func (s *senders) send(qs ...Queue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var until time.Time
	if !s.again {
		until = time.Now().Add(s.turn)
	}
	for _, q := range qs {
		// What was recorded now gets a turn of its own: a queue handed over
		// again (a resync's next chunk) waits no longer than one handed
		// over once.
		if s.running[q] {
			s.rerun[q] = until // sent again when its sender is done
			continue
		}
		i := slices.IndexFunc(s.waiting, func(t turn) bool { return t.q == q })
		if i < 0 {
			s.waiting = append(s.waiting, turn{q, until})
		} else {
			s.waiting[i].until = until
		}
	}
	s.changed.Broadcast()
}

// finish waits until everything handed over is sent, or left due.
func (s *senders) finish() {
	s.mu.Lock()
	s.closed = true
	s.changed.Broadcast()
	s.mu.Unlock()
	s.done.Wait()
}

func (s *senders) work() {
	defer s.done.Done()
	for {
		t, ok := s.next()
		if !ok {
			return
		}
		more, err := s.n.sendTurn(s.ctx, t.q, t.until)
		if err != nil {
			s.n.log().Warn("partner queue not drained", "orgId", t.q.OrgID, "partnerId", t.q.PartnerID, "channel", t.q.Channel, "error", err)
		}
		s.mu.Lock()
		delete(s.running, t.q)
		s.perOrg[t.q.OrgID]--
		if until, ok := s.rerun[t.q]; ok {
			delete(s.rerun, t.q)
			s.waiting = append(s.waiting, turn{q: t.q, until: until})
		} else if more && s.again {
			s.waiting = append(s.waiting, turn{q: t.q}) // behind the others
		}
		// Else, with more, it was left due: the retry schedule sends it.
		s.changed.Broadcast()
		s.mu.Unlock()
	}
}

// next takes the first waiting queue whose organisation has a sender to
// spare, and starts its turn. Queues whose turn ended while they waited,
// or all of them near the run's deadline, are dropped: each is still due
// (recording a delivery makes its queue due, and the retry run reads due
// queues), so the next run sends it.
func (s *senders) next() (turn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		now := time.Now()
		late := nearDeadline(s.ctx) || s.ctx.Err() != nil
		kept := s.waiting[:0]
		for _, t := range s.waiting {
			if !late && (t.until.IsZero() || now.Before(t.until)) {
				kept = append(kept, t)
			}
		}
		s.waiting = kept
		for i, t := range s.waiting {
			if s.running[t.q] || s.perOrg[t.q.OrgID] >= s.maxOrg {
				continue
			}
			s.waiting = slices.Delete(s.waiting, i, i+1)
			if t.until.IsZero() {
				t.until = now.Add(s.turn)
			}
			s.running[t.q] = true
			s.perOrg[t.q.OrgID]++
			return t, true
		}
		// A sender stays while others run: a queue they finish may come
		// back (sent again, or behind the others).
		if s.closed && len(s.waiting) == 0 && len(s.running) == 0 {
			return turn{}, false
		}
		s.changed.Wait()
	}
}

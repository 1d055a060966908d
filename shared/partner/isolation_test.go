package partner_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/invite"
	"onboarding/shared/partner"
)

// tenants is two organisations in one table: A, whose partners answer
// slowly and have a backlog, and B, whose partner answers at once.
type tenants struct {
	*world
	slow         []*testenv.Receiver // A's partners slow1, slow2, ...
	orgB, adminB string
	quick        *testenv.Receiver // B's partner "quick"
	kari, ola    string            // a worker in A, one in B (user ids)
}

// slowPartners and backlog: A has more slow partners than a run has
// senders, each with 20 deliveries queued before the batch.
const (
	slowPartners = 9
	backlog      = 20
	slowAnswer   = 3 * time.Second
)

func newTenants(t *testing.T) *tenants {
	ctx := context.Background()
	ts := &tenants{world: newWorld(t)}
	ts.kari = ts.invited(ts.orgID, ts.admin, "kari@example.no")
	for i := range slowPartners {
		r := testenv.NewReceiver(t, "")
		ts.slow = append(ts.slow, r)
		ts.partner(ts.orgID, ts.admin, fmt.Sprintf("slow%d", i+1), r)
	}
	p, err := ts.invites.Provision(ctx, invite.ProvisionRequest{Name: "Fjord Omsorg", AdminEmail: "bente@example.no", DefaultPhoneRegion: "NO"})
	if err != nil {
		t.Fatal(err)
	}
	ts.orgB = p.OrgID
	ts.adminB = ts.accept("bente@example.no")
	ts.ola = ts.invited(ts.orgB, ts.adminB, "ola@example.no")
	ts.quick = testenv.NewReceiver(t, "")
	ts.partner(ts.orgB, ts.adminB, "quick", ts.quick)
	return ts
}

// invited invites and accepts a monitored worker (nothing notified).
func (ts *tenants) invited(orgID, admin, email string) string {
	ts.t.Helper()
	if _, err := ts.invites.Invite(context.Background(), admin, orgID, invite.Request{Email: email, Role: "member"}); err != nil {
		ts.t.Fatal(err)
	}
	return ts.accept(email)
}

func (ts *tenants) partner(orgID, admin, id string, r *testenv.Receiver) {
	ts.t.Helper()
	v, _, err := ts.partners.Put(context.Background(), admin, orgID, id, partner.Config{Name: id,
		Webhook: &struct {
			URL string `json:"url"`
		}{r.URL}})
	if err != nil {
		ts.t.Fatal(err)
	}
	r.Trust(v.Secret)
}

// queue records n deliveries for a partner's webhook, as earlier batches
// would have, without sending them.
func (ts *tenants) queue(orgID, partnerID string, n int) {
	ts.t.Helper()
	ctx := context.Background()
	p, err := ts.store.Partner(ctx, orgID, partnerID)
	if err != nil || p == nil {
		ts.t.Fatalf("partner %s: %v", partnerID, err)
	}
	now := ts.clock.Now()
	for i := range n {
		wk := partner.Worker{Schemas: []string{partner.SchemaUser}, ID: fmt.Sprintf("wkr_%s_%02d", partnerID, i),
			UserName: fmt.Sprintf("w%02d@example.no", i), Emails: []partner.Value{}, PhoneNumbers: []partner.Value{}, Active: true}
		d := partner.Delivery{OrgID: orgID, PartnerID: partnerID, ID: partner.NewID(now, i), Channel: partner.ChannelWebhook,
			Kind: partner.KindChanges, Generation: p.Generation, Status: partner.Pending, CreatedAt: now,
			Events: []partner.Event{{ID: fmt.Sprintf("evt_backlog_%02d", i), Type: partner.WorkerUpdated, Timestamp: now, Worker: wk}}}
		if err := ts.store.Record(ctx, []partner.Delivery{d}, nil, nil); err != nil {
			ts.t.Fatal(err)
		}
	}
}

// member is the work of a stream record of a member's change (as
// ddb.StreamChanges reads it).
func member(orgID, userID, email string, seq int) partner.Work {
	return partner.Work{OrgID: orgID, First: fmt.Sprintf("%021d", seq),
		Changes: []partner.Change{{OrgID: orgID, Email: email, UserID: userID, At: time.Now()}}}
}

// firstArrival is how long after start r heard of anything (false: nothing).
func firstArrival(r *testenv.Receiver, start time.Time) (time.Duration, bool) {
	ms := r.Messages()
	if len(ms) == 0 {
		return 0, false
	}
	return ms[0].At.Sub(start), true
}

// catchUp answers at once everywhere and retries until nothing is due,
// then checks that every receiver got its deliveries once each, in order:
// the backlog, then what the batch recorded (want events each, in all).
func (ts *tenants) catchUp(want int) {
	ts.t.Helper()
	ctx := context.Background()
	for _, r := range ts.slow {
		r.Answer(0, 0)
	}
	for range 5 {
		ts.clock.Add(time.Minute)
		if _, err := ts.notifier.RetryDue(ctx); err != nil {
			ts.t.Fatal(err)
		}
	}
	if due, _ := ts.store.DueQueues(ctx, ts.clock.Now().Add(48*time.Hour), 100); len(due) != 0 {
		ts.t.Fatalf("still due: %+v", due)
	}
	for i, r := range ts.slow {
		var ids []string
		for _, e := range r.Events() {
			ids = append(ids, e.ID)
		}
		if len(ids) != want || r.Duplicates() != 0 || len(r.Rejected()) != 0 {
			ts.t.Fatalf("slow%d: %d events (want %d), %d duplicates, rejected %v", i+1, len(ids), want, r.Duplicates(), r.Rejected())
		}
		for j := range backlog {
			if ids[j] != fmt.Sprintf("evt_backlog_%02d", j) {
				ts.t.Fatalf("slow%d out of order: %v", i+1, ids)
			}
		}
		if ts.waiting(fmt.Sprintf("slow%d", i+1), partner.ChannelWebhook) != 0 {
			ts.t.Fatalf("slow%d still counts deliveries waiting", i+1)
		}
	}
	if n := len(ts.quick.Events()); n != 1 || ts.quick.Duplicates() != 0 {
		ts.t.Fatalf("B's partner: %d events, %d duplicates", n, ts.quick.Duplicates())
	}
}

// One organisation's slow partners do not hold up another's deliveries in
// a stream batch: A's change comes first, A's partners take 3 s an answer
// and have 20 deliveries each waiting, yet B's partner hears of B's change
// at once; the batch is not held for A's backlog, and nothing is lost,
// duplicated or reordered (the rest goes out on retry).
func TestSlowOrganisationDoesNotDelayOthersInTheStream(t *testing.T) {
	ts := newTenants(t)
	for i := range slowPartners {
		ts.queue(ts.orgID, fmt.Sprintf("slow%d", i+1), backlog)
	}
	for _, r := range ts.slow {
		r.Answer(0, slowAnswer)
	}
	// As long as the function's run (template.yaml: 90 s).
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	work := []partner.Work{member(ts.orgID, ts.kari, "kari@example.no", 1), member(ts.orgB, ts.ola, "ola@example.no", 2)}
	start := time.Now()
	failed := ts.notifier.Handle(ctx, work)
	took := time.Since(start)
	if len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	sent := 0
	for _, r := range ts.slow {
		sent += len(r.Messages())
	}
	after, heard := firstArrival(ts.quick, start)
	t.Logf("batch took %s; A's partners got %d deliveries; B's first after %s (heard: %v)", took.Round(time.Millisecond), sent, after.Round(time.Millisecond), heard)
	if !heard || after > 2*time.Second {
		t.Fatalf("B's partner heard nothing within 2 s while A had %d slow deliveries per partner queued (heard: %v, after %s; the batch took %s)",
			backlog, heard, after.Round(time.Millisecond), took.Round(time.Millisecond))
	}
	// Held at most for a queue's turn (5 s) and the answers in flight then.
	if limit := 5*time.Second + slowAnswer + 4*time.Second; took > limit {
		t.Fatalf("the batch took %s (limit %s)", took, limit)
	}
	ts.catchUp(backlog + 1)
}

// The retry schedule takes organisations in turn: A's queues were due
// first, each with 20 slow deliveries, yet B's queue, due after them,
// goes out at once.
func TestRetriesTakeOrganisationsInTurn(t *testing.T) {
	ts := newTenants(t)
	for i := range slowPartners {
		ts.queue(ts.orgID, fmt.Sprintf("slow%d", i+1), backlog)
	}
	ts.clock.Add(time.Second)
	ts.queue(ts.orgB, "quick", 1)
	ts.clock.Add(time.Second)
	for _, r := range ts.slow {
		r.Answer(0, slowAnswer)
	}
	// A run with 25 s left sends for 5 s (it stops 20 s before its end).
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := ts.notifier.RetryDue(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	after, heard := firstArrival(ts.quick, start)
	t.Logf("retry run took %s; B's first after %s (heard: %v)", took.Round(time.Millisecond), after.Round(time.Millisecond), heard)
	if !heard || after > 2*time.Second {
		t.Fatalf("B's partner heard nothing within 2 s of the retry run while A's %d queues of %d slow deliveries were due before it (heard: %v, after %s; the run took %s)",
			slowPartners, backlog, heard, after.Round(time.Millisecond), took.Round(time.Millisecond))
	}
	ts.catchUp(backlog)
	if evs := ts.quick.Events(); evs[0].ID != "evt_backlog_00" {
		t.Fatalf("B's partner got %s", evs[0].ID)
	}
}

package partner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/monitor"
	"onboarding/shared/partner"
)

// scan reads the test table's items that match filter (tests only: it
// finds items by their attributes, not by key formats the store owns).
func (w *world) scan(filter expression.ConditionBuilder) []map[string]ddbtypes.AttributeValue {
	w.t.Helper()
	expr, err := expression.NewBuilder().WithFilter(filter).Build()
	if err != nil {
		w.t.Fatal(err)
	}
	var out []map[string]ddbtypes.AttributeValue
	in := &dynamodb.ScanInput{TableName: &w.table, FilterExpression: expr.Filter(), ConsistentRead: aws.Bool(true),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	for p := dynamodb.NewScanPaginator(w.client, in); p.HasMorePages(); {
		page, err := p.NextPage(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}

// expire deletes a delivery item as its TTL would.
func (w *world) expire(deliveryID string) {
	w.t.Helper()
	its := w.scan(expression.Name("type").Equal(expression.Value("delivery")).
		And(expression.Name("deliveryId").Equal(expression.Value(deliveryID))))
	if len(its) != 1 {
		w.t.Fatalf("%d items of delivery %s", len(its), deliveryID)
	}
	if _, err := w.client.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &w.table,
		Key: map[string]ddbtypes.AttributeValue{"PK": its[0]["PK"], "SK": its[0]["SK"]}}); err != nil {
		w.t.Fatal(err)
	}
}

// waiting is a queue's count of deliveries waiting in it.
func (w *world) waiting(partnerID, channel string) int {
	w.t.Helper()
	its := w.scan(expression.Name("partnerId").Equal(expression.Value(partnerID)).
		And(expression.Name("channel").Equal(expression.Value(channel))).
		And(expression.AttributeExists(expression.Name("pending"))))
	if len(its) != 1 {
		w.t.Fatalf("%d queue items", len(its))
	}
	var q struct {
		Pending int `dynamodbav:"pending"`
	}
	if err := attributevalue.UnmarshalMap(its[0], &q); err != nil {
		w.t.Fatal(err)
	}
	return q.Pending
}

// countingStore counts how often a queue's outbox is read.
type countingStore struct {
	*ddb.Store
	reads atomic.Int64
}

func (c *countingStore) Outbox(ctx context.Context, q partner.Queue, limit int) ([]partner.Delivery, error) {
	c.reads.Add(1)
	return c.Store.Outbox(ctx, q, limit)
}

// A delivery whose item is gone (its TTL passed while the webhook was
// paused) leaves the queue: what waited behind it goes out, in order, the
// queue's count comes back to nothing, and the sender does not spin.
func TestExpiredDeliveryLeavesItsQueue(t *testing.T) {
	w := newWorld(t)
	var logs bytes.Buffer
	w.notifier.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	w.connect(partner.Config{})
	w.recv.Answer(500, 0)
	for _, email := range []string{"kari@example.no", "ola@example.no", "per@example.no"} {
		w.worker(email)
	}
	ctx := context.Background()
	page, err := w.partners.Deliveries(ctx, w.admin, w.orgID, "vakt", 10, "")
	if err != nil || len(page.Items) != 3 || len(w.recv.Events()) != 0 {
		t.Fatalf("%d deliveries, %d events sent, %v", len(page.Items), len(w.recv.Events()), err)
	}
	var first partner.DeliveryView
	for _, d := range page.Items {
		if d.Events[0].Email == "kari@example.no" {
			first = d
		}
	}
	if first.Attempts != 1 || w.waiting("vakt", partner.ChannelWebhook) != 3 {
		t.Fatalf("first %+v, waiting %d", first, w.waiting("vakt", partner.ChannelWebhook))
	}
	w.expire(first.ID)
	w.recv.Answer(0, 0)
	w.clock.Add(time.Hour)

	cs := &countingStore{Store: w.store}
	n := *w.notifier
	n.Store = cs
	// No deadline (a sender near one stops early on its own): a sender
	// that spins is cut off here instead.
	dctx, cancel := context.WithCancel(ctx)
	defer time.AfterFunc(10*time.Second, cancel).Stop()
	err = n.Drain(dctx, partner.Queue{OrgID: w.orgID, PartnerID: "vakt", Channel: partner.ChannelWebhook})
	if err != nil || dctx.Err() != nil {
		t.Fatalf("drain: %v (outbox read %d times)", err, cs.reads.Load())
	}
	var who []string
	for _, e := range w.recv.Events() {
		var wk map[string]any
		json.Unmarshal(e.Worker, &wk)
		who = append(who, wk["userName"].(string))
	}
	if !slices.Equal(who, []string{"ola@example.no", "per@example.no"}) {
		t.Fatalf("sent %v", who)
	}
	if got := w.waiting("vakt", partner.ChannelWebhook); got != 0 {
		t.Fatalf("the queue counts %d waiting", got)
	}
	// A second sender that read the same entry before it went counts
	// nothing out.
	q := partner.Queue{OrgID: w.orgID, PartnerID: "vakt", Channel: partner.ChannelWebhook}
	if out, err := w.store.Unqueue(ctx, q, first.Seq, first.ID); out || err != nil || w.waiting("vakt", partner.ChannelWebhook) != 0 {
		t.Fatalf("unqueued again: %v %v, waiting %d", out, err, w.waiting("vakt", partner.ChannelWebhook))
	}
	if r := cs.reads.Load(); r > 3 {
		t.Fatalf("the outbox was read %d times", r)
	}
	if due, _ := w.store.DueQueues(ctx, w.clock.Now().Add(48*time.Hour), 10); len(due) != 0 {
		t.Fatalf("still due: %+v", due)
	}
	if !strings.Contains(logs.String(), first.ID) || strings.Contains(logs.String(), "@example.no") {
		t.Fatalf("log: %s", logs.String())
	}
}

// monitored invites and accepts n monitored workers whose monitoring
// profiles say other, and returns their changes, not yet notified.
func (w *world) monitored(n int, other string) []partner.Change {
	w.t.Helper()
	ctx := context.Background()
	var changes []partner.Change
	for i := range n {
		email := fmt.Sprintf("w%03d@example.no", i)
		if _, err := w.invites.Invite(ctx, w.admin, w.orgID, invite.Request{Email: email, Role: "member"}); err != nil {
			w.t.Fatal(err)
		}
		uid := w.accept(email)
		c := membership.MonitoringChange{OtherInformation: other,
			EscalationContacts: []monitor.Contact{{Name: "Contact 1", Phone: "41234567"}, {Name: "Contact 2", Phone: "41234568"}}}
		if _, err := w.members.SetMonitoring(ctx, w.admin, w.orgID, uid, c); err != nil {
			w.t.Fatal(err)
		}
		changes = append(changes, partner.Change{OrgID: w.orgID, Email: email, UserID: uid})
	}
	return changes
}

// thai is 2,000 characters of Thai (6,000 bytes in UTF-8), as long as
// other information may be.
var thai = strings.Repeat("สวัสดีครับ", 200)

// otherInformation reads an event's worker's other information.
func otherInformation(t *testing.T, e json.RawMessage) (string, string) {
	t.Helper()
	var wk struct {
		UserName   string `json:"userName"`
		Monitoring struct {
			OtherInformation string `json:"otherInformation"`
		} `json:"urn:ietf:params:scim:schemas:extension:onboarding:monitoring:2.0:User"`
	}
	if err := json.Unmarshal(e, &wk); err != nil {
		t.Fatal(err)
	}
	return wk.UserName, wk.Monitoring.OtherInformation
}

// A hundred workers with long non-Latin notes are more than one item of
// DynamoDB can hold: they go in several deliveries, cut by size, each
// stored and sent, every note whole, in order.
func TestLongNonLatinTextIsDeliveredInPieces(t *testing.T) {
	w := newWorld(t)
	w.connect(partner.Config{})
	changes := w.monitored(100, thai)
	w.notify(changes...)
	evs := w.recv.Events()
	if len(evs) != 100 || w.recv.Duplicates() != 0 {
		t.Fatalf("%d events, %d duplicates", len(evs), w.recv.Duplicates())
	}
	for i, e := range evs {
		who, other := otherInformation(t, e.Worker)
		if who != fmt.Sprintf("w%03d@example.no", i) || other != thai {
			t.Fatalf("event %d: %s with %d bytes of other information", i, who, len(other))
		}
	}
	page, err := w.partners.Deliveries(context.Background(), w.admin, w.orgID, "vakt", 100, "")
	if err != nil || len(page.Items) < 2 || len(page.Items) != len(w.recv.Messages()) {
		t.Fatalf("%d deliveries, %d messages, %v", len(page.Items), len(w.recv.Messages()), err)
	}
	for _, d := range page.Items {
		if d.Status != partner.Delivered {
			t.Fatalf("%+v", d)
		}
	}
	t.Logf("100 events in %d deliveries", len(page.Items))
}

// heavyStore counts every event as factor times its size, as if the
// store's items were that much smaller.
type heavyStore struct {
	*ddb.Store
	factor int
}

func (h heavyStore) EventSize(e partner.Event) (int, error) {
	n, err := h.Store.EventSize(e)
	return n * h.factor, err
}

// One worker whose event alone would not fit in a delivery does not block
// the queue: their other information is cut, marked as cut, and the rest
// goes out; the next look at them finds nothing new to tell.
func TestOversizedEventIsCutToFit(t *testing.T) {
	w := newWorld(t)
	var logs bytes.Buffer
	w.notifier.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	w.connect(partner.Config{})
	changes := w.monitored(1, thai)
	ctx := context.Background()
	if _, err := w.invites.Invite(ctx, w.admin, w.orgID, invite.Request{Email: "ola@example.no", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	w.accept("ola@example.no")
	changes = append(changes, partner.Change{OrgID: w.orgID, Email: "ola@example.no"})
	n := *w.notifier
	n.Store = heavyStore{Store: w.store, factor: 100}
	if err := n.Notify(ctx, w.orgID, changes); err != nil {
		t.Fatal(err)
	}
	evs := w.recv.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	who, other := otherInformation(t, evs[0].Worker)
	cut, marked := strings.CutSuffix(other, partner.CutMarker)
	if who != "w000@example.no" || !marked || cut == "" || !strings.HasPrefix(thai, cut) {
		t.Fatalf("%s: %q", who, other)
	}
	if who, _ := otherInformation(t, evs[1].Worker); who != "ola@example.no" {
		t.Fatalf("second event for %s", who)
	}
	if err := n.Notify(ctx, w.orgID, changes); err != nil || len(w.recv.Events()) != 2 {
		t.Fatalf("told again: %d events, %v", len(w.recv.Events()), err)
	}
	if !strings.Contains(logs.String(), partner.WorkerID(w.orgID, "w000@example.no")) || strings.Contains(logs.String(), "@example.no") {
		t.Fatalf("log: %s", logs.String())
	}
}

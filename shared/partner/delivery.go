package partner

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Delivery is one batch of events for one channel of one partner. Deliveries
// of a channel go out one at a time, in order: a worker's changes are never
// overtaken by older ones.
type Delivery struct {
	OrgID     string `json:"orgId" dynamodbav:"orgId"`
	PartnerID string `json:"partnerId" dynamodbav:"partnerId"`
	ID        string `json:"deliveryId" dynamodbav:"deliveryId"` // the webhook-id: the same on every attempt
	Channel   string `json:"channel" dynamodbav:"channel"`
	// Kind is "changes" (events), or "roster": the full current roster,
	// read when it is sent (email only).
	Kind string `json:"kind" dynamodbav:"kind"`
	// Generation is the partner's when the delivery was made: a partner
	// connected again under the same id never gets an earlier one's.
	Generation string  `json:"-" dynamodbav:"generation"`
	Events     []Event `json:"-" dynamodbav:"events"`
	Status     string  `json:"status" dynamodbav:"status"`
	Attempts   int     `json:"attempts" dynamodbav:"attempts"`
	// LastError says why the last attempt failed (a status code, a
	// timeout); never a response body.
	LastError      string     `json:"lastError,omitempty" dynamodbav:"lastError,omitempty"`
	CreatedAt      time.Time  `json:"createdAt" dynamodbav:"createdAt"`
	FirstAttemptAt *time.Time `json:"firstAttemptAt,omitempty" dynamodbav:"firstAttemptAt,omitempty"`
	LastAttemptAt  *time.Time `json:"lastAttemptAt,omitempty" dynamodbav:"lastAttemptAt,omitempty"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt,omitempty" dynamodbav:"nextAttemptAt,omitempty"`
	DeliveredAt    *time.Time `json:"deliveredAt,omitempty" dynamodbav:"deliveredAt,omitempty"`
	// LatencyMs is from the first event's change to delivery.
	LatencyMs    int64  `json:"latencyMs,omitempty" dynamodbav:"latencyMs,omitempty"`
	RedeliveryOf string `json:"redeliveryOf,omitempty" dynamodbav:"redeliveryOf,omitempty"`
	// Seq is the delivery's place in its channel's queue (given when it is
	// recorded).
	Seq int `json:"-" dynamodbav:"seq"`
	// Trimmed marks a delivery whose events lost the workers' details once
	// delivered (see Trim).
	Trimmed bool `json:"-" dynamodbav:"trimmed,omitempty"`
	// Gone marks a queue entry whose delivery is no longer stored (its TTL
	// passed while it waited, as behind a webhook paused for a month): the
	// store lists it only so that the sender takes it out of the queue.
	Gone bool `json:"-" dynamodbav:"-"`
}

// Delivery statuses.
const (
	Pending   = "pending"   // waiting for its turn or its next attempt
	Delivered = "delivered" // the partner took it (2xx, or the email was accepted by SES)
	Failed    = "failed"    // given up after RetryFor; can be redelivered
)

// Delivery kinds.
const (
	KindChanges = "changes"
	KindRoster  = "roster"
)

// WorkerCurrent is the type of a roster's rows: a worker as they are.
const WorkerCurrent = "worker.current"

// MaxEvents is the most events one delivery carries.
const MaxEvents = 100

// MaxDeliveryBytes is the most a delivery's events may weigh, counted as the
// store counts them (Store.EventSize). DynamoDB holds at most 400 KB in an
// item, attribute names included, and a delivery's item also carries its
// keys, ids, status, timing and last error, rewritten at every attempt:
// 256 KB of events leaves over 140 KB for those (they take under 5 KB).
// A hundred events with 2,000 Thai characters of other information each
// weigh about 700 KB, so such a burst goes in three deliveries.
const MaxDeliveryBytes = 256 * 1024

// MaxRecordBytes is the most one Record may weigh: its events once per
// channel plus their snapshots (Store.SnapshotSize). DynamoDB takes at most
// 4 MB in a transaction; the margin is for keys, queue counters and what a
// delivery carries besides its events.
const MaxRecordBytes = 3 * 1024 * 1024

// CutMarker ends a worker's other information that was cut so that their
// event fits in a delivery (see Notifier.diffToFit).
const CutMarker = " [truncated]"

// MaxEmailEvents is the most events one email carries: what waits in an
// email partner's queue goes out together, up to this.
const MaxEmailEvents = 1000

// RetryFor is how long a failing delivery is retried before it is given
// up (and the channel moves on to the next).
const RetryFor = 25 * time.Hour

// RetryDelay is the wait after the n-th failed attempt: 10 s doubling up to
// three hours, so a partner down for a day gets about 20 attempts.
func RetryDelay(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < 3*time.Hour; i++ {
		d *= 2
	}
	return min(d, 3*time.Hour)
}

// NewID returns an id that sorts by time and then by seq (deliveries made
// in the same millisecond keep their order).
func NewID(now time.Time, seq int) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return fmt.Sprintf("%013d%04d%s", now.UnixMilli(), seq%10000, hex.EncodeToString(b))
}

// Summary is an event as the deliveries API lists it: which worker, what
// changed; never the worker's details.
type Summary struct {
	ID            string   `json:"eventId"`
	Type          string   `json:"type"`
	WorkerID      string   `json:"workerId"`
	Email         string   `json:"email"`
	ChangedFields []string `json:"changedFields,omitempty"`
}

// DeliveryView is a delivery as the API shows it.
type DeliveryView struct {
	Delivery
	EventCount int       `json:"eventCount"`
	Events     []Summary `json:"events"`
}

// ViewOfDelivery shows d without the workers' details.
func ViewOfDelivery(d Delivery) DeliveryView {
	v := DeliveryView{Delivery: d, EventCount: len(d.Events), Events: []Summary{}}
	for _, e := range d.Events {
		v.Events = append(v.Events, Summary{ID: e.ID, Type: e.Type, WorkerID: e.Worker.ID, Email: e.Worker.UserName, ChangedFields: e.ChangedFields})
	}
	return v
}

// Trim is d once delivered: each event keeps its id, type, time, changed
// fields and the worker's id and version (what the deliveries list shows),
// not the worker's name, address, phone numbers or contacts. The partner
// has them; the service keeping them the 30 days deliveries are listed
// would keep a person's details after their erasure.
func (d Delivery) Trim() Delivery {
	if len(d.Events) == 0 {
		return d
	}
	events := make([]Event, len(d.Events))
	for i, e := range d.Events {
		events[i] = Event{ID: e.ID, Type: e.Type, Timestamp: e.Timestamp, ChangedFields: e.ChangedFields,
			Worker: Worker{ID: e.Worker.ID, Active: e.Worker.Active, Meta: e.Worker.Meta}}
	}
	d.Events, d.Trimmed = events, true
	return d
}

// Payload is the webhook body: the Standard Webhooks envelope around a
// batch of events.
type Payload struct {
	Type      string    `json:"type"` // "worker.events"
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		OrgID      string  `json:"orgId"`
		PartnerID  string  `json:"partnerId"`
		DeliveryID string  `json:"deliveryId"`
		Events     []Event `json:"events"`
	} `json:"data"`
}

// Body is the JSON a webhook delivery posts.
func (d Delivery) Body() ([]byte, error) {
	var p Payload
	p.Type, p.Timestamp = "worker.events", d.CreatedAt
	p.Data.OrgID, p.Data.PartnerID, p.Data.DeliveryID, p.Data.Events = d.OrgID, d.PartnerID, d.ID, d.Events
	return json.Marshal(p)
}

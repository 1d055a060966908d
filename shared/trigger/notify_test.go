package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/partner"
	"onboarding/shared/streams"
	"onboarding/shared/trigger"
)

// notifySample reads a sample event from events/ (the ones `sam local
// invoke -e` uses).
func notifySample(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// notifyPartners is partner.Notifier as the handler sees it.
type notifyPartners struct {
	HandleFn   func(ctx context.Context, work []partner.Work) []string
	RetryDueFn func(ctx context.Context) (int, error)
}

func (p *notifyPartners) Handle(ctx context.Context, work []partner.Work) []string {
	return p.HandleFn(ctx, work)
}
func (p *notifyPartners) RetryDue(ctx context.Context) (int, error) { return p.RetryDueFn(ctx) }

type notifyBatches struct {
	ReadBatchFn func(ctx context.Context, b streams.BatchInfo) ([]events.DynamoDBEventRecord, error)
}

func (b *notifyBatches) ReadBatch(ctx context.Context, info streams.BatchInfo) ([]events.DynamoDBEventRecord, error) {
	return b.ReadBatchFn(ctx, info)
}

// The sample stream batch's work: one organisation, a member's change (by
// email) and their monitoring profile's (by user), from its first record.
var sampleWork = []partner.Work{{
	OrgID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
	First: "1000000000000000000001",
	Changes: []partner.Change{
		{OrgID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", Email: "kari@example.no", UserID: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
			At: time.Unix(1795424400, 0)},
		{OrgID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", UserID: "a1b2c3d4e5f60718293a4b5c6d7e8f90", At: time.Unix(1795424460, 0)},
	},
}}

// sameWork compares work, times by instant.
func sameWork(t *testing.T, got, want []partner.Work) {
	t.Helper()
	norm := func(ws []partner.Work) []partner.Work {
		out := make([]partner.Work, len(ws))
		for i, w := range ws {
			out[i] = w
			out[i].Changes = nil
			for _, c := range w.Changes {
				c.At = c.At.UTC()
				out[i].Changes = append(out[i].Changes, c)
			}
		}
		return out
	}
	if !reflect.DeepEqual(norm(got), norm(want)) {
		t.Fatalf("work\n got  %+v\n want %+v", got, want)
	}
}

func TestNotifyDispatchesItsThreeInputs(t *testing.T) {
	sampleRecords := func(t *testing.T) []events.DynamoDBEventRecord {
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(notifySample(t, "stream-worker-changes.json"), &ev); err != nil {
			t.Fatal(err)
		}
		return ev.Records
	}
	unreadable := errors.New("get shard iterator: stream of kari@example.no not found")
	for _, c := range []struct {
		name   string
		input  json.RawMessage
		failed []string // what Handle reports failed
		read   error    // ReadBatch's error
		retry  error    // RetryDue's error
		// what is called and answered
		handled, replayed, retried bool
		want                       string // the answer as JSON; "" when an error
		wantErr                    string
		log                        string
	}{
		{name: "stream batch", input: notifySample(t, "stream-worker-changes.json"), handled: true,
			want: `{"batchItemFailures":[]}`, log: `"msg":"stream batch","records":2,"failed":0`},
		{name: "stream batch, an organisation failing", input: notifySample(t, "stream-worker-changes.json"), handled: true,
			failed: []string{"1000000000000000000001"},
			want:   `{"batchItemFailures":[{"itemIdentifier":"1000000000000000000001"}]}`, log: `"records":2,"failed":1`},
		{name: "replay", input: notifySample(t, "notify-on-failure.json"), replayed: true, handled: true,
			want: `{"replayed":2}`, log: `"msg":"replayed a failed stream batch","records":2,"failed":0`},
		{name: "replay failing again", input: notifySample(t, "notify-on-failure.json"), replayed: true, handled: true,
			failed: []string{"1000000000000000000001"}, wantErr: "1 organisations' changes failed again; see the log"},
		{name: "replay of a batch no longer in the stream", input: notifySample(t, "notify-on-failure.json"), replayed: true,
			read: unreadable, wantErr: "get shard iterator"},
		{name: "schedule", input: notifySample(t, "schedule-notify-retry.json"), retried: true,
			want: `{"queues":3}`, log: `"msg":"retry run","scheduledTime":"2026-11-23T08:16:00Z","queues":3`},
		{name: "schedule failing", input: notifySample(t, "schedule-notify-retry.json"), retried: true,
			retry: errors.New("query due partner queues for kari@example.no: throttled"), want: `{"queues":3}`, wantErr: "throttled"},
		{name: "not JSON", input: json.RawMessage(`{"Records":`), wantErr: "unreadable input"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var handled, replayed, retried bool
			partners := &notifyPartners{
				HandleFn: func(_ context.Context, work []partner.Work) []string {
					handled = true
					sameWork(t, work, sampleWork)
					return c.failed
				},
				RetryDueFn: func(context.Context) (int, error) { retried = true; return 3, c.retry },
			}
			batches := &notifyBatches{ReadBatchFn: func(_ context.Context, b streams.BatchInfo) ([]events.DynamoDBEventRecord, error) {
				replayed = true
				want := streams.BatchInfo{ShardID: "shardId-00000001795424400000-8a7b6c5d", StartSequenceNumber: "1000000000000000000001",
					EndSequenceNumber: "1000000000000000000002", BatchSize: 2,
					StreamArn: "arn:aws:dynamodb:eu-north-1:123456789012:table/onboarding-dev-Table/stream/2026-11-23T08:00:00.000"}
				if b != want {
					t.Fatalf("read batch %+v, want %+v", b, want)
				}
				if c.read != nil {
					return nil, c.read
				}
				return sampleRecords(t), nil
			}}
			var logs bytes.Buffer
			h := &trigger.Notify{Partners: partners, Batches: batches, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
			res, err := h.Handle(context.Background(), c.input)
			if handled != c.handled || replayed != c.replayed || retried != c.retried {
				t.Fatalf("handled %v, replayed %v, retried %v", handled, replayed, retried)
			}
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "kari@example.no") {
				t.Fatalf("the error names an address: %v", err)
			}
			if c.want != "" {
				got, _ := json.Marshal(res)
				if string(got) != c.want {
					t.Fatalf("answer %s, want %s", got, c.want)
				}
			} else if res != nil {
				t.Fatalf("answer %v with the error", res)
			}
			if !strings.Contains(logs.String(), c.log) || strings.Contains(logs.String(), "@") {
				t.Fatalf("log %s, want %s and no address", logs.String(), c.log)
			}
		})
	}
}

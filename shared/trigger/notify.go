package trigger

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/ddb"
	"onboarding/shared/partner"
	"onboarding/shared/redact"
	"onboarding/shared/streams"
)

// Partners is what the notify function asks of partner.Notifier.
type Partners interface {
	// Handle does a stream batch's work and returns the sequence numbers
	// to report as failed.
	Handle(ctx context.Context, work []partner.Work) []string
	// RetryDue sends the partner queues that are due and says how many.
	RetryDue(ctx context.Context) (int, error)
}

// StreamBatches reads back the records of a batch the stream gave up on.
type StreamBatches interface {
	ReadBatch(ctx context.Context, b streams.BatchInfo) ([]events.DynamoDBEventRecord, error)
}

// StreamReader reads them from DynamoDB Streams (they stay there for 24
// hours).
type StreamReader struct{ Client streams.Client }

// ReadBatch reads b's records.
func (r StreamReader) ReadBatch(ctx context.Context, b streams.BatchInfo) ([]events.DynamoDBEventRecord, error) {
	return streams.ReadBatch(ctx, r.Client, b)
}

// Notify is the notify function's handler. One function takes three
// inputs, told apart by their shape: a stream batch (the template's filter
// lets only the items of ddb.StreamPrefixes through), the on-failure record
// of a batch the stream gave up on (passed by hand, to replay it), and the
// retry schedule's trigger (anything else).
type Notify struct {
	Partners Partners
	Batches  StreamBatches
	Log      *slog.Logger
}

// notifyInput is any of the three.
type notifyInput struct {
	Records            []events.DynamoDBEventRecord `json:"Records"`
	DDBStreamBatchInfo *streams.BatchInfo           `json:"DDBStreamBatchInfo"`
	ScheduledTime      string                       `json:"scheduledTime"`
}

// Handle answers a stream batch with its partial failures (so the stream
// retries only from them), a replay with an error if anything failed again,
// and the schedule with how many queues it sent.
func (h *Notify) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var in notifyInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("unreadable input: %w", err)
	}
	started := time.Now()
	switch {
	case len(in.Records) > 0:
		failed := h.Partners.Handle(ctx, ddb.StreamChanges(in.Records))
		res := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
		for _, seq := range failed {
			res.BatchItemFailures = append(res.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
		h.Log.InfoContext(ctx, "stream batch", "records", len(in.Records), "failed", len(failed), "ms", time.Since(started).Milliseconds())
		return res, nil
	case in.DDBStreamBatchInfo != nil:
		records, err := h.Batches.ReadBatch(ctx, *in.DDBStreamBatchInfo)
		if err != nil {
			return nil, redact.Error(err)
		}
		failed := h.Partners.Handle(ctx, ddb.StreamChanges(records))
		h.Log.InfoContext(ctx, "replayed a failed stream batch", "records", len(records), "failed", len(failed))
		if len(failed) > 0 {
			return nil, fmt.Errorf("%d organisations' changes failed again; see the log", len(failed))
		}
		return map[string]int{"replayed": len(records)}, nil
	default:
		due, err := h.Partners.RetryDue(ctx)
		h.Log.InfoContext(ctx, "retry run", "scheduledTime", in.ScheduledTime, "queues", due, "ms", time.Since(started).Milliseconds())
		return map[string]int{"queues": due}, redact.Error(err)
	}
}

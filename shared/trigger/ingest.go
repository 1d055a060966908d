package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/importjob"
	"onboarding/shared/redact"
)

// Invoker starts a function asynchronously, as S3 and the scheduler start
// it (invoke.Lambda).
type Invoker interface {
	InvokeAsync(ctx context.Context, function string, payload []byte) error
}

// Ingest handles S3's ObjectCreated events under imports/: the ingest
// function.
type Ingest struct {
	// Apply applies one created object (ingest.Importer's Apply).
	Apply   func(ctx context.Context, obj importjob.Object) (importjob.Job, error)
	Invoker Invoker
	// Self is this function's name: a file too large for one run is
	// carried on by invoking it again with the same record.
	Self string
	// Sweep is the sweep function's name, started after an import that
	// invited people so their email goes out now; "" starts none.
	Sweep string
	Now   func() time.Time
	Log   *slog.Logger
}

// handover bounds the invoke that hands a file to the next run.
const handover = 5 * time.Second

// Handle applies each record's object. An error is returned (masked), so
// Lambda retries the event: the job's lease and checkpoint make the retry
// resume, not repeat, and the records that were applied are not applied
// again.
func (h *Ingest) Handle(ctx context.Context, ev events.S3Event) error {
	var errs []error
	for _, rec := range ev.Records {
		if err := h.apply(ctx, rec); err != nil {
			errs = append(errs, err)
		}
	}
	// Lambda logs a returned error and keeps it with the failed event.
	return redact.Error(errors.Join(errs...))
}

func (h *Ingest) apply(ctx context.Context, rec events.S3EventRecord) error {
	obj := objectOf(rec)
	job, err := h.Apply(ctx, obj)
	if errors.Is(err, importjob.ErrContinue) {
		// Too large for one run: the next run, started now with the same
		// record, carries on from the checkpoint.
		err = h.carryOn(ctx, rec)
		h.Log.InfoContext(ctx, "import continues in the next run", "importId", job.ID, "nextRow", job.NextRow)
	}
	if err != nil {
		h.Log.ErrorContext(ctx, "import failed", "key", obj.Key, "error", err.Error())
		return err
	}
	h.Log.InfoContext(ctx, "import", "orgId", job.OrgID, "importId", job.ID, "status", job.Status, "counts", job.Counts)
	return nil
}

// carryOn starts the next run with rec. Not under the run's context: a run
// cut off by its deadline hands over too (should the invoke fail, Lambda's
// retry or the sweep's stale-import step resumes it).
func (h *Ingest) carryOn(ctx context.Context, rec events.S3EventRecord) error {
	payload, err := s3Event(rec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handover)
	defer cancel()
	return h.Invoker.InvokeAsync(ctx, h.Self, payload)
}

// SendNow starts the sweep now, so the email an import queued goes out
// without waiting for the next scheduled run (ingest.Importer's StartSweep).
// It sends the schedule's input, with "import-<id>" as its executionId, so
// the sweep's log tells the two apart.
func (h *Ingest) SendNow(ctx context.Context, importID string) error {
	if h.Sweep == "" {
		return nil
	}
	payload, err := json.Marshal(Schedule{ScheduledTime: h.Now().UTC().Format(time.RFC3339), ExecutionID: "import-" + importID, Attempt: "1"})
	if err != nil {
		return err
	}
	return h.Invoker.InvokeAsync(ctx, h.Sweep, payload)
}

// The S3 event, written once: what S3 sends (events/s3-object-created.json),
// what a run hands to the next, and what the sweep sends to restart a job's
// run all pass through s3Event and are read by objectOf.

// s3Event is the payload of an S3 event of one record.
func s3Event(rec events.S3EventRecord) ([]byte, error) {
	return json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
}

// createdRecord is the record S3 sends when j's object is created, its key
// URL-encoded as S3 encodes it (a space as '+', '/' kept).
func createdRecord(j importjob.Job) events.S3EventRecord {
	return events.S3EventRecord{EventSource: "aws:s3", EventName: "ObjectCreated:Put",
		S3: events.S3Entity{Object: events.S3Object{Key: strings.ReplaceAll(url.QueryEscape(j.Key), "%2F", "/"),
			VersionID: j.VersionID, ETag: j.ETag(), Size: j.Size}}}
}

// objectOf is the object a record names, its key decoded (a key that does
// not decode is taken as it is).
func objectOf(rec events.S3EventRecord) importjob.Object {
	o := rec.S3.Object
	key, err := url.QueryUnescape(o.Key)
	if err != nil {
		key = o.Key
	}
	return importjob.Object{Key: key, Version: o.VersionID, ETag: o.ETag, Size: o.Size}
}

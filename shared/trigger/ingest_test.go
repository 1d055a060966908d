package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/importjob"
	"onboarding/shared/trigger"
)

// fakeImports records the objects applied and answers with result.
type fakeImports struct {
	applied []importjob.Object
	result  func(obj importjob.Object) (importjob.Job, error)
}

func (f *fakeImports) Apply(_ context.Context, obj importjob.Object) (importjob.Job, error) {
	f.applied = append(f.applied, obj)
	if f.result == nil {
		return importjob.Job{ID: "imp1", OrgID: "org1", Status: importjob.Done}, nil
	}
	return f.result(obj)
}

func newIngest(imp *fakeImports, inv *fakeInvoker) (*trigger.Ingest, *bytes.Buffer) {
	log, buf := logs()
	return &trigger.Ingest{Apply: imp.Apply, Invoker: inv, Self: "onboarding-dev-IngestFunction-Ab12", Log: log,
		Now: func() time.Time { return time.Date(2026, 11, 23, 8, 20, 0, 0, time.UTC) }}, buf
}

// S3 sends the key URL-encoded: the handler applies the object by its key.
func TestIngestAppliesTheSampleEvent(t *testing.T) {
	var ev events.S3Event
	readEvent(t, "s3-object-created.json", &ev)
	imp, inv := &fakeImports{}, &fakeInvoker{}
	h, _ := newIngest(imp, inv)
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	want := []importjob.Object{{Key: "imports/0e6db78c6693d2730ec227044edeb2f9/Vaktliste uke 48 Øst.xlsx",
		Version: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 18342}}
	if !reflect.DeepEqual(imp.applied, want) {
		t.Fatalf("applied %+v, want %+v", imp.applied, want)
	}
	if len(inv.calls) != 0 {
		t.Fatalf("invoked %v", inv.calls)
	}
}

func TestIngestUnescapesKeys(t *testing.T) {
	for _, tc := range []struct{ sent, key string }{
		{"imports/o1/roster.csv", "imports/o1/roster.csv"},
		{"imports/o1/i1/Ansatte+2026.xlsx", "imports/o1/i1/Ansatte 2026.xlsx"},
		{"imports/o1/a%2Bb.csv", "imports/o1/a+b.csv"},
		{"imports/o1/%C3%A6%C3%B8%C3%A5.csv", "imports/o1/æøå.csv"},
		// Not an encoding S3 makes: taken as it is.
		{"imports/o1/100%.csv", "imports/o1/100%.csv"},
	} {
		imp := &fakeImports{}
		h, _ := newIngest(imp, &fakeInvoker{})
		ev := events.S3Event{Records: []events.S3EventRecord{{S3: events.S3Entity{Object: events.S3Object{Key: tc.sent}}}}}
		if err := h.Handle(context.Background(), ev); err != nil || len(imp.applied) != 1 || imp.applied[0].Key != tc.key {
			t.Errorf("%q: applied %+v (%v), want key %q", tc.sent, imp.applied, err, tc.key)
		}
	}
}

// A file too large for one run: the next run is invoked once with the same
// record, outside the run's context (a run cut off by its deadline hands
// over too), and the event succeeds.
func TestIngestContinuesInTheNextRun(t *testing.T) {
	var ev events.S3Event
	readEvent(t, "s3-object-created.json", &ev)
	imp := &fakeImports{result: func(importjob.Object) (importjob.Job, error) {
		return importjob.Job{ID: "imp1", OrgID: "org1", Status: importjob.Running, NextRow: 500},
			fmt.Errorf("import imp1: %w", importjob.ErrContinue)
	}}
	inv := &fakeInvoker{}
	h, logged := newIngest(imp, inv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if len(inv.calls) != 1 || inv.calls[0].function != h.Self {
		t.Fatalf("invoked %+v, want %s once", inv.calls, h.Self)
	}
	call := inv.calls[0]
	if call.ctxErr != nil {
		t.Fatal("the hand-over was made under the run's (ended) context")
	}
	if call.deadline.IsZero() || time.Until(call.deadline) > 5*time.Second {
		t.Fatalf("the hand-over has no deadline of at most 5 s: %v", call.deadline)
	}
	var next events.S3Event
	if err := json.Unmarshal(call.payload, &next); err != nil || !reflect.DeepEqual(next.Records, ev.Records) {
		t.Fatalf("the next run's event is not the same record (%v):\n%s", err, call.payload)
	}
	l := lines(t, logged, "import continues in the next run")
	if len(l) != 1 || l[0]["importId"] != "imp1" || l[0]["nextRow"] != float64(500) {
		t.Fatalf("log:\n%s", logged.String())
	}
}

// The hand-over itself failing fails the event, so that Lambda retries it.
func TestIngestFailsWhenTheHandOverFails(t *testing.T) {
	var ev events.S3Event
	readEvent(t, "s3-object-created.json", &ev)
	imp := &fakeImports{result: func(importjob.Object) (importjob.Job, error) {
		return importjob.Job{ID: "imp1"}, importjob.ErrContinue
	}}
	refused := errors.New("throttled")
	h, logged := newIngest(imp, &fakeInvoker{err: refused})
	if err := h.Handle(context.Background(), ev); !errors.Is(err, refused) {
		t.Fatalf("returned %v, want the invoke's error", err)
	}
	if len(lines(t, logged, "import failed")) != 1 {
		t.Fatalf("log:\n%s", logged.String())
	}
}

// A record that fails does not stop the others; its error is returned (so
// Lambda retries the event) with addresses masked, and logged masked.
func TestIngestReturnsAnErrorMaskedAndAppliesTheOtherRecords(t *testing.T) {
	var ev events.S3Event
	readEvent(t, "s3-object-created.json", &ev)
	other := ev.Records[0]
	other.S3.Object.Key = "imports/0e6db78c6693d2730ec227044edeb2f9/other.csv"
	ev.Records = append(ev.Records, other)
	denied := errors.New("access denied")
	imp := &fakeImports{result: func(obj importjob.Object) (importjob.Job, error) {
		if strings.HasSuffix(obj.Key, ".xlsx") {
			return importjob.Job{}, fmt.Errorf("read the file of %s: %w", address, denied)
		}
		return importjob.Job{ID: "imp2", Status: importjob.Done}, nil
	}}
	h, logged := newIngest(imp, &fakeInvoker{})
	err := h.Handle(context.Background(), ev)
	if !errors.Is(err, denied) || strings.Contains(err.Error(), address) {
		t.Fatalf("returned %v: want the error, masked", err)
	}
	if len(imp.applied) != 2 {
		t.Fatalf("applied %d records, want both", len(imp.applied))
	}
	if strings.Contains(logged.String(), address) || len(lines(t, logged, "import failed")) != 1 ||
		len(lines(t, logged, "import")) != 1 {
		t.Fatalf("log:\n%s", logged.String())
	}
}

// After an import that invited people the sweep is started now, with the
// schedule's input (events/schedule-sweep.json's fields), told apart by its
// executionId.
func TestSendNowKicksTheSweep(t *testing.T) {
	var sample map[string]any
	readEvent(t, "schedule-sweep.json", &sample)
	inv := &fakeInvoker{}
	h, _ := newIngest(&fakeImports{}, inv)
	if err := h.SendNow(context.Background(), "imp1"); err != nil || len(inv.calls) != 0 {
		t.Fatalf("with no sweep named: %v %+v", err, inv.calls)
	}
	h.Sweep = "onboarding-dev-SweepFunction-Cd34"
	if err := h.SendNow(context.Background(), "imp1"); err != nil {
		t.Fatal(err)
	}
	if len(inv.calls) != 1 || inv.calls[0].function != h.Sweep {
		t.Fatalf("invoked %+v", inv.calls)
	}
	var got map[string]any
	json.Unmarshal(inv.calls[0].payload, &got)
	want := map[string]any{"scheduledTime": "2026-11-23T08:20:00Z", "executionId": "import-imp1", "attempt": "1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("payload %s, want %v", inv.calls[0].payload, want)
	}
	for k := range sample {
		if _, ok := got[k]; !ok || len(got) != len(sample) {
			t.Fatalf("payload %v is not the schedule's input %v", got, sample)
		}
	}
}

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

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/importjob"
	"onboarding/shared/invite"
	"onboarding/shared/trigger"
)

// fakeSweep records the order of the steps and the pacers given.
type fakeSweep struct {
	steps              []string
	pacers             []invite.Pacer
	staleErr, sweepErr error
}

func (f *fakeSweep) stale(context.Context) (importjob.ResumeReport, error) {
	f.steps = append(f.steps, "imports")
	return importjob.ResumeReport{Resumed: 2, Expired: 1}, f.staleErr
}

func (f *fakeSweep) invitations(_ context.Context, p invite.Pacer) (invite.SweepReport, error) {
	f.steps = append(f.steps, "invitations")
	f.pacers = append(f.pacers, p)
	return invite.SweepReport{Expired: 3, Reminded: 4}, f.sweepErr
}

// pacer is a pacer the test tells apart (n: a zero-size value has no address of its own).
type pacer struct{ n int }

func (*pacer) Wait(context.Context) error { return nil }

func newSweep(f *fakeSweep, inv *fakeInvoker) (*trigger.Sweep, *bytes.Buffer) {
	log, buf := logs()
	n := 0
	return &trigger.Sweep{StaleImports: f.stale, Invitations: f.invitations, Invoker: inv, Log: log,
		Pacer: func() invite.Pacer { n++; return &pacer{n} }}, buf
}

func schedule(t *testing.T) trigger.Schedule {
	var s trigger.Schedule
	readEvent(t, "schedule-sweep.json", &s)
	return s
}

// The stale imports go first, then the invitations; the report holds both,
// and the log line names the schedule's run.
func TestSweepRunsBothStepsAndReportsThem(t *testing.T) {
	f := &fakeSweep{}
	h, logged := newSweep(f, &fakeInvoker{})
	out, err := h.Handle(context.Background(), schedule(t))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.steps, []string{"imports", "invitations"}) {
		t.Fatalf("steps %v", f.steps)
	}
	b, _ := json.Marshal(out)
	var report map[string]any
	json.Unmarshal(b, &report)
	if report["expired"] != float64(3) || report["reminded"] != float64(4) {
		t.Fatalf("the invitations' report is not at the top: %s", b)
	}
	if imports, _ := report["imports"].(map[string]any); imports["resumed"] != float64(2) || imports["expired"] != float64(1) {
		t.Fatalf("the imports' report: %s", b)
	}
	l := lines(t, logged, "sweep done")
	if len(l) != 1 || l[0]["executionId"] != "d32c5kddcf5bb8c3" || l[0]["attempt"] != "1" || l[0]["scheduledTime"] != "2026-11-23T08:15:00Z" {
		t.Fatalf("log:\n%s", logged)
	}
}

// A step that fails does not stop the other; both errors are returned,
// joined and masked, with what each step did.
func TestSweepJoinsTheStepsErrors(t *testing.T) {
	stale, swept := errors.New("stale imports unreadable"), fmt.Errorf("digest to %s: %w", address, errors.New("ses down"))
	for name, tc := range map[string]struct {
		staleErr, sweepErr error
		want               []error
	}{
		"imports":     {staleErr: stale, want: []error{stale}},
		"invitations": {sweepErr: swept, want: []error{swept}},
		"both":        {staleErr: stale, sweepErr: swept, want: []error{stale, swept}},
	} {
		t.Run(name, func(t *testing.T) {
			f := &fakeSweep{staleErr: tc.staleErr, sweepErr: tc.sweepErr}
			h, logged := newSweep(f, &fakeInvoker{})
			out, err := h.Handle(context.Background(), schedule(t))
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("returned %v, want it to hold %v", err, w)
				}
			}
			if err == nil || strings.Contains(err.Error(), address) || strings.Contains(logged.String(), address) {
				t.Fatalf("returned %v; log:\n%s", err, logged)
			}
			if len(f.steps) != 2 || out.Expired != 3 || out.Imports.Resumed != 2 {
				t.Fatalf("steps %v, report %+v", f.steps, out)
			}
			if len(lines(t, logged, "sweep failed")) != 1 {
				t.Fatalf("log:\n%s", logged)
			}
		})
	}
}

// Each run gets a pacer of its own: the account's quota is read afresh.
func TestSweepTakesANewPacerEachRun(t *testing.T) {
	f := &fakeSweep{}
	h, _ := newSweep(f, &fakeInvoker{})
	for range 2 {
		if _, err := h.Handle(context.Background(), schedule(t)); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.pacers) != 2 || f.pacers[0] == f.pacers[1] {
		t.Fatalf("pacers %v", f.pacers)
	}
}

// The sweep restarts a stale job's run with the event S3 sent for its
// object: the ingest handler reads from it the object the job applies.
func TestRestartEventRoundTripsThroughTheIngest(t *testing.T) {
	for name, j := range map[string]importjob.Job{
		"versioned": {Key: "imports/o1/i1/Vaktliste uke 48 Øst.xlsx", VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
			Version: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", Size: 18342},
		"unversioned": {Key: "imports/o1/a+b & c%d=e?.csv", Version: "d41d8cd98f00b204e9800998ecf8427e", Size: 7},
	} {
		t.Run(name, func(t *testing.T) {
			j.Runner = "onboarding-dev-IngestFunction-Ab12"
			inv := &fakeInvoker{}
			sweep, _ := newSweep(&fakeSweep{}, inv)
			if err := sweep.StartImport(context.Background(), j); err != nil {
				t.Fatal(err)
			}
			if len(inv.calls) != 1 || inv.calls[0].function != j.Runner {
				t.Fatalf("invoked %+v, want %s", inv.calls, j.Runner)
			}
			// As the Lambda runtime decodes it for the handler.
			var ev events.S3Event
			if err := json.Unmarshal(inv.calls[0].payload, &ev); err != nil {
				t.Fatalf("%v: %s", err, inv.calls[0].payload)
			}
			if ev.Records[0].EventName != "ObjectCreated:Put" || ev.Records[0].S3.Object.URLDecodedKey != j.Key {
				t.Fatalf("not S3's event for the object: %s", inv.calls[0].payload)
			}
			imp := &fakeImports{}
			ingest, _ := newIngest(imp, &fakeInvoker{})
			if err := ingest.Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			want := importjob.Object{Key: j.Key, Version: j.VersionID, ETag: j.ETag(), Size: j.Size}
			if len(imp.applied) != 1 || imp.applied[0] != want {
				t.Fatalf("applied %+v, want %+v", imp.applied, want)
			}
		})
	}
}

// A job that names no function to run it is not started.
func TestRestartNeedsARunner(t *testing.T) {
	inv := &fakeInvoker{}
	sweep, _ := newSweep(&fakeSweep{}, inv)
	if err := sweep.StartImport(context.Background(), importjob.Job{Key: "imports/o1/r.csv"}); err == nil || len(inv.calls) != 0 {
		t.Fatalf("started: %v %+v", err, inv.calls)
	}
}

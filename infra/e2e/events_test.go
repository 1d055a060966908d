package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/infra/local"
	"onboarding/infra/testenv"
)

// The sample events in events/ serve `sam local invoke -e` and these tests
// alike: each round-trips through its aws-lambda-go type, and each is
// invoked on the running stack through the Lambda Invoke API (but S3's,
// which would leave an import behind: shared/trigger's tests apply it).
func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func roundTrips(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	back, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(raw, &a)
	json.Unmarshal(back, &b)
	if !contains(b, a) {
		t.Fatalf("a field of the event is lost in its Go type:\n%s\n%s", raw, back)
	}
}

// contains reports whether every field of want is in got with the same value
// (the Go types add empty optional blocks of their own).
func contains(got, want any) bool {
	wm, ok := want.(map[string]any)
	if !ok {
		return reflect.DeepEqual(got, want)
	}
	gm, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range wm {
		if !contains(gm[k], wv) {
			return false
		}
	}
	return true
}

func invoke(t *testing.T, invokeURL, function string, payload []byte) (int, []byte, bool) {
	t.Helper()
	res, err := http.Post(invokeURL+"/2015-03-31/functions/"+function+"/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body, res.Header.Get("X-Amz-Function-Error") != ""
}

func TestSampleEvents(t *testing.T) {
	s := Stack(t)

	var prov map[string]string
	roundTrips(t, readEvent(t, "provision.json"), &prov)
	status, out, fnErr := invoke(t, s.InvokeURL, "ProvisionFunction", readEvent(t, "provision.json"))
	if status != 200 || fnErr || !bytes.Contains(out, []byte(`"orgId"`)) {
		t.Fatalf("provision.json: %d %s", status, out)
	}

	cases := []struct {
		file, function string
		status         int
	}{
		// The sample token is signed by no key of ours: 401, not a crash.
		{"api-create-invitation.json", "InviteFunction", 401},
		// The sample invitation token opens nothing here.
		{"api-preview-invitation.json", "AcceptFunction", 404},
		// A base64 body, and a password that is wrong.
		{"api-sign-in.json", "AcceptFunction", 401},
		// The same unsigned token, on the imports function's routes.
		{"api-import-status.json", "ImportsFunction", 401},
	}
	t.Run("schedule-sweep.json", func(t *testing.T) {
		// The sample is what the template's schedule sends, filled in.
		raw := readEvent(t, "schedule-sweep.json")
		sweep := s.Functions["SweepFunction"]
		var fired *local.Scheduled
		for i, e := range s.Scheduler.Entries {
			if e.Function == sweep {
				fired = &s.Scheduler.Entries[i]
			}
		}
		if fired == nil {
			t.Fatal("the runner does not schedule the sweep")
		}
		var sample, scheduled map[string]any
		json.Unmarshal(raw, &sample)
		if err := json.Unmarshal(local.Payload(fired.Schedule.Input, fired.Schedule.Name, "x", time.Now(), 1), &scheduled); err != nil {
			t.Fatalf("schedule input: %v", err)
		}
		for k := range scheduled {
			if _, ok := sample[k]; !ok || len(sample) != len(scheduled) {
				t.Fatalf("sample %v does not match the schedule's input %v", sample, scheduled)
			}
		}
		status, out, fnErr := invoke(t, s.InvokeURL, "SweepFunction", raw)
		var report map[string]any
		if status != 200 || fnErr || json.Unmarshal(out, &report) != nil || report["more"] != false {
			t.Fatalf("%d %v %s", status, fnErr, out)
		}
	})
	t.Run("stream-worker-changes.json", func(t *testing.T) {
		// A stream batch about an organisation with no partners: nothing to
		// tell, and no record reported failed.
		raw := readEvent(t, "stream-worker-changes.json")
		var ev events.DynamoDBEvent
		roundTrips(t, raw, &ev)
		status, out, fnErr := invoke(t, s.InvokeURL, "NotifyFunction", raw)
		var res events.DynamoDBEventResponse
		if status != 200 || fnErr || json.Unmarshal(out, &res) != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("%d %v %s", status, fnErr, out)
		}
	})
	t.Run("schedule-notify-retry.json", func(t *testing.T) {
		status, out, fnErr := invoke(t, s.InvokeURL, "NotifyFunction", readEvent(t, "schedule-notify-retry.json"))
		if status != 200 || fnErr || !bytes.Contains(out, []byte(`"queues":0`)) {
			t.Fatalf("%d %v %s", status, fnErr, out)
		}
	})
	t.Run("notify-on-failure.json", func(t *testing.T) {
		// The on-failure record names a stream this emulator does not have:
		// the replay fails loudly rather than doing nothing.
		var rec map[string]any
		roundTrips(t, readEvent(t, "notify-on-failure.json"), &rec)
		status, out, fnErr := invoke(t, s.InvokeURL, "NotifyFunction", readEvent(t, "notify-on-failure.json"))
		if status != 200 || !fnErr || !bytes.Contains(out, []byte("shard iterator")) {
			t.Fatalf("%d %v %s", status, fnErr, out)
		}
	})
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			raw := readEvent(t, tc.file)
			var ev events.APIGatewayV2HTTPRequest
			roundTrips(t, raw, &ev)
			status, out, fnErr := invoke(t, s.InvokeURL, tc.function, raw)
			var res events.APIGatewayV2HTTPResponse
			if status != 200 || fnErr || json.Unmarshal(out, &res) != nil || res.StatusCode != tc.status {
				t.Fatalf("%d %v %s", status, fnErr, out)
			}
		})
	}
}

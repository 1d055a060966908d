package local

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"onboarding/infra/samtemplate"
)

func TestMatchPath(t *testing.T) {
	cases := []struct {
		tmpl, path string
		ok         bool
		params     map[string]string
	}{
		{"/orgs/{orgId}/invitations", "/orgs/o1/invitations", true, map[string]string{"orgId": "o1"}},
		{"/orgs/{orgId}/invitations", "/orgs/o1/invitations/x", false, nil},
		{"/orgs/{orgId}/invitations", "/orgs//invitations", false, nil},
		{"/me", "/me", true, map[string]string{}},
		{"/me", "/me/", true, map[string]string{}},
		{"/files/{proxy+}", "/files/a/b/c", true, map[string]string{"proxy": "a/b/c"}},
		{"/.well-known/jwks.json", "/.well-known/jwks.json", true, map[string]string{}},
	}
	for _, tc := range cases {
		params, ok := matchPath(tc.tmpl, tc.path)
		if ok != tc.ok {
			t.Errorf("%s ~ %s: %v", tc.tmpl, tc.path, ok)
			continue
		}
		for k, v := range tc.params {
			if params[k] != v {
				t.Errorf("%s ~ %s: %s=%q", tc.tmpl, tc.path, k, params[k])
			}
		}
	}
}

func TestWriteResponse(t *testing.T) {
	cases := []struct {
		name, payload string
		status        int
		body          string
		header        [2]string
	}{
		{"full", `{"statusCode":201,"headers":{"X-A":"1"},"body":"hi"}`, 201, "hi", [2]string{"X-A", "1"}},
		{"base64", `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, 200, "hi", [2]string{"Content-Type", "application/json"}},
		{"inferred", `{"hello":"world"}`, 200, `{"hello":"world"}`, [2]string{"Content-Type", "application/json"}},
		{"cookies", `{"statusCode":200,"cookies":["a=1"]}`, 200, "", [2]string{"Set-Cookie", "a=1"}},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		writeResponse(w, []byte(tc.payload))
		if w.Code != tc.status || w.Body.String() != tc.body || w.Header().Get(tc.header[0]) != tc.header[1] {
			t.Errorf("%s: %d %q %v", tc.name, w.Code, w.Body.String(), w.Header())
		}
	}
}

var (
	fixtureOnce sync.Once
	fixturePath string
	fixtureErr  error
)

// fixture builds the test function once.
func fixture(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "runner-fixture-")
		if err != nil {
			fixtureErr = err
			return
		}
		fixturePath = filepath.Join(dir, "bootstrap")
		out, err := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", fixturePath, "./testdata/fixture").CombinedOutput()
		if err != nil {
			fixtureErr = errors.New(string(out))
		}
	})
	if fixtureErr != nil {
		t.Fatalf("build fixture: %v", fixtureErr)
	}
	return fixturePath
}

func newFixture(t *testing.T, timeout time.Duration, max int) *Function {
	f := NewFunction(FunctionConfig{
		Name: "Fixture", Binary: fixture(t), Env: map[string]string{"FIXTURE_VALUE": "from-template"},
		Timeout: timeout, MaxConcurrency: max, Output: io.Discard,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(f.Close)
	return f
}

type reply struct {
	RequestID   string `json:"requestId"`
	PID         int    `json:"pid"`
	Env         string `json:"env"`
	HasDeadline bool   `json:"hasDeadline"`
}

func invokeJSON(t *testing.T, f *Function, payload string) (reply, error) {
	t.Helper()
	out, err := f.Invoke(context.Background(), []byte(payload))
	var r reply
	if err == nil {
		json.Unmarshal(out, &r)
	}
	return r, err
}

func TestFunctionRuntimeAPI(t *testing.T) {
	f := newFixture(t, 5*time.Second, 4)
	a, err := invokeJSON(t, f, `{}`)
	if err != nil || a.Env != "from-template" || !a.HasDeadline || a.RequestID == "" {
		t.Fatalf("first: %+v %v", a, err)
	}
	b, _ := invokeJSON(t, f, `{}`)
	if b.PID != a.PID || b.RequestID == a.RequestID {
		t.Fatalf("a warm process must be reused with a new request id: %+v %+v", a, b)
	}
	// A function error is reported as one, and the process lives on.
	_, err = f.Invoke(context.Background(), []byte(`{"action":"fail"}`))
	var fe *FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Error(), "asked to fail") {
		t.Fatalf("fail: %v", err)
	}
	c, _ := invokeJSON(t, f, `{}`)
	if c.PID != a.PID {
		t.Fatal("a function error must not kill the process")
	}
	// A crash is an error, and the next invocation gets a new process.
	_, err = f.Invoke(context.Background(), []byte(`{"action":"crash"}`))
	if !errors.As(err, &fe) || !strings.Contains(fe.Error(), "Runtime.ExitError") {
		t.Fatalf("crash: %v", err)
	}
	d, err := invokeJSON(t, f, `{}`)
	if err != nil || d.PID == a.PID {
		t.Fatalf("after crash: %+v %v", d, err)
	}
	if st := f.Stats(); st.ColdStarts != 2 || len(st.FirstResponses) != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFunctionTimeout(t *testing.T) {
	f := newFixture(t, 300*time.Millisecond, 1)
	start := time.Now()
	_, err := f.Invoke(context.Background(), []byte(`{"action":"sleep","sleepMs":5000}`))
	var fe *FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Error(), "Sandbox.Timedout") || time.Since(start) > 3*time.Second {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}
	if _, err := invokeJSON(t, f, `{}`); err != nil {
		t.Fatalf("after timeout: %v", err)
	}
}

func TestFunctionConcurrency(t *testing.T) {
	f := newFixture(t, 5*time.Second, 3)
	var wg sync.WaitGroup
	pids := sync.Map{}
	for i := 0; i < 9; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := f.Invoke(context.Background(), []byte(`{"action":"sleep","sleepMs":100}`))
			if err != nil {
				t.Error(err)
				return
			}
			var r reply
			json.Unmarshal(out, &r)
			pids.Store(r.PID, true)
		}()
	}
	wg.Wait()
	n := 0
	pids.Range(func(any, any) bool { n++; return true })
	if n > 3 || f.Stats().ColdStarts > 3 {
		t.Fatalf("%d processes for a limit of 3", n)
	}
}

func TestInvokeAPI(t *testing.T) {
	f := newFixture(t, 5*time.Second, 2)
	srv := httptest.NewServer(&InvokeAPI{Functions: map[string]*Function{"Fixture": f}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer srv.Close()
	res, err := http.Post(srv.URL+"/2015-03-31/functions/Fixture/invocations", "application/json", strings.NewReader(`{"action":"fail"}`))
	if err != nil || res.StatusCode != 200 || res.Header.Get("X-Amz-Function-Error") != "Unhandled" {
		t.Fatalf("function error: %v %v", err, res)
	}
	res, _ = http.Post(srv.URL+"/2015-03-31/functions/arn:aws:lambda:eu-north-1:000000000000:function:Fixture/invocations", "application/json", strings.NewReader(`{}`))
	if res.StatusCode != 200 || res.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("by ARN: %v", res)
	}
	res, _ = http.Post(srv.URL+"/2015-03-31/functions/Nope/invocations", "application/json", nil)
	if res.StatusCode != 404 {
		t.Fatalf("unknown function: %d", res.StatusCode)
	}
}

func TestParseRate(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		"rate(15 minutes)": 15 * time.Minute, "rate(1 minute)": time.Minute, "rate(2 hours)": 2 * time.Hour, "rate(1 day)": 24 * time.Hour,
	} {
		if got, err := ParseRate(expr); err != nil || got != want {
			t.Errorf("%s: %v %v", expr, got, err)
		}
	}
	for _, bad := range []string{"cron(0 * * * ? *)", "rate(0 minutes)", "rate(5 weeks)", "at(2026-01-01T00:00:00)"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// The scheduler fires on its interval with the context attributes filled
// in, and skips a tick while the previous run is still going.
func TestSchedulerFires(t *testing.T) {
	f := newFixture(t, 5*time.Second, 2)
	var logs strings.Builder
	var mu sync.Mutex
	s := &Scheduler{Log: slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil)), Entries: []Scheduled{{
		Function: f, Every: 100 * time.Millisecond,
		Schedule: samtemplate.Schedule{Name: "Sweep", Input: `{"at":"<aws.scheduler.scheduled-time>","attempt":"<aws.scheduler.attempt-number>"}`},
	}}}
	if p := string(Payload(s.Entries[0].Schedule.Input, "Sweep", "x", time.Date(2026, 11, 23, 8, 15, 0, 0, time.UTC), 1)); p != `{"at":"2026-11-23T08:15:00Z","attempt":"1"}` {
		t.Fatalf("payload %s", p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Run(ctx)
	time.Sleep(550 * time.Millisecond)
	cancel()
	if n := f.Stats().Invocations; n < 3 || n > 6 {
		t.Fatalf("%d invocations in 550 ms at every 100 ms", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "scheduled run") {
		t.Fatalf("logs: %s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

func TestMostSpecificRouteWins(t *testing.T) {
	a := &HTTPAPI{Routes: []Route{
		{Method: "GET", Path: "/orgs/{orgId}/imports/{importId}"},
		{Method: "GET", Path: "/orgs/{orgId}/imports/template"},
		{Method: "ANY", Path: "/files/{proxy+}"},
		{Method: "GET", Path: "/files/{name}"},
	}}
	for path, want := range map[string]string{
		"/orgs/o1/imports/template": "/orgs/{orgId}/imports/template",
		"/orgs/o1/imports/i1":       "/orgs/{orgId}/imports/{importId}",
		"/files/a":                  "/files/{name}",
		"/files/a/b":                "/files/{proxy+}",
	} {
		if r, _ := a.match("GET", path); r == nil || r.Path != want {
			t.Errorf("%s: %v, want %s", path, r, want)
		}
	}
}

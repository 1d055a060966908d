// Command bench measures what issue #2 asks of the foundation and prints a
// Markdown report (also written to build/bench.md):
//
//   - cold start of each function under the local runner, from process start
//     to its first response, against a minimal aws-lambda-go handler built
//     with the same flags and measured in the same run;
//   - binary and deployment zip sizes (linux/arm64);
//   - time per argon2id hash with the production parameters;
//   - DynamoDB requests per operation, counted by a proxy in front of
//     DynamoDB Local while the real binaries serve real requests;
//   - invite and accept latency through the runner at concurrency 8;
//   - the sweep, roster parsing and a 10,000-row import (issues #4, #5);
//   - partner notification latency and throughput (issue #6).
//
// BENCH_ONLY=partners runs only the last; BENCH_ONLY=rosters only roster
// parsing; BENCH_ONLY=sessions only the Sessions section (refresh, #13);
// BENCH_ONLY=search only the Search section (#14: 100,000 members, and
// the cost of changing a role's abilities), which the full run ends with.
//
// It needs the emulators (`make bench` starts them).
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/local"
	"onboarding/infra/samtemplate"
	"onboarding/shared/account"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var report strings.Builder

func out(format string, args ...any) {
	fmt.Fprintf(&report, format, args...)
	fmt.Printf(format, args...)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	tmp, err := os.MkdirTemp("", "onboarding-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	host, lambdaDir := filepath.Join(tmp, "host"), filepath.Join(tmp, "arm64")
	fmt.Fprintln(os.Stderr, "bench: building (host and linux/arm64)")
	if err := sh("make", "--no-print-directory", "build", "BUILD_DIR="+host); err != nil {
		return err
	}
	if os.Getenv("BENCH_ONLY") == "sessions" {
		return sectionOnly(host, tmp, "sessions", (*bench).sessions)
	}
	if os.Getenv("BENCH_ONLY") == "search" {
		return sectionOnly(host, tmp, "search", (*bench).search)
	}
	if err := sh("make", "--no-print-directory", "build-lambda", "BUILD_DIR="+lambdaDir); err != nil {
		return err
	}
	// The baseline, with the Makefile's flags.
	for dir, arch := range map[string]string{filepath.Join(host, "minimal"): runtime.GOARCH, filepath.Join(lambdaDir, "lambda", "minimal"): "arm64"} {
		cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid=", "-o", filepath.Join(dir, "bootstrap"), "./infra/bench/minimal")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build minimal: %v\n%s", err, b)
		}
	}

	out("# Benchmarks\n\nMeasured %s on %d cores (%s/%s), %s.\n\n", time.Now().UTC().Format(time.DateOnly), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if err := sizes(filepath.Join(lambdaDir, "lambda")); err != nil {
		return err
	}
	hashing()
	if os.Getenv("BENCH_ONLY") == "partners" {
		if err := partners(host, tmp); err != nil {
			return err
		}
		os.MkdirAll("build", 0o755)
		return os.WriteFile(filepath.Join("build", "bench-partners.md"), []byte(report.String()), 0o644)
	}
	if err := rosters(tmp); err != nil {
		return err
	}
	if os.Getenv("BENCH_ONLY") == "rosters" {
		return nil
	}

	table := "bench-" + fmt.Sprint(time.Now().Unix())
	stack, counter, err := countedStack(host, filepath.Join(tmp, "state"), table, "bench")
	if err != nil {
		return err
	}
	defer stack.Close()
	defer deleteTable(table)

	if err := coldStarts(stack, filepath.Join(host, "minimal", "bootstrap")); err != nil {
		return err
	}
	b := &bench{stack: stack, counter: counter, table: table, run: fmt.Sprint(time.Now().UnixNano() % 1e9)}
	if err := b.requestsPerOperation(); err != nil {
		return err
	}
	if err := b.latency(); err != nil {
		return err
	}
	if err := b.passwordReset(); err != nil {
		return err
	}
	// Before the sweep and the import: the import's kick starts a sweep
	// that sends its invitations in the background, which the proxy would
	// count with the refreshes.
	if err := b.sessions(); err != nil {
		return err
	}
	if err := b.sweep(); err != nil {
		return err
	}
	if err := b.importRoster(); err != nil {
		return err
	}
	if err := b.search(); err != nil {
		return err
	}
	stack.Close()
	if err := partners(host, tmp); err != nil {
		return err
	}

	os.MkdirAll("build", 0o755)
	return os.WriteFile(filepath.Join("build", "bench.md"), []byte(report.String()), 0o644)
}

func sh(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// sizes reports each arm64 binary and its deployment zip.
func sizes(dir string) error {
	out("## Binary and deployment zip sizes (linux/arm64, stripped, lambda.norpc)\n\n| function | binary | zip | target |\n|---|---:|---:|---|\n")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		bin := filepath.Join(dir, e.Name(), "bootstrap")
		data, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		zw := zip.NewWriter(&z)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
		w.Write(data)
		zw.Close()
		verdict := "under 10 MB"
		if z.Len() >= 10<<20 {
			verdict = "**over 10 MB**"
		}
		out("| %s | %.1f MB | %.1f MB | %s |\n", e.Name(), mb(len(data)), mb(z.Len()), verdict)
	}
	out("\n")
	return nil
}

func mb(n int) float64 { return float64(n) / (1 << 20) }

// hashing times argon2id with the production parameters.
func hashing() {
	h := account.Hasher{Params: account.OWASP}
	var ds []time.Duration
	for i := 0; i < 15; i++ {
		start := time.Now()
		h.Hash("correct horse battery staple")
		ds = append(ds, time.Since(start))
	}
	tpl, _ := samtemplate.Load("template.yaml")
	mem := "?"
	if tpl != nil {
		if m, ok := tpl.Resources["AcceptFunction"].Properties["MemorySize"]; ok {
			mem = fmt.Sprint(m)
		}
	}
	p := account.OWASP
	out("## Password hashing\n\nargon2id m=%d KiB, t=%d, p=%d: median **%s** per hash on this machine (one core), over %d hashes.\n"+
		"The functions that hash (accept: accept and sign-in) get %s MB in template.yaml: Lambda gives a full vCPU at 1,769 MB, so 1024 MB\n"+
		"is about 0.58 of a core and one hash takes about 1.7x the time above; at 128 MB (0.07 of a core) it would take about 14x.\n\n",
		p.MemoryKiB, p.Time, p.Threads, median(ds).Round(time.Millisecond), len(ds), mem)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p+0.999999) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

// coldStarts measures process start to first response for each function and
// for the minimal handler, interleaved, 15 times each.
func coldStarts(stack *local.Stack, minimalBinary string) error {
	events := map[string][]byte{
		"AcceptFunction":    apiEvent("GET", "/.well-known/jwks.json", "", ""),
		"InviteFunction":    apiEvent("GET", "/me", "", ""),
		"ProvisionFunction": []byte(`{}`),
		"minimal":           apiEvent("GET", "/", "", ""),
	}
	fns := map[string]*local.Function{}
	for name := range events {
		if name != "minimal" {
			fns[name] = stack.Functions[name]
		}
	}
	base := local.NewFunction(local.FunctionConfig{Name: "minimal", Binary: minimalBinary, Timeout: 10 * time.Second, MemoryMB: 128, Output: io.Discard},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	fns["minimal"] = base
	names := []string{"minimal", "AcceptFunction", "InviteFunction", "ProvisionFunction"}
	results := map[string][]time.Duration{}
	for i := 0; i < 15; i++ {
		for _, name := range names {
			f := fns[name].Fresh()
			_, err := f.Invoke(context.Background(), events[name])
			var fe *local.FunctionError
			if err != nil && !asFunctionError(err, &fe) {
				return fmt.Errorf("cold start %s: %w", name, err)
			}
			st := f.Stats()
			f.Close()
			if len(st.FirstResponses) != 1 {
				return fmt.Errorf("cold start %s: no first response recorded", name)
			}
			results[name] = append(results[name], st.FirstResponses[0])
		}
	}
	baseline := median(results["minimal"])
	out("## Cold start under the local runner\n\nProcess start to the end of the first invocation, median of 15 (interleaved), host binaries.\n\n| function | median | vs minimal handler | target |\n|---|---:|---:|---|\n")
	for _, name := range names {
		m := median(results[name])
		ratio := float64(m) / float64(baseline)
		verdict := "at most 1.5x"
		if ratio > 1.5 {
			verdict = "**over 1.5x**"
		}
		if name == "minimal" {
			verdict = "baseline"
		}
		out("| %s | %s | %.2fx | %s |\n", name, m.Round(100*time.Microsecond), ratio, verdict)
	}
	out("\n")
	return nil
}

func asFunctionError(err error, target **local.FunctionError) bool {
	fe, ok := err.(*local.FunctionError)
	if ok {
		*target = fe
	}
	return ok
}

func apiEvent(method, path, body, token string) []byte {
	headers := map[string]string{"content-type": "application/json"}
	if token != "" {
		headers["authorization"] = "Bearer " + token
	}
	b, _ := json.Marshal(map[string]any{
		"version": "2.0", "routeKey": method + " " + path, "rawPath": path, "headers": headers, "body": body,
		"requestContext": map[string]any{"requestId": "bench", "domainName": "127.0.0.1", "http": map[string]any{"method": method, "path": path}},
	})
	return b
}

type bench struct {
	stack      *local.Stack
	counter    *requestCounter
	table      string
	run        string
	admin      string // access token
	orgID      string
	unit       string
	invitation string
}

func (b *bench) call(method, path, token string, body any, out any) (int, error) {
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.stack.APIURL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil {
		json.Unmarshal(data, out)
	}
	return res.StatusCode, nil
}

var tokenRE = regexp.MustCompile(`#token=([A-Za-z0-9_-]{43})`)

// tokens reads the newest invitation token for each recipient from the SES
// emulator.
func tokens(recipients []string) (map[string]string, error) {
	want := map[string]bool{}
	for _, r := range recipients {
		want[r] = true
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(env("SES_ENDPOINT", "http://127.0.0.1:8005") + "/store")
		if err != nil {
			return nil, err
		}
		var store struct {
			Emails []struct {
				Destination struct{ To []string } `json:"destination"`
				Body        struct{ Text string } `json:"body"`
			} `json:"emails"`
		}
		json.NewDecoder(res.Body).Decode(&store)
		res.Body.Close()
		found := map[string]string{}
		for _, e := range store.Emails {
			for _, to := range e.Destination.To {
				if m := tokenRE.FindStringSubmatch(e.Body.Text); want[to] && m != nil {
					found[to] = m[1]
				}
			}
		}
		if len(found) == len(want) {
			return found, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d invitation emails arrived", len(found), len(want))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type opRow struct {
	name     string
	ops      map[string]int
	rcu, wcu float64
}

// measure runs do once and records what it cost in DynamoDB.
func (b *bench) measure(rows *[]opRow, name string, do func() error) error {
	b.counter.take()
	if err := do(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	ops, rcu, wcu := b.counter.take()
	*rows = append(*rows, opRow{name, ops, rcu, wcu})
	return nil
}

// expect calls the API and checks the status.
func (b *bench) expect(method, path, token string, body any, out any, want int) error {
	st, err := b.call(method, path, token, body, out)
	if err == nil && st != want {
		err = fmt.Errorf("%s %s: status %d, want %d", method, path, st, want)
	}
	return err
}

func (b *bench) requestsPerOperation() error {
	adminEmail := "bench-admin-" + b.run + "@example.no"
	var rows []opRow
	err := b.measure(&rows, "provision (organisation + first invitation)", func() error {
		payload, _ := json.Marshal(map[string]string{"name": "Bench Org", "adminEmail": adminEmail, "defaultPhoneRegion": "NO"})
		res, err := http.Post(b.stack.InvokeURL+"/2015-03-31/functions/ProvisionFunction/invocations", "application/json", bytes.NewReader(payload))
		if err != nil {
			return err
		}
		defer res.Body.Close()
		var prov struct{ OrgID string }
		json.NewDecoder(res.Body).Decode(&prov)
		b.orgID = prov.OrgID
		return nil
	})
	if err != nil {
		return err
	}
	toks, err := tokens([]string{adminEmail})
	if err != nil {
		return err
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"preview", func() error {
			return b.expect("POST", "/invitations/preview", "", map[string]string{"token": toks[adminEmail]}, nil, 200)
		}},
		{"accept (new account)", func() error {
			return b.expect("POST", "/invitations/accept", "", map[string]any{"token": toks[adminEmail], "firstName": "B", "lastName": "A",
				"password": "a bench passphrase", "acceptTerms": true, "termsVersion": "2026-01"}, nil, 201)
		}},
		{"sign-in", func() error {
			var session struct{ AccessToken string }
			err := b.expect("POST", "/auth/sign-in", "", map[string]string{"email": adminEmail, "password": "a bench passphrase"}, &session, 200)
			b.admin = session.AccessToken
			return err
		}},
		{"GET /me", func() error { return b.expect("GET", "/me", b.admin, nil, nil, 200) }},
		{"PATCH settings (rate limits up for the bench)", func() error {
			return b.expect("PATCH", "/orgs/"+b.orgID+"/settings", b.admin, map[string]any{
				"rateLimits": map[string]int{"invitationsPerHour": 100000, "emailsPerRecipientPerDay": 50}}, nil, 200)
		}},
		{"create a unit", func() error {
			var u struct{ UnitID string }
			err := b.expect("POST", "/orgs/"+b.orgID+"/units", b.admin, map[string]string{"name": "Bench Unit"}, &u, 201)
			b.unit = u.UnitID
			return err
		}},
		{"invite (new person, phone, one unit)", func() error {
			var inv struct{ InvitationID string }
			err := b.expect("POST", "/orgs/"+b.orgID+"/invitations", b.admin, map[string]any{"email": "bench-one-" + b.run + "@example.no",
				"role": "member", "phone": "915 12 345", "units": []string{b.unit}}, &inv, 201)
			b.invitation = inv.InvitationID
			return err
		}},
		{"GET one invitation", func() error {
			return b.expect("GET", "/orgs/"+b.orgID+"/invitations/"+b.invitation, b.admin, nil, nil, 200)
		}},
		{"resend", func() error {
			return b.expect("POST", "/orgs/"+b.orgID+"/invitations/"+b.invitation+"/resend", b.admin, nil, nil, 200)
		}},
	}
	for _, st := range steps {
		if err := b.measure(&rows, st.name, st.do); err != nil {
			return err
		}
	}
	// A full page: 60 invitations exist, the list asks for 50.
	for i := 0; i < 60; i++ {
		if err := b.expect("POST", "/orgs/"+b.orgID+"/invitations", b.admin, map[string]any{"email": fmt.Sprintf("bench-page-%s-%d@example.no", b.run, i), "role": "member"}, nil, 201); err != nil {
			return err
		}
	}
	more := []struct {
		name string
		do   func() error
	}{
		{"list invitations, a page of 50", func() error {
			var page struct{ Items []any }
			if err := b.expect("GET", "/orgs/"+b.orgID+"/invitations?limit=50", b.admin, nil, &page, 200); err != nil {
				return err
			}
			if len(page.Items) != 50 {
				return fmt.Errorf("page of %d", len(page.Items))
			}
			return nil
		}},
		{"list pending invitations, a page of 50", func() error {
			return b.expect("GET", "/orgs/"+b.orgID+"/invitations?status=pending&limit=50", b.admin, nil, nil, 200)
		}},
		{"list members", func() error { return b.expect("GET", "/orgs/"+b.orgID+"/members", b.admin, nil, nil, 200) }},
		{"revoke", func() error {
			return b.expect("DELETE", "/orgs/"+b.orgID+"/invitations/"+b.invitation, b.admin, nil, nil, 200)
		}},
		{"GET settings", func() error { return b.expect("GET", "/orgs/"+b.orgID+"/settings", b.admin, nil, nil, 200) }},
		{"audit trail, a page of 50", func() error {
			return b.expect("GET", "/orgs/"+b.orgID+"/audit?limit=50", b.admin, nil, nil, 200)
		}},
	}
	for _, st := range more {
		if err := b.measure(&rows, st.name, st.do); err != nil {
			return err
		}
	}

	out("## DynamoDB requests and consumed capacity per operation\n\nCounted by a proxy in front of DynamoDB Local while the real binaries served each request once; capacity as DynamoDB Local reports it (ReturnConsumedCapacity), except transactions, whose write units are counted from their items as DynamoDB charges them (2 per KB of each item; DynamoDB Local reports a flat 8 for any transaction). Lists read a page in one Query, not per item.\n\n| operation | requests | by API call | read units | write units |\n|---|---:|---|---:|---:|\n")
	for _, r := range rows {
		total := 0
		var parts []string
		for op, n := range r.ops {
			total += n
			parts = append(parts, fmt.Sprintf("%s %d", op, n))
		}
		sort.Strings(parts)
		out("| %s | %d | %s | %.1f | %.1f |\n", r.name, total, strings.Join(parts, ", "), r.rcu, r.wcu)
	}
	out("\n")
	return nil
}

// latency runs n invitations and then n acceptances of them through the
// runner at concurrency 8, after a warm-up that starts the processes.
func (b *bench) latency() error {
	const n, workers = 200, 8
	emails := func(prefix string, count int) []string {
		var es []string
		for i := 0; i < count; i++ {
			es = append(es, fmt.Sprintf("%s-%s-%d@example.no", prefix, b.run, i))
		}
		return es
	}
	timed := func(items []string, do func(string) error, workers int) ([]time.Duration, error) {
		var mu sync.Mutex
		var ds []time.Duration
		var firstErr error
		work := make(chan string)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := range work {
					start := time.Now()
					err := do(it)
					d := time.Since(start)
					mu.Lock()
					ds = append(ds, d)
					if err != nil && firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}()
		}
		for _, it := range items {
			work <- it
		}
		close(work)
		wg.Wait()
		return ds, firstErr
	}
	invite := func(email string) error {
		st, err := b.call("POST", "/orgs/"+b.orgID+"/invitations", b.admin, map[string]any{"email": email, "firstName": "Bench", "role": "member", "phone": "915 12 345"}, nil)
		if err == nil && st != 201 {
			err = fmt.Errorf("invite %s: status %d", email, st)
		}
		return err
	}
	warm := emails("bench-warm", 2*workers)
	if _, err := timed(warm, invite, workers); err != nil {
		return err
	}
	serial := emails("bench-serial", 20)
	b.counter.takeTimes()
	inviteSerial, err := timed(serial, invite, 1)
	if err != nil {
		return err
	}
	emulator := b.counter.takeTimes()
	people := emails("bench-person", n)
	ids := map[string]string{}
	var idsMu sync.Mutex
	inviteTimes, err := timed(people, func(email string) error {
		var inv struct{ InvitationID string }
		st, err := b.call("POST", "/orgs/"+b.orgID+"/invitations", b.admin, map[string]any{"email": email, "firstName": "Bench", "role": "member", "phone": "915 12 345"}, &inv)
		if err == nil && st != 201 {
			err = fmt.Errorf("invite %s: status %d", email, st)
		}
		idsMu.Lock()
		ids[email] = inv.InvitationID
		idsMu.Unlock()
		return err
	}, workers)
	if err != nil {
		return err
	}
	listTimes, err := timed(people, func(string) error {
		st, err := b.call("GET", "/orgs/"+b.orgID+"/invitations?limit=50", b.admin, nil, nil)
		if err == nil && st != 200 {
			err = fmt.Errorf("list: status %d", st)
		}
		return err
	}, workers)
	if err != nil {
		return err
	}
	resendTimes, err := timed(people, func(email string) error {
		st, err := b.call("POST", "/orgs/"+b.orgID+"/invitations/"+ids[email]+"/resend", b.admin, nil, nil)
		if err == nil && st != 200 {
			err = fmt.Errorf("resend %s: status %d", email, st)
		}
		return err
	}, workers)
	if err != nil {
		return err
	}
	toks, err := tokens(append(append(warm, serial...), people...))
	if err != nil {
		return err
	}
	accept := func(email string) error {
		st, err := b.call("POST", "/invitations/accept", "", map[string]any{"token": toks[email], "firstName": "Bench", "lastName": "Person",
			"password": "a bench passphrase", "acceptTerms": true, "termsVersion": "2026-01"}, nil)
		if err == nil && st != 201 {
			err = fmt.Errorf("accept %s: status %d", email, st)
		}
		return err
	}
	if _, err := timed(warm, accept, workers); err != nil {
		return err
	}
	b.counter.takeTimes()
	acceptSerial, err := timed(serial, accept, 1)
	if err != nil {
		return err
	}
	for op, ds := range b.counter.takeTimes() {
		emulator[op] = append(emulator[op], ds...)
	}
	acceptTimes, err := timed(people, accept, workers)
	if err != nil {
		return err
	}
	ms := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
	out("## Latency through the local runner\n\nHTTP API -> runner -> bootstrap -> DynamoDB Local and the SES emulator, all on this 2-core machine, after a warm-up of %d requests.\n"+
		"At concurrency 8 the two cores are shared by 8 function processes, DynamoDB Local (Java) and the SES emulator (Node), so the figures measure queueing as much as the code.\n\n"+
		"| operation | concurrency 1 (%d requests) p50 | concurrency 8 (%d requests) p50 | concurrency 8 p99 |\n|---|---:|---:|---:|\n", len(warm), len(serial), n)
	out("| invite | %s | %s | %s |\n", ms(percentile(inviteSerial, 0.5)), ms(percentile(inviteTimes, 0.5)), ms(percentile(inviteTimes, 0.99)))
	out("| list invitations (page of 50) | | %s | %s |\n", ms(percentile(listTimes, 0.5)), ms(percentile(listTimes, 0.99)))
	out("| resend | | %s | %s |\n", ms(percentile(resendTimes, 0.5)), ms(percentile(resendTimes, 0.99)))
	out("| accept (argon2id hash included) | %s | %s | %s |\n\n", ms(percentile(acceptSerial, 0.5)), ms(percentile(acceptTimes, 0.5)), ms(percentile(acceptTimes, 0.99)))
	var ops []string
	for op := range emulator {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	out("Of that, DynamoDB Local's own median time per call at concurrency 1 (timed at the counting proxy):")
	for i, op := range ops {
		sep := ","
		if i == len(ops)-1 {
			sep = "."
		}
		out(" %s %s%s", op, ms(median(emulator[op])), sep)
	}
	out(" On DynamoDB itself these calls take single-digit milliseconds.\n")
	return nil
}

func deleteTable(name string) {
	client := dynamodb.NewFromConfig(local.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(env("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"))
	})
	client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
}

// countedStack starts the runner on table and bucket with the DynamoDB
// requests counted on their way to DynamoDB Local.
func countedStack(host, stateDir, table, bucket string) (*local.Stack, *requestCounter, error) {
	counter, err := newRequestCounter(env("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"))
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	go http.Serve(ln, counter)
	stack, err := local.Start(context.Background(), local.Config{
		Template: "template.yaml", BuildDir: host, StateDir: stateDir,
		Table: table, Bucket: bucket, NoStream: true,
		APIAddr: "127.0.0.1:0", InvokeAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0",
		DynamoDBEndpoint: "http://" + ln.Addr().String(), SESEndpoint: env("SES_ENDPOINT", "http://127.0.0.1:8005"),
		KMSEndpoint:    env("KMS_ENDPOINT", "http://127.0.0.1:8010"),
		MaxConcurrency: 8, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), FunctionOutput: io.Discard,
	})
	return stack, counter, err
}

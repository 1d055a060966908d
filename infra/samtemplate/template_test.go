package samtemplate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"onboarding/shared/importjob"
	"onboarding/shared/roster"
)

func load(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func localContext() Context {
	return Context{
		Parameters: map[string]any{"PublicBaseUrl": "http://127.0.0.1:3000"},
		Refs:       map[string]string{"Table": "local-table", "SigningKey": "local-key", "Bucket": "local-bucket"},
		Attrs:      map[string]string{},
		Pseudo:     map[string]string{"AWS::StackName": "onboarding-local", "AWS::Region": "eu-north-1", "AWS::AccountId": "000000000000", "AWS::Partition": "aws"},
	}
}

func TestFunctionsFromTemplate(t *testing.T) {
	tpl := load(t)
	fns, err := tpl.Functions(localContext())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Function{}
	for _, f := range fns {
		byName[f.Dir] = f
	}
	for _, want := range []string{"provision", "invite", "accept"} {
		if _, ok := byName[want]; !ok {
			t.Fatalf("function %s missing; have %v", want, byName)
		}
	}
	inv := byName["invite"]
	if inv.Environment["TABLE_NAME"] != "local-table" || inv.Environment["PUBLIC_BASE_URL"] != "http://127.0.0.1:3000" {
		t.Fatalf("invite env %v", inv.Environment)
	}
	if byName["accept"].Environment["TOKEN_ISSUER"] != "urn:onboarding:onboarding-local" {
		t.Fatalf("Sub not resolved: %v", byName["accept"].Environment)
	}
	if byName["accept"].MemoryMB != 1024 || inv.MemoryMB != 256 || inv.TimeoutSec != 10 {
		t.Fatalf("memory/timeout from globals wrong: %d %d %d", byName["accept"].MemoryMB, inv.MemoryMB, inv.TimeoutSec)
	}
	var found bool
	for _, r := range inv.Routes {
		if r.Key() == "POST /orgs/{orgId}/invitations" {
			found = true
		}
	}
	if !found {
		t.Fatalf("invite routes %v", inv.Routes)
	}
	// At least the public routes of before the account features (#13) and
	// the account features' seven, and refresh among them.
	acceptRoutes := map[string]bool{}
	for _, r := range byName["accept"].Routes {
		acceptRoutes[r.Key()] = true
	}
	if len(acceptRoutes) < 15 || !acceptRoutes["POST /auth/sign-in"] || !acceptRoutes["POST /auth/refresh"] {
		t.Fatalf("accept routes %v", byName["accept"].Routes)
	}
	sweep := byName["sweep"]
	if len(sweep.Schedules) != 1 || sweep.Schedules[0].Expression != "rate(15 minutes)" ||
		!strings.Contains(sweep.Schedules[0].Input, "<aws.scheduler.scheduled-time>") {
		t.Fatalf("sweep schedules %+v", sweep.Schedules)
	}
	if sweep.TimeoutSec != 240 || sweep.Environment["PUBLIC_BASE_URL"] != "http://127.0.0.1:3000" {
		t.Fatalf("sweep %d %v", sweep.TimeoutSec, sweep.Environment)
	}
}

func TestTableFromTemplate(t *testing.T) {
	tbl, err := load(t).Table("Table", "t1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Create.KeySchema) != 2 || len(tbl.Create.GlobalSecondaryIndexes) != 3 || tbl.TTLAttribute != "ttl" {
		t.Fatalf("table %+v ttl=%q", tbl.Create, tbl.TTLAttribute)
	}
	if tbl.Create.StreamSpecification == nil || tbl.Create.StreamSpecification.StreamViewType != "NEW_AND_OLD_IMAGES" {
		t.Fatal("stream spec missing")
	}
}

// Conditions are evaluated with the parameters, and AWS::NoValue drops the
// property: the ingest function's reserved concurrency follows its parameter.
func TestConditionsAndReservedConcurrency(t *testing.T) {
	tpl := load(t)
	reserved := func(params map[string]any) int {
		c := localContext()
		c.Parameters = params
		fns, err := tpl.Functions(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fns {
			if f.Name == "IngestFunction" {
				return f.ReservedConcurrency
			}
		}
		t.Fatal("no IngestFunction")
		return 0
	}
	if got := reserved(map[string]any{}); got != 5 {
		t.Errorf("default: reserved %d, want 5", got)
	}
	if got := reserved(map[string]any{"IngestConcurrency": 2}); got != 2 {
		t.Errorf("IngestConcurrency=2: reserved %d", got)
	}
	if got := reserved(map[string]any{"IngestConcurrency": 0}); got != 0 {
		t.Errorf("IngestConcurrency=0: reserved %d, want none", got)
	}
}

// IAM wildcards: * runs across colons and slashes, ? is one character,
// actions compare without regard to case.
func TestStatementMatches(t *testing.T) {
	s := Statement{Effect: "Allow", Actions: []string{"dynamodb:Get*", "S3:PutObject"},
		Resources: []string{"arn:aws:dynamodb:*:*:table/t", "arn:aws:s3:::b/imports/*", "arn:aws:lambda:r:1:function:stack-Ingest-????"}}
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"dynamodb:GetItem", "arn:aws:dynamodb:eu-north-1:000000000000:table/t", true},
		{"DynamoDB:getitem", "arn:aws:dynamodb:eu-north-1:000000000000:table/t", true},
		{"dynamodb:GetItem", "arn:aws:dynamodb:eu-north-1:000000000000:table/t/index/GSI1", false},
		{"dynamodb:PutItem", "arn:aws:dynamodb:eu-north-1:000000000000:table/t", false},
		{"s3:PutObject", "arn:aws:s3:::b/imports/org/a/b.csv", true},
		{"s3:PutObject", "arn:aws:s3:::b/reports/x", false},
		{"dynamodb:GetItem", "arn:aws:lambda:r:1:function:stack-Ingest-ABCD", true}, // every action on every resource listed
		{"s3:PutObject", "arn:aws:lambda:r:1:function:stack-Ingest-ABCD", true},
		{"s3:PutObject", "arn:aws:lambda:r:1:function:stack-Ingest-ABCDE", false},
	} {
		if got := s.Matches(c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.action, c.resource, got, c.want)
		}
	}
	not := Statement{Effect: "Allow", NotActions: []string{"iam:*"}, Resources: []string{"*"}}
	if !not.Matches("s3:GetObject", "x") || not.Matches("iam:PassRole", "x") {
		t.Error("NotAction")
	}
}

// Every function that builds links reads PUBLIC_BASE_URL: the
// PublicBaseUrl parameter, or when that is empty the API's own URL. The
// API's own functions cannot be given its URL (the API names them: a cycle
// CloudFormation refuses); they fall back to the domain API Gateway received
// the request on (httpapi.Request.BaseURL), never to a request's headers.
func TestEveryFunctionGetsAPublicBaseURL(t *testing.T) {
	tpl := load(t)
	for _, name := range []string{"ProvisionFunction", "InviteFunction", "AcceptFunction", "ImportsFunction", "IngestFunction", "SweepFunction"} {
		props := tpl.Resources[name].Properties
		env, _ := props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if servesAPI(props) {
			if ref, _ := vars["PUBLIC_BASE_URL"].(map[string]any); ref["Ref"] != "PublicBaseUrl" {
				t.Errorf("%s: PUBLIC_BASE_URL is %v, want !Ref PublicBaseUrl", name, vars["PUBLIC_BASE_URL"])
			}
			continue
		}
		v, ok := vars["PUBLIC_BASE_URL"].(map[string]any)
		args, _ := v["Fn::If"].([]any)
		if !ok || len(args) != 3 || args[0] != "NoPublicBaseUrl" {
			t.Errorf("%s: PUBLIC_BASE_URL is %v, want !If [NoPublicBaseUrl, the API's URL, !Ref PublicBaseUrl]", name, vars["PUBLIC_BASE_URL"])
			continue
		}
		apiURL, _ := args[1].(map[string]any)
		ref, _ := args[2].(map[string]any)
		if !strings.Contains(fmt.Sprint(apiURL["Fn::Sub"]), "${HttpApi}.execute-api.") || ref["Ref"] != "PublicBaseUrl" {
			t.Errorf("%s: PUBLIC_BASE_URL is %v", name, args)
		}
	}
	// No function the API routes to names the API in its environment.
	for _, name := range tpl.Names("AWS::Serverless::Function") {
		props := tpl.Resources[name].Properties
		if env := fmt.Sprint(props["Environment"]); servesAPI(props) && strings.Contains(env, "HttpApi") {
			t.Errorf("%s names HttpApi in its environment, and the API names it: a circular dependency (%s)", name, env)
		}
	}
}

// servesAPI says a function has HttpApi events.
func servesAPI(props map[string]any) bool {
	events, _ := props["Events"].(map[string]any)
	for _, ev := range events {
		if e, _ := ev.(map[string]any); e["Type"] == "HttpApi" {
			return true
		}
	}
	return false
}

// Uploads and reports hold personal data: the bucket's lifecycle deletes
// them after the configured days, noncurrent versions included (the bucket
// is versioned, so an expiry alone would only hide them).
func TestBucketExpiresPersonalData(t *testing.T) {
	tpl := load(t)
	lc, _ := tpl.Resources["Bucket"].Properties["LifecycleConfiguration"].(map[string]any)
	rules := list(lc["Rules"])
	for prefix, param := range map[string]string{"imports/": "UploadRetentionDays", "reports/": "ReportRetentionDays"} {
		if tpl.Parameters[param] != 30 {
			t.Errorf("parameter %s defaults to %v, want 30", param, tpl.Parameters[param])
		}
		var rule map[string]any
		for _, r := range rules {
			if r["Prefix"] == prefix && r["Status"] == "Enabled" {
				rule = r
			}
		}
		if rule == nil {
			t.Errorf("no enabled lifecycle rule for %s", prefix)
			continue
		}
		if ref, _ := rule["ExpirationInDays"].(map[string]any); ref["Ref"] != param {
			t.Errorf("%s expires after %v, want !Ref %s", prefix, rule["ExpirationInDays"], param)
		}
		nv, _ := rule["NoncurrentVersionExpiration"].(map[string]any)
		if days, ok := nv["NoncurrentDays"].(int); !ok || days < 1 || days > 7 {
			t.Errorf("%s keeps noncurrent versions %v, want a few days at most", prefix, rule["NoncurrentVersionExpiration"])
		}
	}
}

// CloudFormation refuses a template whose resources depend on each other in
// a circle; SAM adds edges of its own (an HTTP API names the functions it
// routes to, a bucket the functions it notifies), which make cycles easy to
// miss (ingest and sweep name the API for their links).
func TestNoCircularDependencies(t *testing.T) {
	tpl := load(t)
	if cycle := dependencyCycle(tpl); cycle != nil {
		t.Fatalf("circular dependency: %s", strings.Join(cycle, " -> "))
	}
}

// dependencyCycle returns a cycle of resources that depend on each other, or nil.
func dependencyCycle(tpl *Template) []string {
	deps := map[string]map[string]bool{}
	add := func(from, to string) {
		if _, ok := tpl.Resources[to]; !ok || from == to {
			return
		}
		if deps[from] == nil {
			deps[from] = map[string]bool{}
		}
		deps[from][to] = true
	}
	var walk func(from string, v any)
	walk = func(from string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, arg := range x {
				switch k {
				case "Ref":
					add(from, fmt.Sprint(arg))
				case "Fn::GetAtt":
					if parts, ok := arg.([]any); ok && len(parts) > 0 {
						add(from, fmt.Sprint(parts[0]))
					}
				case "Fn::Sub":
					for _, m := range subVar.FindAllStringSubmatch(fmt.Sprint(arg), -1) {
						name, _, _ := strings.Cut(m[1], ".")
						add(from, name)
					}
				}
				walk(from, arg)
			}
		case []any:
			for _, e := range x {
				walk(from, e)
			}
		}
	}
	for name, r := range tpl.Resources {
		for k, v := range r.Properties {
			if k != "Events" { // SAM turns a function's events around: see below
				walk(name, v)
			}
		}
		events, _ := r.Properties["Events"].(map[string]any)
		for _, ev := range events {
			e, _ := ev.(map[string]any)
			p, _ := e["Properties"].(map[string]any)
			var target any
			switch e["Type"] {
			case "HttpApi":
				target = p["ApiId"]
			case "S3":
				target = p["Bucket"]
			}
			if ref, ok := target.(map[string]any); ok {
				add(fmt.Sprint(ref["Ref"]), name) // the API or bucket names the function
			}
		}
	}
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = open
		path = append(path, n)
		next := make([]string, 0, len(deps[n]))
		for d := range deps[n] {
			next = append(next, d)
		}
		sort.Strings(next)
		for _, d := range next {
			switch state[d] {
			case open:
				for i, p := range path {
					if p == d {
						return append(append([]string{}, path[i:]...), d)
					}
				}
			case unseen:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	names := make([]string, 0, len(tpl.Resources))
	for n := range tpl.Resources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// The ingest function's limits on reading a workbook derive from its
// memory and /tmp (roster.ForFunction): the template sets EphemeralStorage
// explicitly and hands the same size to the code, and the limits fit both
// while still reading the largest roster the row limit allows.
func TestIngestLimitsFitItsFunction(t *testing.T) {
	tpl := load(t)
	es, _ := tpl.Resources["IngestFunction"].Properties["EphemeralStorage"].(map[string]any)
	tmpMB := intOf(es["Size"], 0)
	if tmpMB < 512 {
		t.Fatalf("IngestFunction sets no EphemeralStorage (%v): what a workbook may unpack to derives from it", es)
	}
	fns, err := tpl.Functions(localContext())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		if f.Name != "IngestFunction" {
			continue
		}
		if f.Environment["EPHEMERAL_STORAGE_MB"] != strconv.Itoa(tmpMB) {
			t.Fatalf("EPHEMERAL_STORAGE_MB is %q, EphemeralStorage %d", f.Environment["EPHEMERAL_STORAGE_MB"], tmpMB)
		}
		l := roster.ForFunction(f.MemoryMB, tmpMB, roster.DefaultMaxBytes, 0)
		if l.MaxTemp <= 0 || l.MaxTemp > int64(tmpMB)<<20 || l.MaxUnzipped > l.MaxTemp {
			t.Errorf("a workbook may write %d MB (unpack %d MB) to a /tmp of %d MB", l.MaxTemp>>20, l.MaxUnzipped>>20, tmpMB)
		}
		if l.MaxMemory <= 0 || l.MaxMemory+2*l.MaxBytes+roster.ProcessMemory > int64(f.MemoryMB)<<20 {
			t.Errorf("a workbook may hold %d MB next to the file (twice %d MB) and the process (%d MB) in %d MB",
				l.MaxMemory>>20, l.MaxBytes>>20, roster.ProcessMemory>>20, f.MemoryMB)
		}
		// 200,000 rows of the template's 19 columns unpack to 215 MB as one
		// sheet of inline strings (infra/bench/rosterparse make-xlsx).
		if l.MaxUnzipped < 215<<20 {
			t.Errorf("the largest roster allowed (215 MB unpacked) does not fit: %d MB", l.MaxUnzipped>>20)
		}
		return
	}
	t.Fatal("no IngestFunction")
}

// The ingest function keeps S3's events as long as the stale-import step
// waits for one before it fails an upload no run took (importjob.EventMaxAge),
// and retries a failed run twice (a run that fails for a reason of the
// service's gives its import up for the retry). One organisation's imports
// at once (importjob.MaxOpenPerOrg) stay below the runs the ingest reserves,
// so one organisation never holds every run.
func TestIngestEventsAndOrganisationPlaces(t *testing.T) {
	tpl := load(t)
	cfg, _ := tpl.Resources["IngestFunction"].Properties["EventInvokeConfig"].(map[string]any)
	if age := intOf(cfg["MaximumEventAgeInSeconds"], 0); age != int(importjob.EventMaxAge.Seconds()) {
		t.Errorf("IngestFunction's MaximumEventAgeInSeconds is %v, importjob.EventMaxAge %v", cfg["MaximumEventAgeInSeconds"], importjob.EventMaxAge)
	}
	if retries := intOf(cfg["MaximumRetryAttempts"], -1); retries != 2 {
		t.Errorf("IngestFunction's MaximumRetryAttempts is %v, want 2", cfg["MaximumRetryAttempts"])
	}
	if reserved := intOf(tpl.Parameters["IngestConcurrency"], 0); importjob.MaxOpenPerOrg >= reserved {
		t.Errorf("an organisation may have %d imports at once, and the ingest runs %d", importjob.MaxOpenPerOrg, reserved)
	}
}

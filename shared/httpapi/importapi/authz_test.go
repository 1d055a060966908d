package importapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/authtoken"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/importapi"
	"onboarding/shared/importjob"
	"onboarding/shared/ingest/ingesttest"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/signer"
)

type presigner struct{}

// PresignPut names the size it signs, as S3's URL would carry its signature.
func (presigner) PresignPut(_ context.Context, key string, size int64, _ time.Duration) (string, error) {
	return fmt.Sprintf("https://bucket/%s?content-length=%d", key, size), nil
}
func (presigner) PresignGet(_ context.Context, key string, _ time.Duration) (string, error) {
	return "https://bucket/" + key, nil
}

// Who may use the import routes: roles that invite; an import's status and
// report only its uploader and organisation-wide callers.
func TestImportRoutesAuthorization(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	key, _ := signer.NewKey()
	issuer, _ := authtoken.NewIssuer(ctx, signer.Local{Key: key}, "urn:imports", time.Hour, time.Now)
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:imports", &key.PublicKey))
	links := importjob.NewReportLinks(bytes.Repeat([]byte{7}, 32), "https://onboard.example", 30)
	// More places than the cap: this test is about who may import, and
	// opens more than importjob.MaxOpenPerOrg imports in one organisation
	// (TestImportsPerOrganisationAreCapped is about how many).
	(&importapi.Routes{Orgs: &org.Service{Store: w.Store, Now: time.Now}, Jobs: w.Store, Objects: presigner{}, Links: links, Now: time.Now,
		ReportRetention: 30 * 24 * time.Hour, MaxOpen: 10}).Register(router)

	join := func(email, role string, units ...string) string {
		w.Invite(email, role, units...)
		return w.Accept(email)
	}
	names := []string{"org-wide admin", "unit admin", "unit coordinator", "reporter", "member", "other org's admin"}
	ids := map[string]string{
		"org-wide admin":   w.Admin,
		"unit admin":       join("ua@example.no", "admin", w.Nord),
		"unit coordinator": join("uc@example.no", "coordinator", w.Nord),
		"reporter":         join("r@example.no", "reporter"),
		"member":           join("m@example.no", "member", w.Nord),
	}
	other, err := w.Svc.Provision(ctx, invite.ProvisionRequest{Name: "Other", AdminEmail: "o@example.no"})
	if err != nil {
		t.Fatal(err)
	}
	ids["other org's admin"] = w.Accept("o@example.no")
	_ = other

	do := func(actor, routeKey string, params, query map[string]string, body any) events.APIGatewayV2HTTPResponse {
		t.Helper()
		token, _, _ := issuer.Issue(ctx, ids[actor], "x@example.no", "")
		path := routeKey[strings.Index(routeKey, " ")+1:]
		for k, v := range params {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		ev := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: path, PathParameters: params, QueryStringParameters: query,
			Headers: map[string]string{"authorization": "Bearer " + token}}
		if body != nil {
			b, _ := json.Marshal(body)
			ev.Body = string(b)
		}
		res, err := router.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	call := func(actor, routeKey string, params map[string]string, body any) (int, string) {
		t.Helper()
		res := do(actor, routeKey, params, nil, body)
		return res.StatusCode, res.Body
	}
	// linkQuery is the query of an emailed report link.
	linkQuery := func(link string) map[string]string {
		u, _ := url.Parse(link)
		q := map[string]string{}
		for k, v := range u.Query() {
			q[k] = v[0]
		}
		return q
	}
	o := map[string]string{"orgId": w.OrgID}
	// An import by the org-wide admin, one by the unit coordinator.
	importID := func(actor string) string {
		status, body := call(actor, "POST /orgs/{orgId}/imports", o, map[string]any{"fileName": "roster.xlsx", "size": 2048})
		var up struct {
			ImportID string `json:"importId"`
		}
		json.Unmarshal([]byte(body), &up)
		if status != 201 || up.ImportID == "" {
			t.Fatalf("%s: %d %s", actor, status, body)
		}
		return up.ImportID
	}
	byAdmin, byCoordinator := importID("org-wide admin"), importID("unit coordinator")
	// Finished imports with reports, finished at the given time.
	finished := func(actor string, at time.Time) string {
		at = at.UTC().Truncate(time.Second)
		j := importjob.Job{ID: invite.NewID(), OrgID: w.OrgID, FileName: "r.csv", UploadedBy: ids[actor], Status: importjob.Done,
			CreatedAt: at, UpdatedAt: at, FinishedAt: &at}
		j.ReportKey = importjob.ReportKey(w.OrgID, j.ID)
		if err := w.Store.CreateImport(ctx, j); err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	doneByAdmin, doneByCoordinator := finished("org-wide admin", time.Now()), finished("unit coordinator", time.Now())
	report := "GET /orgs/{orgId}/imports/{importId}/report"

	cases := []struct {
		name, route string
		params      map[string]string
		body        any
		want        [6]int
	}{
		{"download the template", "GET /orgs/{orgId}/imports/template", o, nil, [6]int{200, 200, 200, 403, 403, 403}},
		{"start an import", "POST /orgs/{orgId}/imports", o, map[string]any{"fileName": "r.csv", "size": 10}, [6]int{201, 201, 201, 403, 403, 403}},
		{"read an org-wide admin's import", "GET /orgs/{orgId}/imports/{importId}", map[string]string{"orgId": w.OrgID, "importId": byAdmin}, nil,
			[6]int{200, 404, 404, 403, 403, 403}},
		{"read a unit coordinator's import", "GET /orgs/{orgId}/imports/{importId}", map[string]string{"orgId": w.OrgID, "importId": byCoordinator}, nil,
			[6]int{200, 404, 200, 403, 403, 403}},
		{"fetch an org-wide admin's report", report, map[string]string{"orgId": w.OrgID, "importId": doneByAdmin}, nil,
			[6]int{303, 404, 404, 403, 403, 403}},
		{"fetch a unit coordinator's report", report, map[string]string{"orgId": w.OrgID, "importId": doneByCoordinator}, nil,
			[6]int{303, 404, 303, 403, 403, 403}},
	}
	for _, tc := range cases {
		for i, actor := range names {
			if got, body := call(actor, tc.route, tc.params, tc.body); got != tc.want[i] {
				t.Errorf("%s as %s: %d, want %d (%s)", tc.name, actor, got, tc.want[i], body)
			}
		}
	}
	// The emailed report link is the capability: whoever holds it reaches
	// the report its uploader may (a caller's token plays no part), and an
	// edited one no one.
	linkRoute := "GET " + importjob.ReportLinkPath
	linkCases := []struct {
		name  string
		query map[string]string
		want  [6]int
	}{
		{"open an emailed report link", linkQuery(links.Make(w.OrgID, doneByCoordinator, "xlsx", time.Now())), [6]int{303, 303, 303, 303, 303, 303}},
		{"open an edited emailed report link", linkQuery(strings.Replace(links.Make(w.OrgID, doneByCoordinator, "xlsx", time.Now()), doneByCoordinator, doneByAdmin, 1)),
			[6]int{403, 403, 403, 403, 403, 403}},
	}
	for _, tc := range linkCases {
		for i, actor := range names {
			if res := do(actor, linkRoute, nil, tc.query, nil); res.StatusCode != tc.want[i] {
				t.Errorf("%s as %s: %d, want %d (%s)", tc.name, actor, res.StatusCode, tc.want[i], res.Body)
			}
		}
	}
	// Every import route is in the matrix.
	covered := map[string]bool{linkRoute: true}
	for _, tc := range cases {
		covered[tc.route] = true
	}
	for _, r := range router.Routes() {
		if !covered[r] {
			t.Errorf("route %s is not in the authorization matrix", r)
		}
	}
	// The report route answers with a fresh presigned URL to the format
	// asked for (XLSX by default), never cached.
	for query, want := range map[string]string{"": ".xlsx", "csv": ".csv", "XLSX": ".xlsx"} {
		res := do("org-wide admin", report, map[string]string{"orgId": w.OrgID, "importId": doneByAdmin}, map[string]string{"format": query}, nil)
		if res.StatusCode != 303 || res.Headers["Location"] != "https://bucket/"+importjob.ReportKey(w.OrgID, doneByAdmin)+want ||
			res.Headers["Cache-Control"] != "no-store" {
			t.Errorf("report ?format=%s: %d %v", query, res.StatusCode, res.Headers)
		}
	}
	if res := do("org-wide admin", report, map[string]string{"orgId": w.OrgID, "importId": doneByAdmin}, map[string]string{"format": "pdf"}, nil); res.StatusCode != 422 ||
		!strings.Contains(res.Body, "format") {
		t.Errorf("format=pdf: %d %s", res.StatusCode, res.Body)
	}
	// A parameter the route does not read is named back.
	if res := do("org-wide admin", report, map[string]string{"orgId": w.OrgID, "importId": doneByAdmin}, map[string]string{"fromat": "csv"}, nil); res.StatusCode != 422 ||
		!strings.Contains(res.Body, `"fromat"`) {
		t.Errorf("fromat=csv: %d %s", res.StatusCode, res.Body)
	}
	if res := do("org-wide admin", "GET /orgs/{orgId}/imports/template", map[string]string{"orgId": w.OrgID}, map[string]string{"lang": "nb"}, nil); res.StatusCode != 422 ||
		!strings.Contains(res.Body, `"lang"`) {
		t.Errorf("template lang=nb: %d %s", res.StatusCode, res.Body)
	}
	// No report yet is a 404; a report past its retention (the bucket's
	// lifecycle has deleted it) a 410.
	if status, body := call("org-wide admin", report, map[string]string{"orgId": w.OrgID, "importId": byAdmin}, nil); status != 404 {
		t.Errorf("no report yet: %d %s", status, body)
	}
	old := finished("org-wide admin", time.Now().Add(-31*24*time.Hour))
	if status, body := call("org-wide admin", report, map[string]string{"orgId": w.OrgID, "importId": old}, nil); status != 410 {
		t.Errorf("a report past its retention: %d %s", status, body)
	}
	// A bad file name is named.
	if status, body := call("org-wide admin", "POST /orgs/{orgId}/imports", o, map[string]any{"fileName": "roster.pdf", "size": 10}); status != 422 ||
		!strings.Contains(body, "fileName") {
		t.Fatalf("%d %s", status, body)
	}
	// The upload URL binds the size the caller declares (S3 refuses a PUT of
	// any other length); a file over the limit, or of no stated size, is
	// refused before any URL exists.
	var up struct {
		UploadURL string `json:"uploadUrl"`
	}
	status, body := call("org-wide admin", "POST /orgs/{orgId}/imports", o, map[string]any{"fileName": "roster.csv", "size": 12345})
	if json.Unmarshal([]byte(body), &up); status != 201 || !strings.HasSuffix(up.UploadURL, "?content-length=12345") {
		t.Fatalf("%d %s", status, body)
	}
	for _, bad := range []map[string]any{
		{"fileName": "roster.csv"}, {"fileName": "roster.csv", "size": 0}, {"fileName": "roster.csv", "size": -1},
		{"fileName": "roster.csv", "size": 50<<20 + 1}, {"fileName": "roster.csv", "size": "12345"},
	} {
		if status, body := call("org-wide admin", "POST /orgs/{orgId}/imports", o, bad); status != 422 || !strings.Contains(body, `"size"`) {
			t.Errorf("%v: %d %s", bad, status, body)
		}
	}
}

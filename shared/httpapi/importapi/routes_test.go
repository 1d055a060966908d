package importapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/access"
	"onboarding/shared/authtoken"
	"onboarding/shared/fault"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/importapi"
	"onboarding/shared/importjob"
	"onboarding/shared/org"
)

// The real services are what the routes' interfaces describe.
var (
	_ importapi.Orgs = (*org.Service)(nil)
	_ importapi.Jobs = importjob.JobStore(nil)
)

// importDomain is the organisation, the jobs and the bucket on fakes: it
// records the calls and answers as set.
type importDomain struct {
	calls  []string
	actor  access.Actor // who MayImport says the caller is
	mayErr error        // MayImport's refusal
	err    error        // the other calls' answer
	job    *importjob.Job
	opened bool
}

func (d *importDomain) note(format string, args ...any) {
	d.calls = append(d.calls, fmt.Sprintf(format, args...))
}

func (d *importDomain) MayImport(_ context.Context, userID, orgID string) (org.Organisation, access.Actor, error) {
	d.note("MayImport %s %s", userID, orgID)
	a := d.actor
	a.UserID, a.OrgID = userID, orgID
	return org.Organisation{ID: orgID}, a, d.mayErr
}
func (d *importDomain) ImportTemplate(_ context.Context, userID, orgID string) (org.ImportTemplate, error) {
	d.note("ImportTemplate %s %s", userID, orgID)
	return org.ImportTemplate{Roles: access.Roles{{Key: "member", Names: map[string]string{"en": "Member", "nb": "Medlem"}}}, Units: []string{"Nord"},
		Language: "nb"}, d.err
}
func (d *importDomain) OpenImport(_ context.Context, j importjob.Job, limit int) (bool, error) {
	d.note("OpenImport %s %s %s by %s full=%t confirm=%t columns=%v limit=%d", j.OrgID, j.Key, j.Status, j.UploadedBy, j.FullRoster,
		j.ConfirmRemovals, j.Columns, limit)
	return d.opened, d.err
}
func (d *importDomain) Import(_ context.Context, orgID, id string) (*importjob.Job, error) {
	d.note("Import %s %s", orgID, id)
	return d.job, d.err
}
func (d *importDomain) PresignPut(_ context.Context, key string, size int64, ttl time.Duration) (string, error) {
	d.note("PresignPut %s %d %s", key, size, ttl)
	return "https://bucket/" + key + "?signed", d.err
}
func (d *importDomain) PresignGet(_ context.Context, key string, ttl time.Duration) (string, error) {
	d.note("PresignGet %s %s", key, ttl)
	return "https://bucket/" + key + "?signed", d.err
}

type fakeTokens struct{}

func (fakeTokens) Verify(token string) (authtoken.Claims, error) {
	if token != "caller-token" {
		return authtoken.Claims{}, errors.New("not a token")
	}
	var c authtoken.Claims
	c.Subject = "caller"
	return c, nil
}

// Each import route, on fakes: what it asks of the organisation, the jobs
// and the bucket, its status, and how refusals become problem+json.
func TestImportRoutesOnFakes(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	links := importjob.NewReportLinks(bytes.Repeat([]byte{7}, 32), "https://onboard.example", 30)
	d := &importDomain{}
	rt := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), fakeTokens{})
	(&importapi.Routes{Orgs: d, Jobs: d, Objects: d, Links: links, Now: func() time.Time { return now },
		ReportRetention: 30 * 24 * time.Hour, MaxBytes: 1 << 20, MaxOpen: 2}).Register(rt)
	serve := func(route string, params, query map[string]string, body string, signedIn bool) events.APIGatewayV2HTTPResponse {
		t.Helper()
		headers := map[string]string{}
		if signedIn {
			headers["authorization"] = "Bearer caller-token"
		}
		res, err := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: route, PathParameters: params,
			QueryStringParameters: query, Headers: headers, Body: body,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1", DomainName: "api.example"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	finished := now.Add(-time.Hour)
	done := &importjob.Job{ID: "imp1", OrgID: "o1", UploadedBy: "caller", Status: importjob.Done, FinishedAt: &finished,
		ReportKey: "reports/o1/imp1/report"}
	o := map[string]string{"orgId": "o1"}
	imp := map[string]string{"orgId": "o1", "importId": "imp1"}
	linkQuery := func(link string) map[string]string {
		u, _ := url.Parse(link)
		q := map[string]string{}
		for k, v := range u.Query() {
			q[k] = v[0]
		}
		return q
	}
	cases := []struct {
		name, route   string
		params, query map[string]string
		body          string
		job           *importjob.Job
		opened        bool
		status        int
		calls         string
		check         func(res events.APIGatewayV2HTTPResponse) bool
	}{
		{"template", "GET /orgs/{orgId}/imports/template", o, nil, "", nil, false, 200, "ImportTemplate caller o1",
			func(res events.APIGatewayV2HTTPResponse) bool {
				return res.IsBase64Encoded && strings.HasPrefix(res.Headers["Content-Type"], "application/vnd.openxmlformats") &&
					res.Headers["Content-Disposition"] == `attachment; filename="roster-template-nb.xlsx"`
			}},
		{"template as CSV in Swedish", "GET /orgs/{orgId}/imports/template", o, map[string]string{"format": "CSV", "language": "sv"}, "", nil, false, 200,
			"ImportTemplate caller o1", func(res events.APIGatewayV2HTTPResponse) bool {
				return res.Headers["Content-Type"] == "text/csv; charset=utf-8" && strings.HasSuffix(res.Headers["Content-Disposition"], `-sv.csv"`)
			}},
		{"start an import", "POST /orgs/{orgId}/imports", o, nil,
			`{"fileName":"My roster.csv","size":2048,"fullRoster":true,"columns":{"Kodeord":"safeWord"}}`, nil, true, 201,
			"MayImport caller o1; OpenImport o1 imports/o1/{id}/My_roster.csv awaiting_upload by caller full=true confirm=false columns=map[Kodeord:safeWord] limit=2; " +
				"PresignPut imports/o1/{id}/My_roster.csv 2048 15m0s",
			func(res events.APIGatewayV2HTTPResponse) bool {
				var up importapi.Upload
				json.Unmarshal([]byte(res.Body), &up)
				return up.Method == "PUT" && strings.HasSuffix(up.UploadURL, "/My_roster.csv?signed") && up.ExpiresAt.Equal(now.Add(importjob.UploadWindow))
			}},
		{"read an import", "GET /orgs/{orgId}/imports/{importId}", imp, nil, "", done, false, 200, "MayImport caller o1; Import o1 imp1",
			func(res events.APIGatewayV2HTTPResponse) bool {
				var v struct{ Reports map[string]string }
				json.Unmarshal([]byte(res.Body), &v)
				return strings.HasPrefix(v.Reports["csv"], "https://api.example"+importjob.ReportLinkPath+"?") && v.Reports["xlsx"] != ""
			}},
		{"fetch the report", "GET /orgs/{orgId}/imports/{importId}/report", imp, map[string]string{"format": "csv"}, "", done, false, 303,
			"MayImport caller o1; Import o1 imp1; PresignGet reports/o1/imp1/report.csv 5m0s",
			func(res events.APIGatewayV2HTTPResponse) bool {
				return res.Headers["Location"] == "https://bucket/reports/o1/imp1/report.csv?signed" && res.Headers["Cache-Control"] == "no-store" &&
					res.Headers["Referrer-Policy"] == "no-referrer"
			}},
		{"follow an emailed link", "GET " + importjob.ReportLinkPath, nil, linkQuery(links.Make("o1", "imp1", "xlsx", now)), "", done, false, 303,
			"Import o1 imp1; MayImport caller o1; PresignGet reports/o1/imp1/report.xlsx 5m0s",
			func(res events.APIGatewayV2HTTPResponse) bool {
				return res.Headers["Location"] == "https://bucket/reports/o1/imp1/report.xlsx?signed"
			}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.route] = true
		t.Run(tc.name, func(t *testing.T) {
			*d = importDomain{job: tc.job, opened: tc.opened}
			signedIn := tc.route != "GET "+importjob.ReportLinkPath
			res := serve(tc.route, tc.params, tc.query, tc.body, signedIn)
			calls := strings.Join(d.calls, "; ")
			if id, _, ok := strings.Cut(strings.TrimPrefix(calls, "MayImport caller o1; OpenImport o1 imports/o1/"), "/"); ok && tc.opened {
				calls = strings.ReplaceAll(calls, id, "{id}")
			}
			if res.StatusCode != tc.status || calls != tc.calls || !tc.check(res) {
				t.Fatalf("%d %v %s\ncalls %s\nwant %d, calls %s", res.StatusCode, res.Headers, res.Body, calls, tc.status, tc.calls)
			}
			if signedIn {
				d.calls = nil
				if res := serve(tc.route, tc.params, tc.query, tc.body, false); res.StatusCode != 401 || len(d.calls) > 0 {
					t.Errorf("signed out: %d, calls %v", res.StatusCode, d.calls)
				}
			}
			// Who may import is the organisation's answer (the template's
			// own call's, for the template), kept as it is.
			d.mayErr = fault.New(fault.Forbidden, "your role may not import rosters")
			if strings.HasPrefix(tc.calls, "ImportTemplate") {
				d.err = d.mayErr
			}
			if res := serve(tc.route, tc.params, tc.query, tc.body, signedIn); res.StatusCode != 403 ||
				res.Headers["Content-Type"] != "application/problem+json" || !strings.Contains(res.Body, `"code":"forbidden"`) {
				t.Errorf("refused: %d %v %s", res.StatusCode, res.Headers, res.Body)
			}
			// A failure of the store or the bucket is an opaque 500.
			d.mayErr, d.err = nil, errors.New("s3: AccessDenied on arn:aws:s3:::bucket")
			if res := serve(tc.route, tc.params, tc.query, tc.body, signedIn); res.StatusCode != 500 || strings.Contains(res.Body, "s3") {
				t.Errorf("failed: %d %s", res.StatusCode, res.Body)
			}
		})
	}
	for _, r := range rt.Routes() {
		if !covered[r] {
			t.Errorf("route %s has no case on fakes", r)
		}
	}

	// Requests refused before anything is stored or signed.
	for _, tc := range []struct {
		name, route   string
		params, query map[string]string
		body          string
		job           *importjob.Job
		status        int
		want          string
	}{
		{"a template in no known format", "GET /orgs/{orgId}/imports/template", o, map[string]string{"format": "pdf", "language": "xx-!!"}, "", nil, 422,
			`"field":"format"`},
		{"a template in no language", "GET /orgs/{orgId}/imports/template", o, map[string]string{"language": "xx-!!"}, "", nil, 422, `"field":"language"`},
		{"a file of another kind", "POST /orgs/{orgId}/imports", o, nil, `{"fileName":"roster.pdf","size":10}`, nil, 422, `"field":"fileName"`},
		{"a file over the limit", "POST /orgs/{orgId}/imports", o, nil, `{"fileName":"roster.csv","size":1048577}`, nil, 422, `"field":"size"`},
		{"a misspelt member", "POST /orgs/{orgId}/imports", o, nil, `{"fileName":"roster.csv","size":10,"fullRooster":true}`, nil, 422,
			`"field":"fullRooster"`},
		{"an unknown import", "GET /orgs/{orgId}/imports/{importId}", imp, nil, "", nil, 404, `"code":"not_found"`},
		{"another's import, unit-scoped", "GET /orgs/{orgId}/imports/{importId}", imp, nil, "",
			&importjob.Job{ID: "imp1", OrgID: "o1", UploadedBy: "someone else"}, 404, `"code":"not_found"`},
		{"a report in no known format", "GET /orgs/{orgId}/imports/{importId}/report", imp, map[string]string{"format": "pdf"}, "", done, 422,
			`"field":"format"`},
		{"a report not yet written", "GET /orgs/{orgId}/imports/{importId}/report", imp, nil, "",
			&importjob.Job{ID: "imp1", OrgID: "o1", UploadedBy: "caller"}, 404, `"code":"not_found"`},
		{"an edited link", "GET " + importjob.ReportLinkPath, nil, linkQuery(strings.Replace(links.Make("o1", "imp1", "xlsx", now), "imp1", "imp2", 1)), "",
			done, 403, `"code":"forbidden"`},
	} {
		*d = importDomain{job: tc.job, actor: access.Actor{Units: []string{"u-a"}}}
		res := serve(tc.route, tc.params, tc.query, tc.body, tc.route != "GET "+importjob.ReportLinkPath)
		if res.StatusCode != tc.status || !strings.Contains(res.Body, tc.want) || strings.Contains(strings.Join(d.calls, " "), "Presign") ||
			strings.Contains(strings.Join(d.calls, " "), "OpenImport") {
			t.Errorf("%s: %d %s, calls %v", tc.name, res.StatusCode, res.Body, d.calls)
		}
	}

	// An organisation with every place taken: 429, and when to try again.
	*d = importDomain{opened: false}
	res := serve("POST /orgs/{orgId}/imports", o, nil, `{"fileName":"roster.csv","size":10}`, true)
	if res.StatusCode != 429 || res.Headers["Retry-After"] != "60" || !strings.Contains(res.Body, `"code":"too_many"`) ||
		strings.Contains(strings.Join(d.calls, " "), "Presign") {
		t.Errorf("no place: %d %v %s, calls %v", res.StatusCode, res.Headers, res.Body, d.calls)
	}
}

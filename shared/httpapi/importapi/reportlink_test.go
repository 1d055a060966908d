package importapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strconv"
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
	"onboarding/shared/membership"
	"onboarding/shared/org"
	"onboarding/shared/signer"
)

// The summary email's link to the report is opened in a mail client, with
// no access token: the route takes the signed link in its place, and sends
// the caller on to a URL presigned then. An edited or expired link, or a
// report gone or not yet written, is refused; so is the link of an uploader
// who has since lost the right to import.
func TestEmailedReportLinkWorksWithoutAToken(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	key, err := w.Store.CursorKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	links := importjob.NewReportLinks(key, "https://onboard.example", 30)
	now := time.Now().UTC().Truncate(time.Second)
	clock := now
	tokenKey, _ := signer.NewKey()
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:imports", &tokenKey.PublicKey))
	(&importapi.Routes{Orgs: &org.Service{Store: w.Store, Now: time.Now}, Jobs: w.Store, Objects: presigner{}, Links: links,
		Now: func() time.Time { return clock }, ReportRetention: 30 * 24 * time.Hour}).Register(router)

	job := func(uploader string, finished *time.Time) string {
		j := importjob.Job{ID: invite.NewID(), OrgID: w.OrgID, FileName: "r.csv", UploadedBy: uploader, Status: importjob.Running,
			CreatedAt: now, UpdatedAt: now}
		if finished != nil {
			j.Status, j.FinishedAt, j.ReportKey = importjob.Done, finished, importjob.ReportKey(w.OrgID, j.ID)
		}
		if err := w.Store.CreateImport(ctx, j); err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	open := func(link string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		u, err := url.Parse(link)
		if err != nil || u.Path != importjob.ReportLinkPath {
			t.Fatalf("link %s: %v", link, err)
		}
		q := map[string]string{}
		for k, v := range u.Query() {
			q[k] = strings.Join(v, ",")
		}
		res, err := router.Handle(ctx, events.APIGatewayV2HTTPRequest{RouteKey: "GET " + importjob.ReportLinkPath, RawPath: u.Path,
			RawQueryString: u.RawQuery, QueryStringParameters: q, Headers: map[string]string{}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	done := job(w.Admin, &now)
	for _, format := range []string{"xlsx", "csv"} {
		res := open(links.Make(w.OrgID, done, format, now))
		if res.StatusCode != 303 || res.Headers["Location"] != "https://bucket/"+importjob.ReportKey(w.OrgID, done)+"."+format ||
			res.Headers["Cache-Control"] != "no-store" || res.Headers["Referrer-Policy"] != "no-referrer" {
			t.Fatalf("%s link: %d %v %s", format, res.StatusCode, res.Headers, res.Body)
		}
	}

	link := links.Make(w.OrgID, done, "xlsx", now)
	edit := func(k, v string) string {
		u, _ := url.Parse(link)
		q := u.Query()
		q.Set(k, v)
		u.RawQuery = q.Encode()
		return u.String()
	}
	other := job(w.Admin, &now)
	for name, edited := range map[string]string{
		"another organisation": edit("org", "other-org"),
		"another import":       edit("import", other),
		"another format":       edit("format", "csv"),
		"a later expiry":       edit("expires", strconv.FormatInt(now.Add(30*24*time.Hour).Unix(), 10)),
		"another signature":    edit("signature", strings.Repeat("A", 43)),
	} {
		if res := open(edited); res.StatusCode != 403 || strings.Contains(res.Body, "https://bucket") {
			t.Errorf("%s: %d %s", name, res.StatusCode, res.Body)
		}
	}

	// Expired: 410, the moment its days are over.
	clock = now.Add(importjob.ReportLinkDays * 24 * time.Hour)
	if res := open(link); res.StatusCode != 410 {
		t.Errorf("expired link: %d %s", res.StatusCode, res.Body)
	}
	clock = now
	// A report past its retention (the bucket's lifecycle deleted it): 410.
	old := now.Add(-31 * 24 * time.Hour)
	if res := open(links.Make(w.OrgID, job(w.Admin, &old), "xlsx", now)); res.StatusCode != 410 {
		t.Errorf("report past its retention: %d %s", res.StatusCode, res.Body)
	}
	// No report yet, or no such import: 404.
	if res := open(links.Make(w.OrgID, job(w.Admin, nil), "xlsx", now)); res.StatusCode != 404 {
		t.Errorf("no report yet: %d %s", res.StatusCode, res.Body)
	}
	if res := open(links.Make(w.OrgID, "no-such-import", "xlsx", now)); res.StatusCode != 404 {
		t.Errorf("no such import: %d %s", res.StatusCode, res.Body)
	}
	// A file dropped into the bucket (no uploader; the summary went to the
	// configured address) opens as well.
	if res := open(links.Make(w.OrgID, job("", &now), "csv", now)); res.StatusCode != 303 {
		t.Errorf("a dropped file's report: %d %s", res.StatusCode, res.Body)
	}
	// The link acts for its uploader: once they are removed from the
	// organisation it is refused, as their signed-in requests are.
	w.Invite("uc@example.no", "coordinator", w.Nord)
	coordinator := w.Accept("uc@example.no")
	theirs := links.Make(w.OrgID, job(coordinator, &now), "xlsx", now)
	if res := open(theirs); res.StatusCode != 303 {
		t.Fatalf("the coordinator's link: %d %s", res.StatusCode, res.Body)
	}
	if err := (&membership.Service{Store: w.Store, Now: time.Now}).Remove(ctx, w.Admin, w.OrgID, coordinator); err != nil {
		t.Fatal(err)
	}
	if res := open(theirs); res.StatusCode != 403 {
		t.Errorf("a removed uploader's link: %d %s", res.StatusCode, res.Body)
	}
}

// An import's status links to its report the one way reports are handed
// out: the signed links of the summary email (GET /imports/report), under
// the API's public base URL, which work for their days and open the report
// through a URL presigned then; not presigned S3 URLs, which die with the
// credentials that signed them. A report past its retention is not linked.
func TestImportStatusLinksToTheSignedReportRoute(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	key, err := w.Store.CursorKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	links := importjob.NewReportLinks(key, "", 30)
	now := time.Now().UTC().Truncate(time.Second)
	tokenKey, _ := signer.NewKey()
	issuer, _ := authtoken.NewIssuer(ctx, signer.Local{Key: tokenKey}, "urn:imports", time.Hour, time.Now)
	token, _, _ := issuer.Issue(ctx, w.Admin, "ada@example.no", "")
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:imports", &tokenKey.PublicKey))
	(&importapi.Routes{Orgs: &org.Service{Store: w.Store, Now: time.Now}, Jobs: w.Store, Objects: presigner{}, Links: links,
		Now: func() time.Time { return now }, ReportRetention: 30 * 24 * time.Hour}).Register(router)

	job := func(finished *time.Time) string {
		j := importjob.Job{ID: invite.NewID(), OrgID: w.OrgID, FileName: "r.csv", UploadedBy: w.Admin, Status: importjob.Running,
			CreatedAt: now, UpdatedAt: now}
		if finished != nil {
			j.Status, j.FinishedAt, j.ReportKey = importjob.Done, finished, importjob.ReportKey(w.OrgID, j.ID)
		}
		if err := w.Store.CreateImport(ctx, j); err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	// The domain API Gateway received the request on (no public base URL
	// is configured here).
	const domain = "abc123.execute-api.eu-north-1.amazonaws.com"
	status := func(importID string) map[string]string {
		t.Helper()
		ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /orgs/{orgId}/imports/{importId}", RawPath: "/orgs/" + w.OrgID + "/imports/" + importID,
			PathParameters: map[string]string{"orgId": w.OrgID, "importId": importID}, Headers: map[string]string{"authorization": "Bearer " + token}}
		ev.RequestContext.DomainName = domain
		res, err := router.Handle(ctx, ev)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("status: %d %s %v", res.StatusCode, res.Body, err)
		}
		var v struct {
			Reports map[string]string `json:"reports"`
		}
		if err := json.Unmarshal([]byte(res.Body), &v); err != nil {
			t.Fatal(err)
		}
		return v.Reports
	}

	done := job(&now)
	reports := status(done)
	if len(reports) != 2 {
		t.Fatalf("reports %v", reports)
	}
	for _, format := range []string{"csv", "xlsx"} {
		u, err := url.Parse(reports[format])
		if err != nil || u.Scheme != "https" || u.Host != domain || u.Path != importjob.ReportLinkPath {
			t.Fatalf("%s: %s is not a link to %s on the API", format, reports[format], importjob.ReportLinkPath)
		}
		q := map[string]string{}
		for k, v := range u.Query() {
			q[k] = v[0]
		}
		if q["org"] != w.OrgID || q["import"] != done || q["format"] != format {
			t.Fatalf("%s: %s", format, reports[format])
		}
		// It works for the days the email's would, as the email's does.
		if l, err := links.Open(q, now.Add(time.Duration(links.Days)*24*time.Hour-time.Second)); err != nil || l.Format != format {
			t.Fatalf("%s: %v %+v", format, err, l)
		}
		res, err := router.Handle(ctx, events.APIGatewayV2HTTPRequest{RouteKey: "GET " + importjob.ReportLinkPath, RawPath: u.Path,
			RawQueryString: u.RawQuery, QueryStringParameters: q, Headers: map[string]string{}})
		if err != nil || res.StatusCode != 303 || res.Headers["Location"] != "https://bucket/"+importjob.ReportKey(w.OrgID, done)+"."+format {
			t.Fatalf("%s link: %d %v %s %v", format, res.StatusCode, res.Headers, res.Body, err)
		}
	}
	// No report yet, or one past its retention (deleted): no links.
	if r := status(job(nil)); r != nil {
		t.Errorf("an import without a report links to %v", r)
	}
	old := now.Add(-31 * 24 * time.Hour)
	if r := status(job(&old)); r != nil {
		t.Errorf("a deleted report is linked: %v", r)
	}
	// A configured public base URL wins over the request's domain.
	router = httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:imports", &tokenKey.PublicKey))
	(&importapi.Routes{Orgs: &org.Service{Store: w.Store, Now: time.Now}, Jobs: w.Store, Objects: presigner{}, Links: links,
		PublicBaseURL: "https://onboard.example", Now: func() time.Time { return now }}).Register(router)
	if r := status(done); !strings.HasPrefix(r["xlsx"], "https://onboard.example"+importjob.ReportLinkPath+"?") {
		t.Errorf("under the public base URL: %v", r)
	}
}

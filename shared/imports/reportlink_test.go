package imports_test

import (
	"context"
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
	"onboarding/shared/importjob"
	"onboarding/shared/imports"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/org"
)

// The summary email's link to the report is opened in a mail client, with
// no access token: the route takes the signed link in its place, and sends
// the caller on to a URL presigned then. An edited or expired link, or a
// report gone or not yet written, is refused; so is the link of an uploader
// who has since lost the right to import.
func TestEmailedReportLinkWorksWithoutAToken(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	key, err := w.store.CursorKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	links := importjob.NewReportLinks(key, "https://onboard.example", 30)
	now := time.Now().UTC().Truncate(time.Second)
	clock := now
	tokenKey, _ := authtoken.NewKey()
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:imports", &tokenKey.PublicKey))
	(&imports.Routes{Orgs: &org.Service{Store: w.store, Now: time.Now}, Jobs: w.store, Objects: presigner{}, Links: links,
		Now: func() time.Time { return clock }, ReportRetention: 30 * 24 * time.Hour}).Register(router)

	job := func(uploader string, finished *time.Time) string {
		j := importjob.Job{ID: invite.NewID(), OrgID: w.orgID, FileName: "r.csv", UploadedBy: uploader, Status: importjob.Running,
			CreatedAt: now, UpdatedAt: now}
		if finished != nil {
			j.Status, j.FinishedAt, j.ReportKey = importjob.Done, finished, imports.ReportKey(w.orgID, j.ID)
		}
		if err := w.store.CreateImport(ctx, j); err != nil {
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

	done := job(w.admin, &now)
	for _, format := range []string{"xlsx", "csv"} {
		res := open(links.Make(w.orgID, done, format, now))
		if res.StatusCode != 303 || res.Headers["Location"] != "https://bucket/"+imports.ReportKey(w.orgID, done)+"."+format ||
			res.Headers["Cache-Control"] != "no-store" || res.Headers["Referrer-Policy"] != "no-referrer" {
			t.Fatalf("%s link: %d %v %s", format, res.StatusCode, res.Headers, res.Body)
		}
	}

	link := links.Make(w.orgID, done, "xlsx", now)
	edit := func(k, v string) string {
		u, _ := url.Parse(link)
		q := u.Query()
		q.Set(k, v)
		u.RawQuery = q.Encode()
		return u.String()
	}
	other := job(w.admin, &now)
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
	if res := open(links.Make(w.orgID, job(w.admin, &old), "xlsx", now)); res.StatusCode != 410 {
		t.Errorf("report past its retention: %d %s", res.StatusCode, res.Body)
	}
	// No report yet, or no such import: 404.
	if res := open(links.Make(w.orgID, job(w.admin, nil), "xlsx", now)); res.StatusCode != 404 {
		t.Errorf("no report yet: %d %s", res.StatusCode, res.Body)
	}
	if res := open(links.Make(w.orgID, "no-such-import", "xlsx", now)); res.StatusCode != 404 {
		t.Errorf("no such import: %d %s", res.StatusCode, res.Body)
	}
	// A file dropped into the bucket (no uploader; the summary went to the
	// configured address) opens as well.
	if res := open(links.Make(w.orgID, job("", &now), "csv", now)); res.StatusCode != 303 {
		t.Errorf("a dropped file's report: %d %s", res.StatusCode, res.Body)
	}
	// The link acts for its uploader: once they are removed from the
	// organisation it is refused, as their signed-in requests are.
	w.invite("uc@example.no", "coordinator", w.nord)
	coordinator := w.accept("uc@example.no")
	theirs := links.Make(w.orgID, job(coordinator, &now), "xlsx", now)
	if res := open(theirs); res.StatusCode != 303 {
		t.Fatalf("the coordinator's link: %d %s", res.StatusCode, res.Body)
	}
	if err := (&membership.Service{Store: w.store, Now: time.Now}).Remove(ctx, w.admin, w.orgID, coordinator); err != nil {
		t.Fatal(err)
	}
	if res := open(theirs); res.StatusCode != 403 {
		t.Errorf("a removed uploader's link: %d %s", res.StatusCode, res.Body)
	}
}

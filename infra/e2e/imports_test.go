package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"onboarding/infra/testenv"
	"onboarding/shared/importjob"
)

// noRedirect shows a redirect instead of following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// download fetches a path with the client's token and checks it against
// the contract.
func (c *Client) download(path string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	checkContract(c.t, req, nil, res, body)
	return res, body
}

func TestImportTemplateDownload(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Template Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	createUnit(t, admin, orgID, "Nord")
	createUnit(t, admin, orgID, "Sør")

	res, body := admin.download("/orgs/" + orgID + "/imports/template?language=nb")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "roster-template-nb.xlsx") {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	header, _ := f.GetRows("Brukere")
	if len(header) != 1 || header[0][0] != "Fornavn" || header[0][2] != "E-post" {
		t.Fatalf("header %v", header)
	}
	units, _ := f.GetCols("Lister")
	var found bool
	for _, col := range units {
		if strings.TrimRight(strings.Join(col, ","), ",") == "Nord,Sør" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no unit list in %v", units)
	}

	res, body = admin.download("/orgs/" + orgID + "/imports/template?format=csv&language=fr")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil || recs[0][0] != "Prénom" {
		t.Fatalf("%q %v", recs, err)
	}

	// A bad format is a 422; a reporter may not import; no token is a 401.
	if res, _ := admin.download("/orgs/" + orgID + "/imports/template?format=pdf"); res.StatusCode != 422 {
		t.Fatalf("format=pdf: %d", res.StatusCode)
	}
	reporterEmail := "rex-" + id + "@example.no"
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": reporterEmail, "role": "reporter"}, nil), 201)
	reporter := signUp(t, s, reporterEmail, "reporter passphrase", 1)
	if res, _ := reporter.download("/orgs/" + orgID + "/imports/template"); res.StatusCode != 403 {
		t.Fatalf("reporter: %d", res.StatusCode)
	}
	if res, _ := (&Client{t: t, base: s.APIURL}).download("/orgs/" + orgID + "/imports/template"); res.StatusCode != 401 {
		t.Fatalf("no token: %d", res.StatusCode)
	}
}

// A roster through the whole path: the upload URL from the API, a PUT to the
// S3 emulator, the runner's S3 notification to the ingest binary, the
// status while it runs, the report, the invitations and the summary email.
func TestImportThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Import Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	createUnit(t, admin, orgID, "Nord")

	csvText := "Fornavn;Etternavn;E-post;Mobil;Avdeling;Eskaleringskontakt 1 navn;Eskaleringskontakt 1 telefon;" +
		"Eskaleringskontakt 2 navn;Eskaleringskontakt 2 telefon;Kodeord\r\n" +
		"Kari;Nordmann;kari-" + id + "@example.no;915 12 345;Nord;Ola;41234567;Per;41234568;hemmelig-" + id + "\r\n" +
		"Vera;V;vera-" + id + "@example.no;915 12 346;Vest;Ola;41234567;Per;41234568;\r\n"
	var up struct {
		ImportID  string `json:"importId"`
		UploadURL string `json:"uploadUrl"`
	}
	// A file over the limit gets no upload URL.
	var p problem
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/imports", map[string]any{"fileName": "huge.csv", "size": 50<<20 + 1}, &p), 422)
	if len(p.Errors) != 1 || p.Errors[0].Field != "size" {
		t.Fatalf("over the limit: %+v", p)
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/imports", map[string]any{"fileName": "Vaktliste desember.csv", "size": len(csvText)}, &up), 201)
	// The URL takes the declared size only: S3 checks the signed length.
	req, _ := http.NewRequest("PUT", up.UploadURL, strings.NewReader(csvText+"Ola;Padding;x@example.no\r\n"))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 403 {
		t.Fatalf("upload of another size: %v %v", res, err)
	}
	res.Body.Close()
	req, _ = http.NewRequest("PUT", up.UploadURL, strings.NewReader(csvText))
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("upload: %v %v", res, err)
	}
	res.Body.Close()

	var job struct {
		Status string `json:"status"`
		Counts struct {
			Rows, Created, Errors int
		} `json:"counts"`
		Reports map[string]string `json:"reports"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for job.Status != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("the import did not finish: %+v\n%s", job, logs)
		}
		time.Sleep(200 * time.Millisecond)
		mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/imports/"+up.ImportID, nil, &job), 200)
	}
	if job.Counts.Rows != 2 || job.Counts.Created != 1 || job.Counts.Errors != 1 || job.Reports["csv"] == "" {
		t.Fatalf("%+v", job)
	}
	// The status links to the report as the summary email does: signed
	// links to the public route, under the API's public base URL, which
	// send whoever follows them (no token needed) on to the report.
	for _, format := range []string{"csv", "xlsx"} {
		if !strings.HasPrefix(job.Reports[format], s.APIURL+importjob.ReportLinkPath+"?") {
			t.Fatalf("the %s report's link %s is not the signed report route", format, job.Reports[format])
		}
	}
	res, err = http.Get(job.Reports["csv"])
	if err != nil {
		t.Fatal(err)
	}
	report, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(report), "created") || !strings.Contains(string(report), "no unit") ||
		strings.Contains(string(report), "hemmelig") {
		t.Fatalf("report:\n%s", report)
	}
	// The report route sends the uploader to a URL presigned now.
	reportPath := "/orgs/" + orgID + "/imports/" + up.ImportID + "/report"
	req, _ = http.NewRequest("GET", s.APIURL+reportPath+"?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+admin.token)
	res, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	checkContract(t, req, nil, res, nil)
	if res.StatusCode != 303 || res.Header.Get("Location") == "" {
		t.Fatalf("report route: %d %v", res.StatusCode, res.Header)
	}
	res, err = http.Get(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	viaRoute, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(viaRoute) != string(report) {
		t.Fatalf("report through the route: %d\n%s", res.StatusCode, viaRoute)
	}
	// Kari's invitation was queued; the import started a sweep, which sends
	// it at the mail service's pace without waiting for the schedule.
	InvitationToken(t, "kari-"+id+"@example.no", 1)
	// The uploader gets the summary, linking to the report through a signed
	// link (a URL presigned for the email would die with the function's
	// credentials), which works in a mail client, with no access token,
	// for the days the email states.
	mails := testenv.WaitForEmails(t, adminEmail, 2)
	summary := mails[len(mails)-1].Body.Text
	var link string
	for _, line := range strings.Split(summary, "\n") {
		if strings.HasPrefix(line, s.APIURL+importjob.ReportLinkPath+"?") {
			link = strings.TrimSpace(line)
		}
	}
	if link == "" || strings.Contains(summary, "X-Amz-") || !strings.Contains(summary, fmt.Sprintf(" %d days", importjob.ReportLinkDays)) {
		t.Fatalf("summary:\n%s", summary)
	}
	openLink := func(link string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", link, nil)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		checkContract(t, req, nil, res, body)
		return res
	}
	res = openLink(link)
	if res.StatusCode != 303 || res.Header.Get("Location") == "" || res.Header.Get("Cache-Control") != "no-store" ||
		res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the emailed link: %d %v", res.StatusCode, res.Header)
	}
	res, err = http.Get(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	xlsxReport, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if f, err := excelize.OpenReader(bytes.NewReader(xlsxReport)); res.StatusCode != 200 || err != nil {
		t.Fatalf("the emailed link's report: %d %v", res.StatusCode, err)
	} else {
		f.Close()
	}
	// An edited link is refused: another format, or the import's id in
	// another organisation.
	for _, edited := range []string{strings.Replace(link, "format=xlsx", "format=csv", 1),
		strings.Replace(link, "org="+orgID, "org="+testenv.RandomID(), 1)} {
		if edited == link {
			t.Fatalf("no edit of %s", link)
		}
		if res := openLink(edited); res.StatusCode != 403 || res.Header.Get("Location") != "" {
			t.Fatalf("an edited link: %d %v", res.StatusCode, res.Header)
		}
	}
	if u, _ := url.Parse(link); strings.Contains(logs.String(), u.Query().Get("signature")) {
		t.Fatal("the link's signature is in the logs")
	}
	if strings.Contains(logs.String(), "hemmelig-"+id) {
		t.Fatal("the safe word is in the logs")
	}
}

// Columns through the whole path: a column mapping with the import, the
// status naming the columns not read (against the contract), the report
// listing them first; a mapping naming no field, and a member of the body
// the route does not know, are 422s naming them.
func TestImportColumnsThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Column Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	createUnit(t, admin, orgID, "Nord")

	csvText := "Fornavn;Etternavn;Jobb-epost;Mobil;Avdeling;Leder;Leder tlf;Verneombud;Verneombud tlf;Passord ved alarm;Skostørrelse;\r\n" +
		"Kari;Nordmann;kari-" + id + "@example.no;915 12 345;Nord;Ola;41234567;Per;41234568;hemmelig-" + id + ";42;bil-" + id + "\r\n"
	columns := map[string]string{"Jobb-epost": "email", "Leder": "escalationContact1Name", "Leder tlf": "escalationContact1Phone",
		"Verneombud": "escalationContact2Name", "Verneombud tlf": "escalationContact2Phone", "Passord ved alarm": "safeWord"}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"fileName": "r.csv", "size": 100, "columns": map[string]string{"Passord ved alarm": "password"}}, "columns.Passord ved alarm"},
		{map[string]any{"fileName": "r.csv", "size": 100, "columnMapping": columns}, "columnMapping"},
	} {
		var problem struct {
			Errors []struct{ Field string } `json:"errors"`
		}
		mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/imports", bad.body, &problem), 422)
		if len(problem.Errors) != 1 || problem.Errors[0].Field != bad.field {
			t.Fatalf("%v: %+v", bad.body, problem)
		}
	}

	var up struct {
		ImportID  string `json:"importId"`
		UploadURL string `json:"uploadUrl"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/imports", map[string]any{"fileName": "vakter.csv", "size": len(csvText), "columns": columns}, &up), 201)
	req, _ := http.NewRequest("PUT", up.UploadURL, strings.NewReader(csvText))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("upload: %v %v", res, err)
	}
	res.Body.Close()

	var job struct {
		Status   string            `json:"status"`
		Columns  map[string]string `json:"columns"`
		Counts   struct{ Created int }
		Warnings []struct {
			Column, Header, Reason, Message string
			Row                             int
		} `json:"warnings"`
		Reports map[string]string `json:"reports"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for job.Status != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("the import did not finish: %+v\n%s", job, logs)
		}
		time.Sleep(200 * time.Millisecond)
		mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/imports/"+up.ImportID, nil, &job), 200)
	}
	if job.Counts.Created != 1 || job.Columns["Jobb-epost"] != "email" || len(job.Warnings) != 2 ||
		job.Warnings[0].Column != "K" || job.Warnings[0].Header != "Skostørrelse" || job.Warnings[0].Reason != "notRecognised" ||
		job.Warnings[1].Column != "L" || job.Warnings[1].Reason != "noHeader" || job.Warnings[1].Row != 2 {
		t.Fatalf("%+v", job)
	}
	if !strings.HasPrefix(job.Reports["csv"], s.APIURL+importjob.ReportLinkPath+"?") {
		t.Fatalf("the report's link %s is not the signed report route", job.Reports["csv"])
	}
	res, err = http.Get(job.Reports["csv"])
	if err != nil {
		t.Fatal(err)
	}
	report, _ := io.ReadAll(res.Body)
	res.Body.Close()
	lines := strings.Split(string(report), "\r\n")
	if len(lines) < 4 || !strings.Contains(lines[1], `column K ""Skostørrelse"" is not a roster column`) ||
		!strings.Contains(lines[2], "column L has no header but holds data") || !strings.Contains(lines[3], "created") ||
		strings.Contains(string(report), "hemmelig") || strings.Contains(string(report), "bil-"+id) {
		t.Fatalf("report:\n%s", report)
	}
	if strings.Contains(logs.String(), "hemmelig-"+id) {
		t.Fatal("the safe word is in the logs")
	}
}

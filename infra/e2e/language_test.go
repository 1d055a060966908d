package e2e

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/locale"
)

// A Norwegian uploader's roster with an error, through the runner: the
// report the ingest binary writes is in Norwegian (labels, outcomes,
// messages, a date in the Norwegian form) with the machine columns beside,
// and the summary email is Norwegian.
func TestImportReportInUploadersLanguageThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Språk Omsorg "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	createUnit(t, admin, orgID, "Nord")
	mustStatus(t, admin.Call("PATCH", "/me", map[string]any{"language": "nb"}, nil), 200)

	// A rota from tomorrow is at short notice: its warning names the date.
	tomorrow := time.Now().UTC().AddDate(0, 0, 1)
	csvText := "Fornavn;Etternavn;E-post;Mobil;Avdeling;Eskaleringskontakt 1 navn;Eskaleringskontakt 1 telefon;" +
		"Eskaleringskontakt 2 navn;Eskaleringskontakt 2 telefon;Turnus;Turnus gjelder fra\r\n" +
		"Kari;Nordmann;kari-" + id + "@example.no;915 12 345;Nord;Ola;41234567;Per;41234568;R1;" + tomorrow.Format(time.DateOnly) + "\r\n" +
		"Vera;V;vera-" + id + "@example.no;915 12 346;Vest;Ola;41234567;Per;41234568;;\r\n"
	var up struct {
		ImportID  string `json:"importId"`
		UploadURL string `json:"uploadUrl"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/imports", map[string]any{"fileName": "vaktliste.csv", "size": len(csvText)}, &up), 201)
	req, _ := http.NewRequest("PUT", up.UploadURL, strings.NewReader(csvText))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("upload: %v %v", res, err)
	}
	res.Body.Close()

	var job struct {
		Status  string            `json:"status"`
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
	res, err = http.Get(job.Reports["csv"])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("report %v:\n%s", err, body)
	}
	if got := strings.Join(recs[0], ","); got != "Rad,E-post,Resultat,Melding,outcome,severity,codes" {
		t.Fatalf("header %q", got)
	}
	byEmail := map[string][]string{}
	for _, r := range recs[1:] {
		byEmail[r[1]] = r
	}
	kari, vera := byEmail["kari-"+id+"@example.no"], byEmail["vera-"+id+"@example.no"]
	if kari == nil || kari[2] != "opprettet" || !strings.HasPrefix(kari[3], "invitert; advarsel: ") ||
		!strings.Contains(kari[3], "gjelder fra "+locale.Date(tomorrow, "nb")) || kari[4] != "created" || kari[5] != "warning" ||
		kari[6] != "rota.shortNotice" {
		t.Errorf("Kari's line: %q", kari)
	}
	if vera == nil || vera[2] != "feil" || !strings.Contains(vera[3], "ingen enhet «Vest» i denne organisasjonen") ||
		vera[4] != "error" || vera[5] != "error" || vera[6] != "unit.unknown" {
		t.Errorf("Vera's line: %q", vera)
	}
	if strings.Contains(string(body), "no unit") || strings.Contains(string(body), "invited") {
		t.Errorf("English in the Norwegian report:\n%s", body)
	}

	mails := testenv.WaitForEmails(t, adminEmail, 2)
	summary := mails[len(mails)-1]
	if !strings.HasPrefix(summary.Subject, "Importen av vaktliste.csv er ferdig: 1 opprettet") ||
		!strings.Contains(summary.Body.Text, "Rapporten viser resultatet for hver rad.") {
		t.Fatalf("summary %q:\n%s", summary.Subject, summary.Body.Text)
	}
}

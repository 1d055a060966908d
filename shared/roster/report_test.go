package roster

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/access"
	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/locale"
	"onboarding/shared/monitor"
)

func english(t *testing.T) locale.Printer {
	t.Helper()
	p, err := ReportPrinter("en")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A Norwegian uploader's report is in Norwegian, its dates in the
// Norwegian form, and keeps the machine columns for tools.
func TestReportInTheUploadersLanguage(t *testing.T) {
	// testRules' today is 2026-11-23: a rota from 2026-11-24 is at short notice.
	s, _, err := OpenCSV(strings.NewReader("Fornavn,E-post,Rolle,Mobil,Eskaleringskontakt 1 navn,Eskaleringskontakt 1 telefon,"+
		"Eskaleringskontakt 2 navn,Eskaleringskontakt 2 telefon,Turnus,Turnus gjelder fra\n"+
		"Kari,kari@example.no,medlem,+4791234567,Ola,+4791234568,Per,+4791234569,R1,2026-11-24\n"+
		"Per,per@example.no,pilot,,,,,,,\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, s)
	if len(rows) != 2 {
		t.Fatalf("%+v", rows)
	}
	row, bad := rows[0], rows[1]
	lines := []ReportLine{
		{Row: 2, Email: row.Email, Outcome: Created, Notes: append([]Note{{Key: "invited"}}, NotesOf(row.Problems)...)},
		{Row: 3, Email: bad.Email, Outcome: Failed, Notes: NotesOf(bad.Problems)},
		{Row: 4, Email: "old@example.no", Outcome: Updated, Message: "a line kept before notes"},
	}
	nb, err := ReportPrinter("nb-NO", "en")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteReportCSV(&b, lines, nb); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "Rad,E-post,Resultat,Melding,outcome,severity,codes" {
		t.Errorf("header %q", got)
	}
	if r := recs[1]; r[2] != "opprettet" || !strings.Contains(r[3], "invitert; advarsel: ") || !strings.Contains(r[3], "gjelder fra 24.11.2026") ||
		r[4] != "created" || r[5] != "warning" || r[6] != "rota.shortNotice" {
		t.Errorf("row 2: %q", r)
	}
	if r := recs[2]; r[2] != "feil" || !strings.Contains(r[3], "ingen rolle «pilot» i denne organisasjonen") || r[4] != "error" || r[5] != "error" ||
		!strings.Contains(r[6], "role.unknown") {
		t.Errorf("row 3: %q", r)
	}
	if r := recs[3]; r[3] != "a line kept before notes" || r[2] != "oppdatert" {
		t.Errorf("row 4: %q", r)
	}
	var x bytes.Buffer
	if err := WriteReportXLSX(&x, lines, nb); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := f.GetRows("Rapport")
	if err != nil || len(sheet) != 4 || sheet[0][0] != "Rad" || sheet[1][6] != "rota.shortNotice" {
		t.Fatalf("%q %v", sheet, err)
	}
}

// Every message clean and monitor give a row is said by its own key, not
// quoted in English.
func TestEveryKnownMessageHasItsKey(t *testing.T) {
	var msgs []string
	for _, in := range []string{"", strings.Repeat("a", 300) + "@example.no", "not-an-email"} {
		if _, err := clean.Email(in); err != nil {
			msgs = append(msgs, message(err))
		}
	}
	for _, in := range []string{"", "\xff", strings.Repeat("a", 300), "a\x01b"} {
		if _, err := clean.Name(in, 100, true); err != nil {
			msgs = append(msgs, message(err))
		}
	}
	rules := testRules()
	mr := monitor.Rules{Phones: func(raw, region string) (string, error) { return phoneNumber(raw, region, rules.Phones) },
		Region: "NO", WorkerPhone: "+4791234567", Today: time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)}
	for _, in := range []monitor.Input{
		{EscalationContacts: []monitor.Contact{{Name: "A", Phone: ""}, {Name: "B", Phone: "12"}, {Name: "C", Phone: "+4791234567"}},
			RotaReference: "R", RotaEffectiveDate: "soon"},
		{EscalationContacts: []monitor.Contact{{Name: "A", Phone: "+4791234568"}, {Name: "B", Phone: "+4791234568"}},
			RotaReference: "R", RotaEffectiveDate: "2026-12-31"},
	} {
		var errs, warns fault.Fields
		monitor.Check(in, mr, &errs, &warns)
		for _, e := range append(errs, warns...) {
			msgs = append(msgs, e.Message)
		}
	}
	if len(msgs) < 10 {
		t.Fatalf("too few messages to prove anything: %q", msgs)
	}
	for _, m := range msgs {
		if key, _ := NoteFor(m); key == "refused" {
			t.Errorf("no key for %q", m)
		}
	}
}

// A value from the file is data in a localized message, never template
// text, and the rendered message is neutralized as a whole.
func TestReportValuesAreNeverTemplatesOrFormulas(t *testing.T) {
	nb, _ := ReportPrinter("nb")
	lines := []ReportLine{{Row: 2, Outcome: Failed, Notes: []Note{{Key: "role.unknown", Column: "=HYPERLINK(\"x\")",
		Args: map[string]string{"Value": "{{.Detail}}{{printf \"%s\" 1}}"}}}}}
	var b bytes.Buffer
	if err := WriteReportCSV(&b, lines, nb); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if msg := recs[1][3]; !strings.HasPrefix(msg, `'=HYPERLINK("x"): ingen rolle «{{.Detail}}{{printf "%s" 1}}»`) {
		t.Fatalf("%q", msg)
	}
}

// The access rules a row can break are said by their own keys.
func TestAccessRulesHaveTheirKeys(t *testing.T) {
	roles := access.Roles(access.DefaultRoles())
	coordinator := access.Actor{UserID: "c", OrgID: "o", Role: "coordinator", Units: []string{"u1"}}
	for _, err := range []error{
		roles.CheckInvite(coordinator, "no-such-role", []string{"u1"}),
		roles.CheckInvite(coordinator, "member", []string{"u2"}),
	} {
		if err == nil {
			t.Fatal("no error to say")
		}
		if key, _ := NoteFor(message(err)); key == "refused" {
			t.Errorf("no key for %q", message(err))
		}
	}
}

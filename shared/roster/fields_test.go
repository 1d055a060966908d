package roster

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"onboarding/shared/org"
)

// The health-services fields: a therapy service asks for a description for
// the therapist.
func conditionalFields() []org.CustomField {
	min, max := 0.0, 100.0
	return []org.CustomField{
		{Key: "services", Label: "Tjenester", Type: org.FieldMultiselect, AllowedValues: []string{"therapy", "homeCare"}},
		{Key: "therapistDescription", Label: "Beskrivelse til terapeut", Type: org.FieldText,
			RequiredWhen: &org.Condition{Field: "services", Equals: "therapy"}},
		{Key: "credits", Label: "Klipp", Type: org.FieldNumber, Min: &min, Max: &max, Integer: true},
	}
}

// Rows are checked by the same function as the API's invitations: a
// multi-select's values separated by ";", requiredWhen, bounds; problems
// name the column as the file heads it.
func TestRowsWithConditionalFields(t *testing.T) {
	csv := "Fornavn,E-post,Rolle,Tjenester,Beskrivelse til terapeut,credits\n" +
		"Kari,kari@example.no,reporter,therapy; homeCare,Ryggsmerter,12\n" +
		"Ola,ola@example.no,reporter,therapy,,\n" +
		"Per,per@example.no,reporter,homeCare,,\n" +
		"Liv,liv@example.no,reporter,massage,,\n" +
		"Ida,ida@example.no,reporter,,,101\n"
	sheet, _, err := OpenCSV(strings.NewReader(csv), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rules := testRules()
	rules.Fields = conditionalFields()
	r, err := NewReader(sheet, rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Header.Unread) != 0 {
		t.Fatalf("custom columns unread: %+v", r.Header.Unread)
	}
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	kari := rows[0]
	if !kari.OK() || !kari.AttributesGiven || !slices.Equal(kari.Attributes["services"].([]string), []string{"therapy", "homeCare"}) ||
		kari.Attributes["therapistDescription"] != "Ryggsmerter" || kari.Attributes["credits"] != "12" {
		t.Fatalf("kari: %+v", kari)
	}
	want := []struct{ column, message string }{
		{},
		{"Beskrivelse til terapeut", "therapistDescription is required when services includes therapy"},
		{},
		{"Tjenester", `Tjenester: "massage" is not one of the allowed values`},
		{"credits", "credits: from 0 to 100"},
	}
	for i, w := range want {
		row := rows[i]
		if w.column == "" {
			if !row.OK() {
				t.Errorf("row %d: %+v", row.Line, row.Problems)
			}
			continue
		}
		if row.OK() || len(row.Problems) != 1 || row.Problems[0].Column != w.column || row.Problems[0].Message != w.message {
			t.Errorf("row %d: want %s %q, got %+v", row.Line, w.column, w.message, row.Problems)
		}
	}
}

// A column mapping may name a custom field by its key; a key the
// organisation lacks is refused, naming the fields it has.
func TestMappingNamesCustomFields(t *testing.T) {
	fields := conditionalFields()
	m, err := ParseMapping(map[string]string{"Terapeutnotat": "therapistDescription", "Klippekort": "credits"}, fields...)
	if err != nil {
		t.Fatal(err)
	}
	sheet, _, err := OpenCSV(strings.NewReader("Fornavn,E-post,Tjenester,Terapeutnotat\nKari,kari@example.no,therapy,Rygg\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rules := testRules()
	rules.Fields, rules.Columns = fields, m
	r, err := NewReader(sheet, rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Header.Unread) != 1 || r.Header.Unread[0].Reason != NotInFile || !strings.Contains(r.Header.Unread[0].Message, "(credits)") {
		t.Fatalf("unread %+v", r.Header.Unread)
	}
	row, err := r.Next()
	if err != nil || !row.OK() || row.Attributes["therapistDescription"] != "Rygg" {
		t.Fatalf("%+v %v", row, err)
	}
	_, err = ParseMapping(map[string]string{"Notat": "therapistNote"}, fields...)
	if err == nil || !strings.Contains(err.Error(), "ignore, services, therapistDescription, credits") {
		t.Fatalf("unknown key: %v", err)
	}

	// A field labelled like the email column does not take it.
	h, ok := Mapping{}.WithFields([]org.CustomField{{Key: "privateEmail", Label: "E-post", Type: org.FieldText}}).
		ReadHeader([]string{"Fornavn", "E-post"}, 1)
	if !ok || h.Columns[1] != (Column{Field: Email}) || h.Custom[1] != "" {
		t.Fatalf("email column taken: %+v", h)
	}
}

// A Norwegian uploader reads the custom fields' rules in Norwegian, each
// field named as the organisation labelled it.
func TestFieldNotesInTheReportersLanguage(t *testing.T) {
	csv := "Fornavn,E-post,Rolle,Tjenester,Beskrivelse til terapeut,Klipp\n" +
		"Ola,ola@example.no,reporter,therapy,,\n" +
		"Liv,liv@example.no,reporter,massage,,\n" +
		"Eva,eva@example.no,reporter,;,,\n" +
		"Ida,ida@example.no,reporter,,,101\n" +
		"Siv,siv@example.no,reporter,,,2.5\n" +
		"Tor,tor@example.no,reporter,,,mange\n"
	sheet, _, err := OpenCSV(strings.NewReader(csv), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rules := testRules()
	rules.Fields = conditionalFields()
	r, err := NewReader(sheet, rules)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReportPrinter("nb-NO")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Beskrivelse til terapeut: må fylles ut når «Tjenester» inneholder «therapy»",
		"Tjenester: «massage» er ikke en av de tillatte verdiene",
		"Tjenester: én eller flere av de tillatte verdiene, skilt med ;",
		"Klipp: fra 0 til 100",
		"Klipp: ikke et heltall",
		"Klipp: ikke et tall",
	}
	for i, w := range want {
		row, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		line := ReportLine{Row: row.Line, Outcome: Failed, Notes: NotesOf(row.Problems)}
		if got := line.Text(p); got != w {
			t.Errorf("row %d: %q, want %q", i+2, got, w)
		}
		if strings.Contains(line.Codes(), "refused") {
			t.Errorf("row %d said by its English message: %s", i+2, line.Codes())
		}
	}

	// A required field the file has no column for is named by its label.
	fields := append(conditionalFields(), org.CustomField{Key: "costCentre", Label: "Koststed", Type: org.FieldText, Required: true})
	sheet, _, _ = OpenCSV(strings.NewReader("Fornavn,E-post\nKari,kari@example.no\n"), Limits{})
	rules.Fields = fields
	if r, err = NewReader(sheet, rules); err != nil {
		t.Fatal(err)
	}
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := (ReportLine{Outcome: Failed, Notes: NotesOf(row.Problems)}).Text(p); got != "Koststed: må fylles ut" {
		t.Errorf("missing column: %q", got)
	}
}

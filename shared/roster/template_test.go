package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/access"
	"onboarding/shared/org"
)

// Every template header, in every template language, is recognised as its
// column; and so is every localized remove word.
func TestTemplateHeadersRoundTrip(t *testing.T) {
	for _, lang := range TemplateLanguages() {
		header := TemplateHeader(lang)
		h, ok := ReadHeader(header, 1)
		if !ok || len(h.Ignored) != 0 || len(h.Duplicates) != 0 {
			t.Fatalf("%s: ok %v ignored %v duplicates %v", lang, ok, h.Ignored, h.Duplicates)
		}
		for i, c := range templateColumns() {
			if h.Columns[i] != c {
				t.Errorf("%s: %q read as %v %d, want %v %d", lang, header[i], h.Columns[i].Field, h.Columns[i].N, c.Field, c.N)
			}
		}
		if w := removeWordFor(lang); !slices.Contains(removeWords, fold(w)) {
			t.Errorf("%s: remove word %q not recognised", lang, w)
		}
	}
	if got := TemplateHeader("ar")[0]; got != "First name" {
		t.Fatalf("fallback %q", got)
	}
}

func TestTemplateXLSX(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTemplateXLSX(&buf, Template{Language: "nb", Roles: []string{"admin", "member"}, Units: []string{"Nord", "Sør"}}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if sheets := f.GetSheetList(); len(sheets) != 3 || sheets[0] != "Brukere" || sheets[2] != "Veiledning" {
		t.Fatalf("sheets %v", sheets)
	}
	dvs, err := f.GetDataValidations("Brukere")
	if err != nil || len(dvs) != 3 {
		t.Fatalf("drop-downs %d %v", len(dvs), err)
	}
	if v, _ := f.GetCellValue("Lister", "B2"); v != "Sør" {
		t.Fatalf("unit list %q", v)
	}
	// The template reads back as a roster with no rows.
	s, name, err := OpenXLSX(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil || name != "Brukere" {
		t.Fatalf("%q %v", name, err)
	}
	r, err := NewReader(s, testRules())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("rows in an empty template: %v", err)
	}
}

func TestTemplateCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTemplateCSV(&buf, "fr", nil); err != nil {
		t.Fatal(err)
	}
	s, format, err := OpenCSV(&buf, Limits{})
	if err != nil || format.Encoding != "UTF-8" {
		t.Fatalf("%+v %v", format, err)
	}
	if _, err := NewReader(s, testRules()); err != nil {
		t.Fatal(err)
	}
}

// Reports neutralize what a spreadsheet would run as a formula.
func TestReports(t *testing.T) {
	lines := []ReportLine{
		{Row: 2, Email: "kari@example.no", Outcome: Created},
		{Row: 3, Email: "=HYPERLINK(\"http://evil\")", Outcome: Failed, Message: "not a valid email"},
		{Row: 4, Email: "ola@example.no", Outcome: Warned, Message: "+47 is not enough; @ops -1"},
	}
	var csvBuf bytes.Buffer
	if err := WriteReportCSV(&csvBuf, lines, english(t)); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(csvBuf.Bytes(), []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("%v %v", recs, err)
	}
	if recs[2][1] != `'=HYPERLINK("http://evil")` || recs[3][3] != "'+47 is not enough;' @ops -1" || recs[1][1] != "kari@example.no" {
		t.Fatalf("%q", recs)
	}
	var xlsxBuf bytes.Buffer
	if err := WriteReportXLSX(&xlsxBuf, lines, english(t)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&xlsxBuf)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Report")
	if err != nil || len(rows) != 4 || !strings.HasPrefix(rows[2][1], "'=") {
		t.Fatalf("%q %v", rows, err)
	}
	if formula, _ := f.GetCellFormula("Report", "B3"); formula != "" {
		t.Fatalf("a formula in the report: %q", formula)
	}

	// Spreadsheets skip leading white space, and some read full-width
	// signs as their ASCII forms: those start formulas too.
	written := func(cell string) (email, message string) {
		t.Helper()
		var b bytes.Buffer
		if err := WriteReportCSV(&b, []ReportLine{{Row: 2, Email: cell, Outcome: Failed, Message: cell}}, english(t)); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("%q: %q %v", cell, recs, err)
		}
		return recs[1][1], recs[1][3]
	}
	for _, cell := range []string{" =1+1", "\t=1+1", "\r=1+1", "\n=1+1", "  +1", " -1", "\u00a0@SUM(A1)",
		"\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", " \uff1d1", "\tplain", "\rplain"} {
		// The CSV writer drops a lone CR (it writes CRLF line ends).
		want := "'" + strings.ReplaceAll(cell, "\r", "")
		if email, message := written(cell); email != want || message != want {
			t.Errorf("%q written as %q, %q", cell, email, message)
		}
	}
	for _, cell := range []string{"kari@example.no", "Kari Nordmann", "a = b", "12-3"} {
		if email, message := written(cell); email != cell || message != cell {
			t.Errorf("%q written as %q, %q", cell, email, message)
		}
	}
}

// The template follows the organisation: a column per custom field headed
// by its label, drop-downs for its select and multiselect fields and for
// roles by display name, number bounds as validation, each field's rules
// (requiredWhen too) on the instructions sheet; and it reads back with its
// custom columns recognised.
func TestTemplateFollowsTheOrganisation(t *testing.T) {
	fields := conditionalFields()
	fields = append(fields, org.CustomField{Key: "level", Label: "Nivå", Type: org.FieldSelect, AllowedValues: []string{"A", "=1+1"}})
	roles := access.Roles{{Key: "standard", Names: map[string]string{"en": "Standard", "nb": "Standard", "fi": "Peruskäyttäjä"}},
		{Key: "lone-worker", Names: map[string]string{"en": "Lone worker", "nb": "Alenearbeider"}}}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name("nb"))
	}
	var buf bytes.Buffer
	if err := WriteTemplateXLSX(&buf, Template{Language: "nb", Roles: names, Units: []string{"Nord"}, Fields: fields}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	header, _ := f.GetRows("Brukere")
	n := len(templateColumns())
	if got := header[0][n:]; !slices.Equal(got, []string{"Tjenester", "Beskrivelse til terapeut", "Klipp", "Nivå"}) {
		t.Fatalf("custom columns %v", got)
	}
	dvs, err := f.GetDataValidations("Brukere")
	if err != nil {
		t.Fatal(err)
	}
	byColumn := map[string]*excelize.DataValidation{}
	for _, dv := range dvs {
		col, _, _ := strings.Cut(dv.Sqref, "2:")
		byColumn[col] = dv
	}
	lists, _ := f.GetCols("Lister")
	listOf := func(col string) []string {
		dv := byColumn[col]
		if dv == nil || dv.Type != "list" {
			t.Fatalf("no drop-down in %s: %+v", col, dv)
		}
		// 'Lister'!$B$1:$B$2
		_, rng, _ := strings.Cut(dv.Formula1, "!$")
		c, _ := excelize.ColumnNameToNumber(rng[:strings.IndexByte(rng, '$')])
		var out []string
		for _, v := range lists[c-1] {
			if v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	col := func(i int) string { c, _ := excelize.ColumnNumberToName(i + 1); return c }
	roleCol := col(slices.Index(templateColumns(), Column{Field: Role}))
	if got := listOf(roleCol); !slices.Equal(got, []string{"Standard", "Alenearbeider"}) {
		t.Fatalf("roles by display name: %v", got)
	}
	if got := listOf(col(n)); !slices.Equal(got, []string{"therapy", "homeCare"}) || byColumn[col(n)].ErrorStyle == nil ||
		*byColumn[col(n)].ErrorStyle != "information" {
		t.Fatalf("multiselect: %v %+v", got, byColumn[col(n)])
	}
	if got := listOf(col(n + 3)); !slices.Equal(got, []string{"A", "=1+1"}) {
		t.Fatalf("select: %v", got)
	}
	// The organisation's values are text in the workbook, never formulas.
	for c := 1; c <= len(lists); c++ {
		name, _ := excelize.ColumnNumberToName(c)
		for r := 1; r <= len(lists[c-1]); r++ {
			cell := fmt.Sprintf("%s%d", name, r)
			if formula, _ := f.GetCellFormula("Lister", cell); formula != "" {
				t.Fatalf("%s holds a formula %q", cell, formula)
			}
		}
	}
	credits := byColumn[col(n+2)]
	if credits == nil || credits.Type != "whole" || credits.Operator != "between" || credits.Formula1 != "0" || credits.Formula2 != "100" {
		t.Fatalf("credits bounds: %+v", credits)
	}
	help, _ := f.GetCols("Veiledning")
	text := strings.Join(help[0], "\n")
	for _, want := range []string{"Organisasjonens egne felt:",
		"Tjenester: én eller flere av: therapy, homeCare (skill verdiene med ;); valgfritt.",
		"Beskrivelse til terapeut: tekst; må fylles ut når Tjenester inneholder therapy.",
		"Klipp: et heltall, fra 0 til 100; valgfritt."} {
		if !strings.Contains(text, want) {
			t.Errorf("instructions lack %q:\n%s", want, text)
		}
	}

	// It reads back: the custom columns are the fields, roles resolve by
	// display name.
	s, _, err := OpenXLSX(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rules := testRules()
	rules.Fields = fields
	r, err := NewReader(s, rules)
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"services", "therapistDescription", "credits", "level"} {
		if r.Header.Custom[n+i] != key {
			t.Fatalf("column %d read as %q", n+i, r.Header.Custom[n+i])
		}
	}
	if key, ok := roles.Resolve("Alenearbeider"); !ok || key != "lone-worker" {
		t.Fatalf("resolve %q %v", key, ok)
	}
}

package roster

import (
	"errors"
	"io"
	"strings"
	"testing"

	"onboarding/shared/fault"
)

// read reads a CSV roster to the end with the given column mapping.
func read(t *testing.T, csv string, m Mapping) (*Reader, []Row) {
	t.Helper()
	s, _, err := OpenCSV(strings.NewReader(csv), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rules := testRules()
	rules.Columns = m
	r, err := NewReader(s, rules)
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r, rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

// Every column the reader does not read is named, with its letter: a
// header it does not know, a second column of a field, and a column
// without a header that holds data (also past the header's last cell).
func TestUnreadColumnsAreNamed(t *testing.T) {
	csv := "Fornavn,E-post,Passord,,Mobil,Mobiltelefon,\n" +
		"Kari,kari@example.no,hemmelig,,91512345,91512346,,Rex\n" +
		"Ola,ola@example.no,,x,91512347,,\n"
	r, rows := read(t, csv, Mapping{})
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	got := r.Unread()
	want := []Unread{
		{Column: "C", Header: "Passord", Reason: NotRecognised, Row: 1},
		{Column: "D", Reason: NoHeader, Row: 3},
		{Column: "F", Header: "Mobiltelefon", Reason: Repeated, Row: 1},
		{Column: "H", Reason: NoHeader, Row: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.Column != w.Column || g.Header != w.Header || g.Reason != w.Reason || g.Row != w.Row {
			t.Errorf("%d: got %+v, want %+v", i, g, w)
		}
	}
	for _, s := range []string{`column C "Passord" is not a roster column`, `column D has no header but holds data`,
		`column F "Mobiltelefon" repeats column E "Mobil"`, "column H has no header"} {
		found := false
		for _, u := range got {
			found = found || strings.Contains(u.Message, s)
		}
		if !found {
			t.Errorf("no message says %q: %+v", s, got)
		}
	}
	for _, u := range got {
		if strings.Contains(u.Message, "hemmelig") || strings.Contains(u.Message, "Rex") {
			t.Errorf("a value in a message: %q", u.Message)
		}
	}
	// Before the rows are read, the header's own are known.
	s, _, _ := OpenCSV(strings.NewReader(csv), Limits{})
	fresh, err := NewReader(s, testRules())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fresh.Unread()); n != 2 {
		t.Fatalf("before reading: %+v", fresh.Unread())
	}
	if columnLetter(25) != "Z" || columnLetter(26) != "AA" || columnLetter(16383) != "XFD" {
		t.Fatal(columnLetter(25), columnLetter(26), columnLetter(16383))
	}
}

// A long header is cut in what is said about it.
func TestUnreadHeaderIsCut(t *testing.T) {
	long := strings.Repeat("ø", 300)
	r, _ := read(t, "E-post,Fornavn,"+long+"\nk@example.no,K,x\n", Mapping{})
	u := r.Unread()
	if len(u) != 1 || len([]rune(u[0].Header)) > 101 || len(u[0].Message) > 400 {
		t.Fatalf("%+v", u)
	}
}

func TestParseMapping(t *testing.T) {
	for _, tc := range []struct {
		in    map[string]string
		field string // the field error expected, "" for none
	}{
		{map[string]string{"Kodeord ved alarm": "safeWord", "Tlf privat": "ignore", "Status": "ignore"}, ""},
		{map[string]string{"Nærmeste leder tlf": "escalationContact1Phone", "Leder": "escalationContact1Name"}, ""},
		{map[string]string{"Kodeord": "safeword"}, "columns.Kodeord"},
		{map[string]string{"Kodeord": "password"}, "columns.Kodeord"},
		{map[string]string{"Kodeord": "escalationContact6Name"}, "columns.Kodeord"},
		{map[string]string{"A": "email", "B": "email"}, "columns.B"},
		{map[string]string{"E-post": "email", "e post": "mobile"}, "columns.e post"},
		{map[string]string{" - ": "email"}, "columns. - "},
		{map[string]string{strings.Repeat("x", 201): "email"}, "columns"},
	} {
		_, err := ParseMapping(tc.in)
		e, _ := fault.As(err)
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%v: %v", tc.in, err)
		case tc.field != "" && (e == nil || e.Code != fault.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field):
			t.Errorf("%v: want a field error for %q, got %v", tc.in, tc.field, err)
		}
	}
	many := map[string]string{}
	for i := range MaxMappedColumns + 1 {
		many[strings.Repeat("h", i+1)] = "ignore"
	}
	if _, err := ParseMapping(many); err == nil {
		t.Fatal("too many headers accepted")
	}
	// Every field the API lists can be mapped, and reads back as itself.
	keys := MappingFields()
	if len(keys) != 8+2*5+2*3+6+1 || keys[len(keys)-1] != "ignore" {
		t.Fatalf("%d fields: %v", len(keys), keys)
	}
	for _, k := range keys {
		m, err := ParseMapping(map[string]string{"H": k})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if got := m.byHeader["h"].column.Key(); got != k {
			t.Errorf("%s reads back as %s", k, got)
		}
	}
}

// A mapping wins over recognition: its headers are read as it says (also
// where they would be recognised as something else), a column it sets
// aside is not read, and a column recognised as a field it gave to
// another header is a repeat.
func TestMappingWinsOverRecognition(t *testing.T) {
	m, err := ParseMapping(map[string]string{"Jobb-adresse": "email", "passord for alarm": "safeWord", "Status": "ignore",
		"Tlf": "escalationContact1Phone", "Leder": "escalationContact1Name", "Leder 2": "escalationContact2Name",
		"Leder 2 tlf": "escalationContact2Phone"})
	if err != nil {
		t.Fatal(err)
	}
	csv := "Fornavn,Etternavn,E-post,Jobb-adresse,Mobil,Passord for alarm,Status,Leder,Tlf,Leder 2,Leder 2 tlf\n" +
		"Kari,N,kari@privat.no,kari@example.no,91512345,blåbær,fast ansatt,Ola,41234567,Per,41234568\n"
	r, rows := read(t, csv, m)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	kari := rows[0]
	if !kari.OK() || kari.Email != "kari@example.no" || kari.Profile.SafeWord != "blåbær" || len(kari.Profile.EscalationContacts) != 2 ||
		kari.Profile.EscalationContacts[0].Phone != "+4741234567" || kari.Mobile != "+4791512345" {
		t.Fatalf("%+v", kari)
	}
	u := r.Unread()
	if len(u) != 2 || u[0].Column != "C" || u[0].Reason != Repeated || !strings.Contains(u[0].Message, `repeats column D "Jobb-adresse"`) ||
		u[1].Column != "G" || u[1].Reason != MappedToIgnore {
		t.Fatalf("%+v", u)
	}
	if err := r.Header.Err(); err != nil {
		t.Fatal(err)
	}
	// A mapping that names a header the file lacks fails the file: the
	// uploader meant its values to be read.
	m, _ = ParseMapping(map[string]string{"Kodeord ved alarm": "safeWord", "Status": "ignore"})
	r, _ = read(t, "Fornavn,E-post\nKari,kari@example.no\n", m)
	u = r.Unread()
	if len(u) != 2 || u[0].Reason != NotInFile || u[0].Column != "" || u[0].Header != "Kodeord ved alarm" ||
		!strings.Contains(u[0].Message, "safeWord") {
		t.Fatalf("%+v", u)
	}
	var fe *FileError
	if err := r.Header.Err(); !errors.As(err, &fe) || !strings.Contains(fe.Message, `"Kodeord ved alarm"`) || !strings.Contains(fe.Message, `"Status"`) {
		t.Fatalf("%v", err)
	}
	// A header row found only through the mapping's names.
	m, _ = ParseMapping(map[string]string{"Jobb-adresse": "email"})
	_, rows = read(t, "Liste over ansatte\nFornavn,Jobb-adresse\nKari,kari@example.no\n", m)
	if len(rows) != 1 || rows[0].Email != "kari@example.no" {
		t.Fatalf("%+v", rows)
	}
}

package roster

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// Header matching never panics, folding is stable, and a match is one of the
// known fields with a contact number in range.
func FuzzMatchHeader(f *testing.F) {
	for _, s := range []string{"Email", "Eskaleringskontakt 1 telefon", "Numéro de mobile", "Kontak di luar jam kerja 3 nomor",
		"OOH 99 phone", "\xff\xfe", "", "Ｅｍａｉｌ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		c, ok := MatchHeader(h)
		if fold(fold(h)) != fold(h) {
			t.Fatalf("fold is not stable on %q", h)
		}
		if !ok {
			return
		}
		if c.Field == Unknown || c.Field > Action {
			t.Fatalf("%q: field %d", h, c.Field)
		}
		switch c.Field {
		case EscalationName, EscalationPhone:
			if c.N < 1 || c.N > 5 {
				t.Fatalf("%q: escalation contact %d", h, c.N)
			}
		case OutOfHoursName, OutOfHoursPhone:
			if c.N < 1 || c.N > 3 {
				t.Fatalf("%q: out-of-hours contact %d", h, c.N)
			}
		default:
			if c.N != 0 {
				t.Fatalf("%q: numbered %v", h, c)
			}
		}
	})
}

// Sniffing and reading any bytes as CSV never panics; what comes out is
// valid UTF-8 and the delimiter is one of three.
func FuzzSniffCSV(f *testing.F) {
	f.Add([]byte(rosterCSV))
	f.Add([]byte("\xef\xbb\xbfEmail;Name\r\nk@example.no;\"K;K\"\r\n"))
	f.Add([]byte("\xff\xfeE\x00m\x00a\x00i\x00l\x00\n\x00"))
	f.Add([]byte("Email\tFornavn\n\xe5se@example.no\t\xc5se\n"))
	f.Add([]byte("\"unterminated,quote\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		format := SniffCSV(b)
		if !strings.ContainsRune(",;\t", format.Delimiter) {
			t.Fatalf("delimiter %q", format.Delimiter)
		}
		s, _, err := OpenCSV(bytes.NewReader(b), Limits{MaxBytes: 1 << 20, MaxRows: 1000})
		if err != nil {
			return
		}
		for {
			cells, _, err := s.Next()
			if err != nil {
				return
			}
			for _, c := range cells {
				if !utf8.ValidString(c) {
					t.Fatalf("invalid UTF-8 cell %q", c)
				}
			}
		}
	})
}

// Any row under the full header parses without panicking, and a row that
// parses clean holds what the rules promise.
func FuzzParseRow(f *testing.F) {
	header := "Fornavn,Etternavn,E-post,Mobil,Rolle,Avdeling,Språk,Eskaleringskontakt 1 navn,Eskaleringskontakt 1 telefon," +
		"Eskaleringskontakt 2 navn,Eskaleringskontakt 2 telefon,Kontakt utenom arbeidstid 1 navn,Kontakt utenom arbeidstid 1 telefon," +
		"Turnus,Turnus gjelder fra,Kodeord,Registreringsnummer,Annet,Handling\n"
	f.Add("Kari,Nordmann,kari@example.no,91512345,member,Nord,nb,Ola,41234567,Per,41234568,Liv,41234569,T-7,2026-12-24,blåbær,ab 12345,hund,")
	f.Add(",,ola@example.no,,,,,,,,,,,,,,,,slutter")
	f.Add("Kari,N,kari@example.no,4.791512345E9,,,,Ola,4741234567,Per,41234568,,,,,,,,")
	// More semicolons in one row than the header has commas (found by the fuzzer).
	f.Add("Kari,Nordmann,kari@example.no,,,,,,,,,,,,,,,allergi;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;,")
	f.Fuzz(func(t *testing.T, line string) {
		s, _, err := OpenCSV(strings.NewReader(header+line+"\n"), Limits{})
		if err != nil {
			return
		}
		r, err := NewReader(s, testRules())
		if err != nil {
			t.Fatalf("the header was not found: %v", err)
		}
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return
			}
			if !row.OK() {
				continue
			}
			if row.Email == "" || !strings.Contains(row.Email, "@") {
				t.Fatalf("clean row without an email: %+v", row)
			}
			if row.Change == Upsert && row.Monitored && row.ProfileGiven {
				if len(row.Profile.EscalationContacts) < 2 || !strings.HasPrefix(row.Mobile, "+") {
					t.Fatalf("clean monitored row without contacts or mobile: %+v", row)
				}
				for _, c := range row.Profile.EscalationContacts {
					if c.Phone == row.Mobile || !strings.HasPrefix(c.Phone, "+") {
						t.Fatalf("bad contact %+v of %s", c, row.Mobile)
					}
				}
			}
		}
	})
}

// workbook packs a sheet's XML and a shared-string table's into a package
// laid out as Excel writes one.
func workbook(t testing.TB, sheetData, sst string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + sheetData + `</sheetData></worksheet>`},
		{"xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + sst + `</sst>`},
	} {
		w, err := z.Create(part.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(part.body))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A damaged workbook (any sheet or shared-string XML) is read or refused
// with an error for the file; it never panics or hangs.
func FuzzReadXLSX(f *testing.F) {
	f.Add(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>91512345</v></c></row>`,
		`<si><t>Email</t></si><si><t>Mobile</t></si><si><t>kari@example.no</t></si>`)
	f.Add(`<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="C1" t="inlineStr"><is><t>Full name</t></is></c></row><row r="3"><c r="A3" t="s"><v>7</v></c></row>`, ``)
	f.Add(`<row r="1"><c r="XFD1048576" t="s"><v>-1</v></c></row><row><c t="d"><v>2026-13-45</v></c><c t="e"><v>#REF!</v></c></row>`, `<si><r><t>E</t></r><r><t>mail</t></r></si>`)
	f.Fuzz(func(t *testing.T, sheetData, sst string) {
		sheet, _, err := OpenXLSX(bytes.NewReader(workbook(t, sheetData, sst)), Limits{MaxRows: 1000})
		if err != nil {
			return
		}
		defer sheet.Close()
		r, err := NewReader(sheet, testRules())
		if err != nil {
			return
		}
		defer r.Close()
		for range 2000 {
			if _, err := r.Next(); err != nil {
				return
			}
		}
		t.Fatal("more rows than the limit allows")
	})
}

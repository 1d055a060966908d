package roster

import (
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

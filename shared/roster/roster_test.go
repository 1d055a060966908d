package roster

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"onboarding/shared/phone"
)

func TestMatchHeader(t *testing.T) {
	cases := map[string]Column{
		// English
		"Email": {Field: Email}, "E-mail address": {Field: Email}, "First name": {Field: FirstName}, "Surname": {Field: LastName},
		"Mobile": {Field: Mobile}, "Mobile number": {Field: Mobile}, "Team": {Field: Unit}, "Role": {Field: Role},
		"Escalation contact 1 name": {EscalationName, 1}, "Escalation contact 1 phone": {EscalationPhone, 1},
		"Escalation 5 mobile": {EscalationPhone, 5}, "Out-of-hours contact 2 name": {OutOfHoursName, 2},
		"OOH contact 3 phone number": {OutOfHoursPhone, 3}, "Safe word": {Field: SafeWord}, "Licence plate": {Field: LicencePlate},
		"Rota effective date": {Field: RotaEffectiveDate}, "Rota": {Field: RotaReference}, "Other information": {Field: OtherInformation},
		"Action": {Field: Action}, "Full name": {Field: FullName},
		// Norwegian
		"E-post": {Field: Email}, "Fornavn": {Field: FirstName}, "Etternavn": {Field: LastName}, "Mobilnummer": {Field: Mobile},
		"Mobil": {Field: Mobile}, "Avdeling": {Field: Unit}, "Språk": {Field: Language}, "Kodeord": {Field: SafeWord},
		"Eskaleringskontakt 1 navn": {EscalationName, 1}, "Eskaleringskontakt 1 telefon": {EscalationPhone, 1},
		"Kontaktperson 2 mobil": {EscalationPhone, 2}, "Kontakt utenom arbeidstid 1 navn": {OutOfHoursName, 1},
		"Turnus gjelder fra": {Field: RotaEffectiveDate}, "Registreringsnummer": {Field: LicencePlate},
		// Swedish
		"Förnamn": {Field: FirstName}, "Efternamn": {Field: LastName}, "E-postadress": {Field: Email}, "Mobil ": {Field: Mobile},
		"Eskaleringskontakt 3 namn": {EscalationName, 3}, "Kontakt utanför kontorstid 2 telefon": {OutOfHoursPhone, 2},
		"Säkerhetsord": {Field: SafeWord}, "Övrigt": {Field: OtherInformation}, "Åtgärd": {Field: Action},
		// French
		"Prénom": {Field: FirstName}, "Nom": {Field: LastName}, "Courriel": {Field: Email}, "Numéro de mobile": {Field: Mobile},
		"Contact d'escalade 1 nom": {EscalationName, 1}, "Contact d'escalade 1 téléphone": {EscalationPhone, 1},
		"Contact hors heures 1 téléphone": {OutOfHoursPhone, 1}, "Équipe": {Field: Unit}, "Immatriculation": {Field: LicencePlate},
		"Date d'effet": {Field: RotaEffectiveDate}, "Mot de sécurité": {Field: SafeWord},
		// Indonesian
		"Nama depan": {Field: FirstName}, "Nama belakang": {Field: LastName}, "Nomor ponsel": {Field: Mobile},
		"Kontak eskalasi 1 nama": {EscalationName, 1}, "Kontak eskalasi 1 telepon": {EscalationPhone, 1},
		"Kontak di luar jam kerja 1 nomor": {OutOfHoursPhone, 1}, "Bahasa": {Field: Language}, "Nomor polisi": {Field: LicencePlate},
		"Kata aman": {Field: SafeWord}, "Tindakan": {Field: Action},
		// Danish
		"Efternavn": {Field: LastName}, "Afdeling": {Field: Unit},
	}
	for header, want := range cases {
		got, ok := MatchHeader(header)
		if !ok || got != want {
			t.Errorf("%q: got %v/%d (%v), want %v/%d", header, got.Field, got.N, ok, want.Field, want.N)
		}
	}
	for _, junk := range []string{"", "Column1", "Shoe size", "Escalation contact 9 name", "Out of hours 4 phone", "12"} {
		if c, ok := MatchHeader(junk); ok {
			t.Errorf("%q recognised as %v %d", junk, c.Field, c.N)
		}
	}
}

// The words people head these columns with in their own rosters, not only
// the template's, in every supported language.
func TestHeaderSynonyms(t *testing.T) {
	cases := map[Field][]string{
		FirstName: {"Given name", "Forename", "First names", "Fornavn", "Förnamn", "Tilltalsnamn", "Prénom", "Prénoms", "Nama depan",
			"Etunimi", "Vorname", "Nombre"},
		LastName: {"Surname", "Family name", "Last name", "Etternavn", "Etternamn", "Efternamn", "Efternavn", "Slektsnavn",
			"Nom de famille", "Nama belakang", "Nama keluarga", "Sukunimi", "Nachname", "Apellidos"},
		FullName: {"Full name", "Name", "Navn", "Fullt navn", "Ansattes navn", "Medarbeider", "Namn", "Medarbetare", "Fulde navn",
			"Nom complet", "Nom et prénom", "Prénom Nom", "Nama", "Nama lengkap", "Nama karyawan", "Nama pegawai", "Employee name", "Staff name"},
		Email: {"E-mail", "Email address", "Work email", "E-postadresse", "E-post adresse", "Mailadress", "E-mailadresse",
			"Courriel", "Adresse e-mail", "Adresse électronique", "Alamat email", "Surel", "Sähköposti", "Correo electrónico"},
		Mobile: {"Mobile", "Mobile phone", "Mobile no.", "Mob.", "Cell phone", "Cell", "Phone", "Phone number", "Tel.", "Telephone number",
			"Mobilnummer", "Mobil", "Mobil nr.", "Mobiltelefon", "Mobiltlf.", "Tlf", "Tlf.nr", "Tlf. nummer", "Telefonnummer", "Telefon",
			"Portable", "Téléphone portable", "N° de portable", "Numéro de téléphone", "No. HP", "Nomor HP", "Nomor ponsel", "Handphone",
			"No. telp", "Puhelinnumero", "Handynummer", "Teléfono móvil"},
		Role: {"Role", "Access role", "Access level", "Permissions", "Rolle", "Tilgangsnivå", "Roll", "Behörighet", "Rôle", "Peran", "Hak akses"},
		Unit: {"Unit", "Department", "Dept.", "Division", "Ward", "Avdeling", "Avdeling/enhet", "Seksjon", "Avdelning", "Sektion",
			"Afdeling", "Équipe", "Service", "Unit kerja", "Divisi", "Osasto", "Abteilung"},
		Language: {"Language", "Preferred language", "Språk", "Foretrukket språk", "Sprog", "Langue", "Bahasa", "Kieli"},
		RotaReference: {"Rota", "Rota reference", "Shift pattern", "Shift plan", "Turnus", "Vaktplan", "Schema", "Arbetsschema",
			"Vagtplan", "Vagtskema", "Planning", "Roulement", "Jadwal", "Jadwal shift"},
		RotaEffectiveDate: {"Rota effective date", "Effective from", "Rota start date", "Turnus gjelder fra", "Gjelder fra",
			"Schema gäller från", "Gælder fra", "Date d'effet", "Tanggal berlaku", "Berlaku mulai"},
		SafeWord: {"Safe word", "Code word", "Password word", "Duress word", "Safety word", "Security word", "Kodeord",
			"Kodeord ved alarm", "Sikkerhetsord", "Kodord", "Kodord vid larm", "Säkerhetsord", "Sikkerhedsord", "Mot de sécurité",
			"Mot code", "Kata aman", "Kata kode", "Turvasana"},
		LicencePlate: {"Licence plate", "License plate", "Licence plate number", "Number plate", "Registration number", "Vehicle reg.",
			"Car registration", "Reg.nr", "Reg. nr.", "Regnummer", "Registreringsnummer", "Bilnummer", "Bil reg.nr", "Kjennemerke",
			"Registreringsskylt", "Nummerplade", "Immatriculation", "Plaque d'immatriculation", "N° d'immatriculation",
			"Plat nomor", "Nomor polisi", "Nopol", "Rekisterinumero", "Kennzeichen", "Matrícula"},
		OtherInformation: {"Other information", "Notes", "Comments", "Additional information", "Annet", "Merknad", "Notat", "Notater",
			"Kommentar", "Övrigt", "Anteckningar", "Andet", "Bemærkninger", "Autres informations", "Remarques", "Commentaires",
			"Informations complémentaires", "Catatan", "Keterangan", "Informasi tambahan", "Lisätiedot", "Bemerkungen"},
		Action: {"Action", "Handling", "Åtgärd", "Endring", "Tindakan"},
	}
	for want, headers := range cases {
		for _, h := range headers {
			if got, ok := MatchHeader(h); !ok || got != (Column{Field: want}) {
				t.Errorf("%q: got %v (%v), want %v", h, got.Field, ok, want)
			}
		}
	}
	// Words too vague to guess: a password or PIN column may be an account
	// credential, a start date the employment's. These stay unread, and
	// the import names them (an uploader may map them).
	for _, vague := range []string{"Password", "Passord", "Mot de passe", "PIN", "Start date", "Location", "Job title", "Username"} {
		if c, ok := MatchHeader(vague); ok {
			t.Errorf("%q recognised as %v", vague, c.Field)
		}
	}
}

// No folded synonym names two fields: which one it would be read as would
// depend on the order of a map.
func TestSynonymsNameOneFieldEach(t *testing.T) {
	owner := map[string]Field{}
	for f, names := range synonyms {
		for _, n := range names {
			if fold(n) != n {
				t.Errorf("%v: %q is not folded (%q): it would never match", f, n, fold(n))
			}
			if strings.IndexFunc(n, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0 {
				t.Errorf("%v: %q has a digit: numbers belong to the contact columns", f, n)
			}
			if g, ok := owner[n]; ok {
				t.Errorf("%q names both %v and %v", n, g, f)
			}
			owner[n] = f
		}
	}
}

// rules for a Norwegian organisation with the default roles and two units.
func testRules() Rules {
	roles := map[string]string{"member": "member", "medlem": "member", "admin": "admin", "reporter": "reporter"}
	units := map[string]string{"nord": "u-nord", "sor": "u-sor", "u-nord": "u-nord"}
	return Rules{
		Phones: phone.Normalize, Region: "NO", Today: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), DefaultRole: "member",
		Role:      func(n string) (string, bool) { r, ok := roles[strings.ToLower(n)]; return r, ok },
		Unit:      func(n string) (string, bool) { u, ok := units[fold(n)]; return u, ok },
		Monitored: func(role string) bool { return role == "member" },
	}
}

const rosterCSV = `Fornavn,Etternavn,E-post,Mobil,Avdeling,Eskaleringskontakt 1 navn,Eskaleringskontakt 1 telefon,Eskaleringskontakt 2 navn,Eskaleringskontakt 2 telefon,Kodeord,Annet
Kari,Nordmann,KARI@example.no,915 12 345,Nord,Ola,+47 412 34 567,Per,"22 33 44 55",blåbær,"Har hund, ""Rex"""
Åse,Ødegård,ase@example.no,+4798765432,Sør,Liv,41234568,Kjell,41234569,,Ferie i juli
`

func readAll(t *testing.T, s Sheet) []Row {
	t.Helper()
	r, err := NewReader(s, testRules())
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

func checkRoster(t *testing.T, rows []Row) {
	t.Helper()
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	kari, ase := rows[0], rows[1]
	if !kari.OK() || !ase.OK() {
		t.Fatalf("problems: %+v %+v", kari.Problems, ase.Problems)
	}
	if kari.Email != "kari@example.no" || kari.Mobile != "+4791512345" || kari.UnitID != "u-nord" || kari.Role != "member" ||
		kari.Profile.SafeWord != "blåbær" || kari.Profile.OtherInformation != `Har hund, "Rex"` ||
		len(kari.Profile.EscalationContacts) != 2 || kari.Profile.EscalationContacts[1].Phone != "+4722334455" {
		t.Fatalf("kari %+v", kari)
	}
	if ase.FirstName != "Åse" || ase.LastName != "Ødegård" || ase.UnitID != "u-sor" || ase.Profile.EscalationContacts[0].Phone != "+4741234568" {
		t.Fatalf("åse %+v", ase)
	}
}

func encode(t *testing.T, text string, enc string) []byte {
	t.Helper()
	switch enc {
	case "UTF-8":
		return []byte(text)
	case "UTF-8 BOM":
		return append([]byte{0xEF, 0xBB, 0xBF}, text...)
	case "UTF-16LE":
		b, _, err := transform.Bytes(unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder(), []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return b
	case "UTF-16BE":
		b, _, err := transform.Bytes(unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder(), []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return b
	case "Windows-1252":
		b, _, err := transform.Bytes(charmap.Windows1252.NewEncoder(), []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("encoding %s", enc)
	return nil
}

// withDelimiter rewrites the comma-separated roster with another delimiter
// (the fixture's quoted commas stay inside quotes).
func withDelimiter(text string, d string) string {
	var out strings.Builder
	inQuotes := false
	for _, r := range text {
		switch {
		case r == '"':
			inQuotes = !inQuotes
			out.WriteRune(r)
		case r == ',' && !inQuotes:
			out.WriteString(d)
		default:
			out.WriteRune(r)
		}
	}
	return out.String()
}

func TestCSVInEveryEncodingAndDelimiter(t *testing.T) {
	for _, enc := range []string{"UTF-8", "UTF-8 BOM", "UTF-16LE", "UTF-16BE", "Windows-1252"} {
		for name, d := range map[string]string{"comma": ",", "semicolon": ";", "tab": "\t"} {
			for _, eol := range []string{"\n", "\r\n"} {
				t.Run(enc+"/"+name+"/"+map[string]string{"\n": "LF", "\r\n": "CRLF"}[eol], func(t *testing.T) {
					text := strings.ReplaceAll(withDelimiter(rosterCSV, d), "\n", eol)
					s, f, err := OpenCSV(bytes.NewReader(encode(t, text, enc)), Limits{})
					if err != nil {
						t.Fatal(err)
					}
					if f.Delimiter != rune(d[0]) || f.Encoding != strings.TrimSuffix(enc, " BOM") {
						t.Fatalf("sniffed %+v", f)
					}
					checkRoster(t, readAll(t, s))
				})
			}
		}
	}
}

// The header decides the delimiter: a row whose free text holds more
// semicolons (or tabs) than the header has commas is still a comma file,
// and a title line above the header does not confuse it.
func TestSniffDelimiterByHeader(t *testing.T) {
	notes := strings.Repeat("allergi; ", 30)
	for name, c := range map[string]struct {
		text string
		want rune
	}{
		"semicolons in a comma file": {"First name,Last name,Email,Other information\nKari,N,kari@example.no," + notes + "\n", ','},
		"tabs in a comma file":       {"Email,Name,Notes\nkari@example.no,Kari," + strings.Repeat("a\t", 20) + "\n", ','},
		"commas in a semicolon file": {"Roster 2026\nE-post;Fornavn;Annet\nkari@example.no;Kari;" + strings.Repeat("a,", 20) + "\n", ';'},
		"quoted header cells":        {"\"E-mail\"\t\"Full name\"\nkari@example.no\tKari N\n", '\t'},
		"no header: most consistent": {"a;b;c\nd;e;f\n", ';'},
	} {
		t.Run(name, func(t *testing.T) {
			if got := SniffCSV([]byte(c.text)).Delimiter; got != c.want {
				t.Fatalf("delimiter %q, want %q", got, c.want)
			}
		})
	}
}

// A workbook as Excel and LibreOffice write them: a title row above the
// header, shared strings, a phone number Excel made a number, a date stored
// as a date, and the roster on a sheet named for its users.
func TestXLSX(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "Instruksjoner")
	f.SetCellStr("Instruksjoner", "A1", "Fyll ut arket Brukere")
	if _, err := f.NewSheet("Brukere"); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"Personalliste desember"},
		{"Fornavn", "Etternavn", "E-post", "Mobil", "Avdeling", "Eskaleringskontakt 1 navn", "Eskaleringskontakt 1 telefon",
			"Eskaleringskontakt 2 navn", "Eskaleringskontakt 2 telefon", "Kodeord", "Annet", "Turnus", "Turnus gjelder fra"},
		{"Kari", "Nordmann", "KARI@example.no", 91512345, "Nord", "Ola", 4741234567, "Per", "22 33 44 55", "blåbær", `Har hund, "Rex"`,
			"T-7", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{"Åse", "Ødegård", "ase@example.no", "+4798765432", "Sør", "Liv", 41234568, "Kjell", 41234569.0, "", "Ferie i juli"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Brukere", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	s, name, err := OpenXLSX(&buf, Limits{})
	if err != nil || name != "Brukere" {
		t.Fatalf("%q %v", name, err)
	}
	defer s.Close()
	got := readAll(t, s)
	// Kari's rota takes effect tomorrow: accepted, with a warning.
	if len(got) != 2 || got[0].Line != 3 || got[0].Profile.Rota == nil || got[0].Profile.Rota.EffectiveDate != "2026-11-24" ||
		len(got[0].Problems) != 1 || got[0].Problems[0].Severity != Warning || got[0].Problems[0].Column != "Turnus gjelder fra" {
		t.Fatalf("%+v", got)
	}
	got[0].Problems = nil
	checkRoster(t, got)
}

func TestWorkbooksThatCannotBeRead(t *testing.T) {
	f := excelize.NewFile()
	f.SetCellStr("Sheet1", "A1", "Email")
	var encrypted bytes.Buffer
	if err := f.Write(&encrypted, excelize.Options{Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	f = excelize.NewFile()
	f.SetCellStr("Sheet1", "B1", strings.Repeat("x", 32000))
	for i := 2; i < 200; i++ {
		cell, _ := excelize.CoordinatesToCellName(2, i)
		f.SetCellStr("Sheet1", cell, cell+strings.Repeat("y", 30000))
	}
	if err := f.Write(&plain); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		file   []byte
		limits Limits
		want   string
	}{
		{"encrypted", encrypted.Bytes(), Limits{}, "password-protected"},
		{"corrupt", []byte("PK\x03\x04 this is no workbook"), Limits{}, "damaged"},
		{"not a workbook", []byte("Email,Name\nkari@example.no,Kari\n"), Limits{}, "damaged"},
		{"empty", nil, Limits{}, "empty"},
		{"zip bomb", plain.Bytes(), Limits{MaxUnzipped: 1 << 20}, "unpacks to more"},
		{"too big", plain.Bytes(), Limits{MaxBytes: 1 << 10}, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := OpenXLSX(bytes.NewReader(tc.file), tc.limits)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Message, tc.want) {
				t.Fatalf("got %v, want a file error with %q", err, tc.want)
			}
		})
	}
}

func TestRowProblems(t *testing.T) {
	header := "Fornavn,Etternavn,E-post,Mobil,Rolle,Avdeling,Språk,Eskaleringskontakt 1 navn,Eskaleringskontakt 1 telefon," +
		"Eskaleringskontakt 2 navn,Eskaleringskontakt 2 telefon,Turnus,Turnus gjelder fra,Handling\n"
	ok := "Kari,N,kari%d@example.no,91512345,member,Nord,nb,Ola,41234567,Per,41234568,,,\n"
	cases := []struct {
		name, line string
		column     string // the column the problem names
		severity   string
		message    string
	}{
		{"no email", "Kari,N,,91512345,,,,Ola,41234567,Per,41234568,,,", "E-post", Error, "required"},
		{"bad email", "Kari,N,kari@,91512345,,,,Ola,41234567,Per,41234568,,,", "E-post", Error, "email"},
		{"no name", ",,k1@example.no,91512345,,,,Ola,41234567,Per,41234568,,,", "Fornavn", Error, "required"},
		{"unknown role", "Kari,N,k2@example.no,91512345,chief,,,Ola,41234567,Per,41234568,,,", "Rolle", Error, "no role"},
		{"unknown unit", "Kari,N,k3@example.no,91512345,,Vest,,Ola,41234567,Per,41234568,,,", "Avdeling", Error, "no unit"},
		{"bad language", "Kari,N,k4@example.no,91512345,,,xx-!!,Ola,41234567,Per,41234568,,,", "Språk", Error, "not a language"},
		{"bad mobile", "Kari,N,k5@example.no,123,,,,Ola,41234567,Per,41234568,,,", "Mobil", Error, "not a valid phone"},
		{"monitored without mobile", "Kari,N,k6@example.no,,,,,Ola,41234567,Per,41234568,,,", "Mobil", Error, "needs a mobile"},
		{"one escalation contact", "Kari,N,k7@example.no,91512345,,,,Ola,41234567,,,,,", "Eskaleringskontakt 1 navn", Error, "at least 2"},
		{"contact is the worker", "Kari,N,k8@example.no,91512345,,,,Ola,91512345,Per,41234568,,,", "Eskaleringskontakt 1 telefon", Error, "own number"},
		{"same contact twice", "Kari,N,k9@example.no,91512345,,,,Ola,41234567,Per,+4741234567,,,", "Eskaleringskontakt 2 telefon", Error, "same number"},
		{"contact without phone", "Kari,N,k10@example.no,91512345,,,,Ola,,Per,41234568,,,", "Eskaleringskontakt 1 telefon", Error, "required"},
		{"contact with a bad phone", "Kari,N,k11@example.no,91512345,,,,Ola,12,Per,41234568,,,", "Eskaleringskontakt 1 telefon", Error, "not a valid phone"},
		{"rota without date", "Kari,N,k12@example.no,91512345,,,,Ola,41234567,Per,41234568,T-7,,", "Turnus gjelder fra", Error, "required"},
		{"rota with a bad date", "Kari,N,k13@example.no,91512345,,,,Ola,41234567,Per,41234568,T-7,soon,", "Turnus gjelder fra", Error, "not a date"},
		{"rota at short notice", "Kari,N,k14@example.no,91512345,,,,Ola,41234567,Per,41234568,T-7,25.11.2026,", "Turnus gjelder fra", Warning, "less than 3 days"},
		{"unknown action", "Kari,N,k15@example.no,91512345,,,,Ola,41234567,Per,41234568,,,maybe", "Handling", Error, "not an action"},
		{"not monitored, details ignored", "Rex,R,k16@example.no,,reporter,,,Ola,41234567,,,,,", "", Warning, "not monitored"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := OpenCSV(strings.NewReader(header+tc.line+"\n"), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, s)
			if len(rows) != 1 {
				t.Fatalf("%d rows", len(rows))
			}
			var found bool
			for _, p := range rows[0].Problems {
				if p.Column == tc.column && p.Severity == tc.severity && strings.Contains(p.Message, tc.message) && p.Row == 2 {
					found = true
				}
			}
			if !found {
				t.Fatalf("want %s in %q with %q; got %+v", tc.severity, tc.column, tc.message, rows[0].Problems)
			}
			if rows[0].OK() != (tc.severity == Warning) {
				t.Fatalf("OK() = %v with %+v", rows[0].OK(), rows[0].Problems)
			}
		})
	}

	// Leavers need only their email; duplicates flag the later rows.
	text := header + strings.ReplaceAll(ok, "%d", "1") + ",,kari1@example.no,,,,,,,,,,,Sluttet\n" + ",,ola@example.no,,,,,,,,,,,remove\n"
	s, _, _ := OpenCSV(strings.NewReader(text), Limits{})
	rows := readAll(t, s)
	if !rows[0].OK() || rows[0].Change != Upsert || rows[2].Change != Remove || !rows[2].OK() {
		t.Fatalf("%+v", rows)
	}
	if rows[1].Change != Remove || rows[1].OK() || !strings.Contains(rows[1].Problems[0].Message, "same email as row 2") {
		t.Fatalf("duplicate: %+v", rows[1])
	}
}

func TestPhoneNumbersSpreadsheetsMangled(t *testing.T) {
	r := testRules()
	for raw, want := range map[string]string{
		"91512345": "+4791512345", "91512345.0": "+4791512345", "4791512345": "+4791512345", "4.791512345E9": "+4791512345",
		"4.791512345E+09": "+4791512345", "0047 915 12 345": "+4791512345", "46701234567": "+46701234567",
	} {
		if got, err := phoneNumber(raw, r.Region, r.Phones); err != nil || got != want {
			t.Errorf("%s: %q %v, want %s", raw, got, err, want)
		}
	}
}

func TestSplitName(t *testing.T) {
	for full, want := range map[string][2]string{
		"Kari Nordmann": {"Kari", "Nordmann"}, "Nordmann, Kari": {"Kari", "Nordmann"}, "Kari": {"Kari", ""},
		"Anne  Marie Nordmann": {"Anne Marie", "Nordmann"}, "": {"", ""},
	} {
		if f, l := splitName(full); f != want[0] || l != want[1] {
			t.Errorf("%q: %q %q", full, f, l)
		}
	}
}

// Files LibreOffice Calc wrote (testdata/libreoffice/README.md): its
// shared strings, the numbers and the date serial it made of what was typed,
// and its CSV in Windows-1252 with semicolons and in UTF-16 with tabs.
func TestFilesWrittenByLibreOffice(t *testing.T) {
	for _, name := range []string{"roster.xlsx", "roster-semicolon-windows1252.csv", "roster-tab-utf16.csv"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "libreoffice", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sheet, err := Open(name, f, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer sheet.Close()
			rows := readAll(t, sheet)
			if len(rows) != 3 {
				t.Fatalf("%d rows", len(rows))
			}
			kari, ase, liv := rows[0], rows[1], rows[2]
			if len(kari.Problems) != 0 || len(ase.Problems) != 0 {
				t.Fatalf("problems: %+v / %+v", kari.Problems, ase.Problems)
			}
			p := kari.Profile
			if kari.FirstName != "Kari" || kari.Email != "kari@example.no" || kari.Mobile != "+4791512345" || kari.UnitID != "u-nord" ||
				len(p.EscalationContacts) != 2 || p.EscalationContacts[0].Name != "Ola Øvre" || p.EscalationContacts[0].Phone != "+4741234567" ||
				p.EscalationContacts[1].Phone != "+4741234568" || p.Rota == nil || p.Rota.EffectiveDate != "2027-01-04" ||
				p.SafeWord != "blåbær" || p.LicencePlate != "AB 12345" || p.OtherInformation != "Nøkkel i postkassen" {
				t.Errorf("kari: %+v %+v", kari, p)
			}
			if ase.FirstName != "Åse" || ase.LastName != "Bråten" || ase.Mobile != "+4791512346" || ase.UnitID != "u-sor" {
				t.Errorf("åse: %+v", ase)
			}
			if liv.Email != "liv@example.no" || liv.Change != Remove {
				t.Errorf("liv: %+v", liv)
			}
		})
	}
}

// Words that mean an account's password are never read as a safe word (or
// anything else): the safe word goes to monitoring partners, and a
// password column must not. The uploader maps such a column if it really
// holds safe words.
func TestPasswordWordsAreNeverRecognised(t *testing.T) {
	for _, h := range []string{"Password", "Passwort", "Passord", "Lösenord", "Kata sandi", "Katasandi", "Mot de passe",
		"Adgangskode", "Salasana", "Kennwort", "Contraseña", "PIN", "PIN-kode", "Password (account)"} {
		if c, ok := MatchHeader(h); ok {
			t.Errorf("%q is read as %v; a password must never be taken for a roster field", h, c.Field)
		}
	}
}

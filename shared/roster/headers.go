// Package roster reads rosters of people from spreadsheets (XLSX and CSV, as
// Excel, LibreOffice and Google Sheets write them): it finds the header row,
// recognises columns by their names in several languages, and turns each row
// into a person with a monitoring profile, or into problems that name the row
// and the column.
package roster

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Field is what a column holds.
type Field int

// The fields a roster may have.
const (
	Unknown Field = iota
	FirstName
	LastName
	FullName
	Email
	Mobile
	Role
	Unit
	Language
	EscalationName  // with Column.N, 1 to 5
	EscalationPhone // with Column.N
	OutOfHoursName  // with Column.N, 1 to 3
	OutOfHoursPhone // with Column.N
	RotaReference
	RotaEffectiveDate
	SafeWord
	LicencePlate
	OtherInformation
	Action
)

var fieldNames = map[Field]string{
	FirstName: "firstName", LastName: "lastName", FullName: "name", Email: "email", Mobile: "mobile",
	Role: "role", Unit: "unit", Language: "language", EscalationName: "escalationContactName",
	EscalationPhone: "escalationContactPhone", OutOfHoursName: "outOfHoursContactName",
	OutOfHoursPhone: "outOfHoursContactPhone", RotaReference: "rotaReference", RotaEffectiveDate: "rotaEffectiveDate",
	SafeWord: "safeWord", LicencePlate: "licencePlate", OtherInformation: "otherInformation", Action: "action",
}

func (f Field) String() string {
	if n, ok := fieldNames[f]; ok {
		return n
	}
	return "unknown"
}

// Column is a recognised column: its field, and for numbered contacts which
// one (1-based).
type Column struct {
	Field Field
	N     int
}

// Header synonyms, normalised (see fold): English, Norwegian, Swedish,
// Danish, French and Indonesian, with the usual abbreviations.
var synonyms = map[Field][]string{
	FirstName: {"firstname", "first", "givenname", "forename", "fornavn", "fornamn", "prenom", "namadepan", "namapertama", "etunimi", "vorname", "nombre"},
	LastName: {"lastname", "surname", "familyname", "etternavn", "efternavn", "efternamn", "nom", "nomdefamille", "namabelakang",
		"namakeluarga", "sukunimi", "nachname", "apellido", "apellidos"},
	FullName: {"name", "fullname", "navn", "fulltnavn", "fuldtnavn", "namn", "fulltnamn", "nomcomplet", "nama", "namalengkap",
		"employee", "employeename", "worker", "workername", "ansatt", "anstalld", "medarbejder", "salarie", "karyawan", "nimi"},
	Email: {"email", "emailaddress", "mail", "epost", "epostadresse", "epostadress", "emailadresse", "mailadresse", "courriel",
		"adresseemail", "adressemail", "adresseelectronique", "adressecourriel", "surel", "alamatemail", "surelektronik", "sahkoposti"},
	Mobile: {"mobile", "mobilephone", "mobilenumber", "mobileno", "cell", "cellphone", "cellnumber", "phone", "phonenumber",
		"telephone", "tel", "mobil", "mobilnummer", "mobilnr", "mobiltelefon", "mobiltlf", "telefon", "telefonnummer", "telefonnr",
		"tlf", "tlfnr", "numerodemobile", "numerodetelephone", "numeromobile", "portable", "telephoneportable", "numerodeportable",
		"nomorponsel", "ponsel", "nomorhp", "hp", "nomortelepon", "telepon", "nohp", "notelp", "matkapuhelin", "puhelin", "handy"},
	Role:     {"role", "rolle", "roll", "peran", "rooli", "rol", "accessrole", "tilgang", "behorighet"},
	Unit:     {"unit", "units", "team", "teamunit", "department", "dept", "avdeling", "avdelning", "afdeling", "enhet", "enhed", "gruppe", "grupp", "group", "clinic", "klinikk", "klinik", "clientgroup", "unite", "equipe", "service", "tim", "unitkerja", "departemen", "bagian", "yksikko", "tiimi"},
	Language: {"language", "lang", "sprak", "sprog", "langue", "bahasa", "kieli", "sprache", "idioma"},
	RotaReference: {"rota", "rotareference", "rotaref", "rotaname", "shiftpattern", "schedule", "turnus", "turnusreferanse",
		"turnusnavn", "vaktplan", "vaktliste", "schema", "schemareferens", "arbetsschema", "vagtplan", "planning",
		"referenceplanning", "referencedeplanning", "roulement", "jadwal", "jadwalshift", "jadwalkerja", "tyovuorolista"},
	RotaEffectiveDate: {"rotaeffectivedate", "rotaeffective", "effectivedate", "effectivefrom", "rotastart", "rotastartdate",
		"rotadate", "rotafrom", "turnusgjelderfra", "gjelderfra", "turnusstart", "turnusdato", "gallerfran", "schemagallerfran",
		"schemastart", "giltigfran", "gaelderfra", "datedeffet", "dateeffet", "applicablele", "dateplanning", "tanggalberlaku",
		"berlakumulai", "mulaiberlaku", "voimassa"},
	SafeWord: {"safeword", "codeword", "safetyword", "duressword", "kodeord", "sikkerhetsord", "sikkerhedsord", "kodord",
		"sakerhetsord", "losenord", "motdesecurite", "motcode", "motdecode", "kataaman", "katasandi", "katakode", "turvasana"},
	LicencePlate: {"licenceplate", "licenseplate", "numberplate", "plate", "registration", "registrationnumber", "vehicleregistration",
		"carregistration", "vehicle", "car", "registreringsnummer", "regnr", "regnummer", "bilnummer", "skiltnummer", "registreringsnr",
		"bilregnr", "immatriculation", "plaque", "plaqueimmatriculation", "numerodimmatriculation", "platnomor", "nomorpolisi",
		"nopol", "nomorkendaraan", "rekisterinumero"},
	OtherInformation: {"otherinformation", "other", "otherinfo", "notes", "note", "comments", "comment", "remarks", "info",
		"information", "annet", "anneninformasjon", "annen", "merknad", "merknader", "kommentar", "kommentarer", "ovrigt",
		"ovriginformation", "andet", "anden", "bemaerkninger", "autres", "autresinformations", "remarques", "commentaires",
		"lainlain", "informasilain", "catatan", "keterangan", "muuta", "lisatiedot"},
	Action: {"action", "status", "handling", "atgard", "tindakan", "aksi", "toimenpide", "aktion"},
}

var exact = func() map[string]Field {
	m := map[string]Field{}
	for f, names := range synonyms {
		for _, n := range names {
			m[n] = f
		}
	}
	return m
}()

// Markers of the numbered contact columns, matched as substrings of the
// folded header once its number is taken out.
var (
	outOfHoursMarkers = []string{"outofhours", "ooh", "afterhours", "outsideofficehours", "outsidehours", "nighttime",
		"utenomarbeidstid", "utenforarbeidstid", "etterarbeidstid", "utenomkontortid", "utenforkontortid", "kveldnatt",
		"utanforkontorstid", "utanforarbetstid", "efterkontorstid", "udenforarbejdstid", "efterarbejdstid",
		"horsheures", "horsdesheures", "horsheuresouvrables", "nuit", "diluarjamkerja", "luarjamkerja", "luarjam",
		"tyoajanulkopuolella"}
	escalationMarkers = []string{"escalation", "emergency", "contact", "nextofkin", "eskalering", "kontakt", "kontaktperson",
		"parorende", "narmeste", "anhorig", "naerstaende", "escalade", "urgence", "personneaprevenir", "eskalasi", "kontak",
		"darurat", "yhteyshenkilo", "hatayhteys"}
	phoneMarkers = []string{"phone", "mobile", "mobil", "cell", "tel", "tlf", "telefon", "telepon", "telp", "number", "nummer",
		"numero", "nr", "no", "nomor", "ponsel", "hp", "portable", "puhelin"}
	nameMarkers = []string{"name", "navn", "namn", "nom", "nama", "nimi"}
)

// fold normalises a header for matching: letters and digits only, lower
// case, accents and Nordic letters folded ("Numéro de mobile" and
// "numero-de-mobile" both become "numerodemobile").
func fold(s string) string {
	if s == "" {
		return ""
	}
	// Bytes that are not UTF-8 go first: they are not letters, and beside
	// them the normaliser can leave a letter undecomposed (fuzzing found
	// "\xf5Ї", which then folded differently the second time).
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, _ = transform.String(t, strings.ToValidUTF8(s, ""))
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'ø':
			b.WriteByte('o')
		case 'æ':
			b.WriteString("ae")
		case 'ß':
			b.WriteString("ss")
		case 'ı':
			b.WriteByte('i')
		default:
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// MatchHeader recognises one header cell.
func MatchHeader(h string) (Column, bool) {
	if len(h) > 200 {
		return Column{}, false
	}
	f := fold(h)
	if f == "" || len(f) > 80 {
		return Column{}, false
	}
	if field, ok := exact[f]; ok {
		return Column{Field: field}, true
	}
	// Numbered contacts: "Escalation contact 2 phone", "Kontaktperson 2
	// mobil", "Contact hors heures 1 nom".
	n, rest := takeNumber(f)
	if n == 0 {
		return Column{}, false
	}
	contains := func(markers []string) bool {
		for _, m := range markers {
			if strings.Contains(rest, m) {
				return true
			}
		}
		return false
	}
	isPhone := func() bool {
		for _, m := range phoneMarkers {
			if strings.HasSuffix(rest, m) || strings.Contains(rest, m) && len(m) > 3 {
				return true
			}
		}
		return false
	}
	switch {
	case contains(outOfHoursMarkers):
		if n > 3 {
			return Column{}, false
		}
		if isPhone() {
			return Column{Field: OutOfHoursPhone, N: n}, true
		}
		return Column{Field: OutOfHoursName, N: n}, true
	case contains(escalationMarkers):
		if n > 5 {
			return Column{}, false
		}
		if isPhone() {
			return Column{Field: EscalationPhone, N: n}, true
		}
		return Column{Field: EscalationName, N: n}, true
	}
	return Column{}, false
}

// takeNumber removes the first run of digits from s and returns it (0 when
// there is none).
func takeNumber(s string) (int, string) {
	i := strings.IndexFunc(s, unicode.IsDigit)
	if i < 0 {
		return 0, s
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(s[i:j])
	if err != nil || n > 99 {
		return 0, s
	}
	return n, s[:i] + s[j:]
}

// Header is a sheet's header row, recognised.
type Header struct {
	Row     int      // 1-based row of the header in the sheet
	Columns []Column // by cell index; Field Unknown for columns not recognised
	Names   []string // the cells as written
	// Ignored lists the header cells that were not recognised.
	Ignored []string
	// Duplicates lists header cells that repeat a column already found
	// (the first one is used).
	Duplicates []string
}

// Index returns the cell index of a column, or -1.
func (h Header) Index(c Column) int {
	for i, hc := range h.Columns {
		if hc == c {
			return i
		}
	}
	return -1
}

// NameOf returns the header text of a column as the file has it, or the
// field's name when the file has no such column.
func (h Header) NameOf(c Column) string {
	if c.Field == Unknown {
		return ""
	}
	if i := h.Index(c); i >= 0 {
		return h.Names[i]
	}
	if c.N > 0 {
		return c.Field.String() + " " + strconv.Itoa(c.N)
	}
	return c.Field.String()
}

// ReadHeader recognises a header row. ok is false unless it has an email
// column and at least one other recognised column.
func ReadHeader(cells []string, row int) (h Header, ok bool) {
	h.Row = row
	seen := map[Column]bool{}
	found := 0
	for _, cell := range cells {
		name := strings.TrimSpace(cell)
		c, matched := MatchHeader(name)
		switch {
		case !matched:
			c = Column{}
			if name != "" {
				h.Ignored = append(h.Ignored, name)
			}
		case seen[c]:
			h.Duplicates = append(h.Duplicates, name)
			c = Column{}
		default:
			seen[c] = true
			found++
		}
		h.Columns = append(h.Columns, c)
		h.Names = append(h.Names, name)
	}
	return h, seen[Column{Field: Email}] && found >= 2
}

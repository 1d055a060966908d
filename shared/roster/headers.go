// Package roster reads rosters of people from spreadsheets (XLSX and CSV, as
// Excel, LibreOffice and Google Sheets write them): it finds the header row,
// recognises columns by their names in several languages, and turns each row
// into a person with a monitoring profile, or into problems that name the row
// and the column.
package roster

import (
	"slices"
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

// Header synonyms, normalised (see fold): the words people head these
// columns with, in English, Norwegian, Swedish, Danish, French and
// Indonesian (some Finnish, German and Spanish), with the usual
// abbreviations ("Tlf.nr" and "No. HP" fold to tlfnr and nohp). A word
// names one field only (TestSynonymsNameOneFieldEach). Words too vague to
// guess are left out: "Password", "PIN" (an account credential is not a
// safe word), "Start date" (the employment's), "Location", "Job title";
// the import names such columns as not read, and an uploader may map them.
var synonyms = map[Field][]string{
	FirstName: {"firstname", "firstnames", "first", "givenname", "givennames", "forename", "forenames", "christianname", "fname",
		"fornavn", "fornamn", "tilltalsnamn", "prenom", "prenoms", "namadepan", "namapertama", "namakecil", "etunimi", "vorname",
		"nombre", "nombres"},
	LastName: {"lastname", "lastnames", "surname", "surnames", "familyname", "lname", "etternavn", "etternamn", "slektsnavn",
		"efternavn", "efternamn", "slaktnamn", "nom", "nomdefamille", "namabelakang", "namakeluarga", "namaakhir", "sukunimi",
		"nachname", "familienname", "apellido", "apellidos"},
	FullName: {"name", "names", "fullname", "fullnames", "displayname", "personname", "navn", "fulltnavn", "fulltnamn",
		"fuldtnavn", "fuldenavn", "namn", "nomcomplet", "nometprenom", "nomprenom", "prenomnom", "prenometnom", "nama",
		"namalengkap", "employee", "employeename", "worker", "workername", "staffname", "ansatt", "ansattnavn", "ansattesnavn",
		"medarbeider", "medarbeidernavn", "anstalld", "medarbetare", "medarbetarnamn", "medarbejder", "medarbejdernavn",
		"salarie", "nomdusalarie", "karyawan", "namakaryawan", "pegawai", "namapegawai", "nimi", "kokonimi", "nombrecompleto"},
	Email: {"email", "emails", "emailaddress", "workemail", "workemailaddress", "mail", "mailaddress", "epost", "epostadresse",
		"epostadress", "jobbepost", "emailadresse", "emailadress", "mailadresse", "mailadress", "courriel", "adressecourriel",
		"adresseemail", "adressemail", "adresseelectronique", "surel", "alamatemail", "alamatsurel", "surelektronik", "emel",
		"sahkoposti", "sahkopostiosoite", "correo", "correoelectronico"},
	Mobile: {"mobile", "mobiles", "mobilephone", "mobilephonenumber", "mobilenumber", "mobileno", "mobilenr", "mob", "mobno",
		"workmobile", "cell", "cellphone", "cellphonenumber", "cellnumber", "cellno", "cellular", "phone", "phonenumber",
		"phoneno", "telephone", "telephonenumber", "tel", "telno", "telnr", "mobil", "mobilnummer", "mobilnr", "mobiltelefon",
		"mobiltelefonnummer", "mobiltlf", "mobtlf", "telefon", "telefonnummer", "telefonnr", "tlf", "tlfnr", "tlfnummer",
		"numerodemobile", "numeromobile", "numerodetelephone", "numerotelephone", "portable", "telephoneportable",
		"numerodeportable", "numeroportable", "ndeportable", "nodeportable", "ndetelephone", "nodetelephone", "gsm",
		"nomorponsel", "ponsel", "nomorhp", "hp", "nohp", "handphone", "nomorhandphone", "nomortelepon", "telepon", "notelp",
		"notelepon", "nomortelp", "telp", "matkapuhelin", "puhelin", "puhelinnumero", "matkapuhelinnumero", "handy",
		"handynummer", "telefonomovil", "movil", "celular"},
	Role: {"role", "roles", "userrole", "accessrole", "accesslevel", "permission", "permissions", "rolle", "tilgang",
		"tilgangsniva", "rettigheter", "roll", "behorighet", "behorigheter", "rettigheder", "peran", "hakakses", "rooli",
		"kayttooikeus", "rol"},
	Unit: {"unit", "units", "unitname", "team", "teamname", "teamunit", "department", "departmentname", "dept", "division",
		"section", "ward", "avdeling", "avdelingsnavn", "avdelingenhet", "seksjon", "avdelning", "avdelningsnamn", "sektion",
		"afdeling", "afdelingsnavn", "enhet", "enhed", "gruppe", "grupp", "group", "clinic", "klinikk", "klinik", "clientgroup",
		"unite", "equipe", "service", "departement", "tim", "unitkerja", "departemen", "bagian", "divisi", "seksi", "yksikko",
		"tiimi", "osasto", "abteilung", "departamento", "equipo"},
	Language: {"language", "languages", "preferredlanguage", "lang", "locale", "sprak", "foretrukketsprak", "sprog",
		"foretrukketsprog", "langue", "languepreferee", "bahasa", "kieli", "sprache", "idioma"},
	RotaReference: {"rota", "rotareference", "rotaref", "rotaname", "rotacode", "shiftpattern", "shiftplan", "schedule", "turnus",
		"turnusreferanse", "turnusnavn", "turnuskode", "vaktplan", "vaktliste", "schema", "schemareferens", "arbetsschema",
		"skiftschema", "vagtplan", "vagtskema", "planning", "referenceplanning", "referencedeplanning", "roulement",
		"jadwal", "jadwalshift", "jadwalkerja", "tyovuorolista", "dienstplan"},
	RotaEffectiveDate: {"rotaeffectivedate", "rotaeffective", "effectivedate", "effectivefrom", "rotastart", "rotastartdate",
		"rotadate", "rotafrom", "turnusgjelderfra", "gjelderfra", "turnusstart", "turnusdato", "gallerfran", "schemagallerfran",
		"schemastart", "giltigfran", "gaelderfra", "vagtplangaelderfra", "datedeffet", "dateeffet", "applicablele",
		"dateplanning", "tanggalberlaku", "berlakumulai", "mulaiberlaku", "voimassa"},
	SafeWord: {"safeword", "codeword", "safetyword", "securityword", "duressword", "passwordword", "verificationword",
		"kodeord", "kodeordvedalarm", "alarmkodeord", "sikkerhetsord", "sikkerhedsord", "kodord", "kodordvidlarm",
		"sakerhetsord", "motdesecurite", "motcode", "motdecode", "motdalerte", "kataaman", "katakode", "katarahasia", "turvasana", "palabradeseguridad"},
	LicencePlate: {"licenceplate", "licenseplate", "licenceplatenumber", "licenseplatenumber", "numberplate", "plate",
		"platenumber", "registration", "registrationnumber", "registrationno", "vehicleregistration", "vehiclereg",
		"vehicleregistrationnumber", "carregistration", "carreg", "vrn", "vehicle", "car", "registreringsnummer", "regnr",
		"regnummer", "bilnummer", "bilnr", "bilregnr", "kjennemerke", "skiltnummer", "registreringsnr",
		"registreringsskylt", "regskylt", "nummerskylt", "nummerplade", "nummerplate", "immatriculation", "plaque",
		"plaqueimmatriculation", "plaquedimmatriculation", "numerodimmatriculation", "ndimmatriculation",
		"nodimmatriculation", "platnomor", "nomorplat", "nomorpolisi", "nopol", "nomorkendaraan", "rekisterinumero",
		"rekisteritunnus", "kennzeichen", "matricula"},
	OtherInformation: {"otherinformation", "other", "otherinfo", "otherdetails", "additionalinformation", "additionalinfo",
		"notes", "note", "comments", "comment", "remarks", "info", "information", "annet", "anneninformasjon", "annen",
		"merknad", "merknader", "notat", "notater", "bemerkning", "bemerkninger", "kommentar", "kommentarer", "ovrigt",
		"ovriginformation", "anteckning", "anteckningar", "andet", "anden", "noter", "bemaerkninger", "autres",
		"autresinformations", "informationscomplementaires", "remarques", "remarque", "commentaires", "lainlain",
		"informasilain", "informasitambahan", "catatan", "keterangan", "muuta", "lisatiedot", "bemerkungen", "notas",
		"observaciones"},
	Action: {"action", "status", "handling", "endring", "atgard", "andring", "aendring", "tindakan", "aksi", "toimenpide",
		"aktion", "accion"},
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
	Columns []Column // by cell index; Field Unknown for columns not read
	// Custom are the keys of the organisation's custom fields by cell
	// index ("" for other columns).
	Custom []string
	Names  []string // the cells as written
	// Ignored lists the header cells that were not recognised.
	Ignored []string
	// Duplicates lists header cells that repeat a column already found
	// (the first one is used).
	Duplicates []string
	// Unread are the columns the header says are not read, and the headers
	// the column mapping names that the row lacks, in the file's order.
	Unread []Unread
}

// CustomIndex returns the cell index of a custom field's column, or -1.
func (h Header) CustomIndex(key string) int {
	for i, k := range h.Custom {
		if k == key {
			return i
		}
	}
	return -1
}

// HasCustom reports whether the header has a column of a custom field.
func (h Header) HasCustom() bool {
	return slices.ContainsFunc(h.Custom, func(k string) bool { return k != "" })
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
func ReadHeader(cells []string, row int) (h Header, ok bool) { return Mapping{}.ReadHeader(cells, row) }

// ReadHeader recognises a header row, taking the columns the mapping names
// first, whatever their place, then recognising the others by name.
func (m Mapping) ReadHeader(cells []string, row int) (h Header, ok bool) {
	h.Row = row
	h.Columns = make([]Column, len(cells))
	h.Names = make([]string, len(cells))
	h.Custom = make([]string, len(cells))
	at := map[Column]int{} // cell index of each column read
	customAt := map[string]int{}
	byMapping := map[int]bool{} // cells the mapping decided
	inRow := map[string]bool{}  // folded headers of the mapping found
	for i, cell := range cells {
		h.Names[i] = strings.TrimSpace(cell)
		mp, found := m.lookup(h.Names[i])
		if !found {
			continue
		}
		byMapping[i], inRow[fold(h.Names[i])] = true, true
		_, dup := at[mp.column]
		switch first, customDup := customAt[mp.custom]; {
		case mp.custom != "" && customDup:
			h.Duplicates = append(h.Duplicates, h.Names[i])
			h.Unread = append(h.Unread, repeatedField(i, row, h.Names[i], first, h.Names[first], mp.custom))
		case mp.custom != "":
			customAt[mp.custom], h.Custom[i] = i, mp.custom
		case mp.column == Column{}:
			h.Unread = append(h.Unread, mappedToIgnore(i, row, h.Names[i]))
		case dup: // two cells of the row fold to the same header
			h.Duplicates = append(h.Duplicates, h.Names[i])
			h.Unread = append(h.Unread, repeated(i, row, h.Names[i], at[mp.column], h.Names[at[mp.column]], mp.column))
		default:
			at[mp.column], h.Columns[i] = i, mp.column
		}
	}
	for i, name := range h.Names {
		if byMapping[i] {
			continue
		}
		// The organisation's own field names win over recognition: they
		// are its vocabulary, and the template heads the columns so.
		if key := m.fields[fold(name)]; key != "" && name != "" {
			if first, dup := customAt[key]; dup {
				h.Duplicates = append(h.Duplicates, name)
				h.Unread = append(h.Unread, repeatedField(i, row, name, first, h.Names[first], key))
			} else {
				customAt[key], h.Custom[i] = i, key
			}
			continue
		}
		c, matched := MatchHeader(name)
		_, dup := at[c]
		switch {
		case !matched:
			if name != "" {
				h.Ignored = append(h.Ignored, name)
				h.Unread = append(h.Unread, notRecognised(i, row, name))
			}
		case dup:
			h.Duplicates = append(h.Duplicates, name)
			h.Unread = append(h.Unread, repeated(i, row, name, at[c], h.Names[at[c]], c))
		default:
			at[c], h.Columns[i] = i, c
		}
	}
	for f, mp := range m.byHeader {
		if !inRow[f] {
			h.Unread = append(h.Unread, notInFile(row, mp.header, mp.key()))
		}
	}
	sortUnread(h.Unread)
	_, hasEmail := at[Column{Field: Email}]
	return h, hasEmail && len(at) >= 2
}

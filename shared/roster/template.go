package roster

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/formula"
	"onboarding/shared/org"
)

// labels are a language's names for the template's columns and sheets.
type labels struct {
	fields                     map[Field]string
	escalation, outOfHours     string // numbered contact columns: "<escalation> 1 <name>"
	name, phone                string
	sheet, listsSheet, helpTab string
	help                       []string
	rules                      fieldWords
}

// fieldWords describe a custom field's rules on the instructions sheet.
type fieldWords struct {
	heading, text, number, whole, date  string
	oneOf, someOf                       string // %s: the values
	between, atLeast, atMost            string // %s: the bounds
	required, optional, whenIs, whenHas string // whenIs, whenHas: %s the other field's label, %s the value
}

var fieldRules = map[string]fieldWords{
	"en": {heading: "The organisation's own fields:", text: "text", number: "a number", whole: "a whole number", date: "a date (YYYY-MM-DD)",
		oneOf: "one of: %s", someOf: "one or more of: %s (separate values with ;)", between: "from %s to %s", atLeast: "at least %s",
		atMost: "at most %s", required: "required", optional: "optional", whenIs: "required when %s is %s", whenHas: "required when %s includes %s"},
	"nb": {heading: "Organisasjonens egne felt:", text: "tekst", number: "et tall", whole: "et heltall", date: "en dato (ÅÅÅÅ-MM-DD)",
		oneOf: "én av: %s", someOf: "én eller flere av: %s (skill verdiene med ;)", between: "fra %s til %s", atLeast: "minst %s",
		atMost: "høyst %s", required: "må fylles ut", optional: "valgfritt", whenIs: "må fylles ut når %s er %s", whenHas: "må fylles ut når %s inneholder %s"},
	"sv": {heading: "Organisationens egna fält:", text: "text", number: "ett tal", whole: "ett heltal", date: "ett datum (ÅÅÅÅ-MM-DD)",
		oneOf: "ett av: %s", someOf: "ett eller flera av: %s (skilj värdena åt med ;)", between: "från %s till %s", atLeast: "minst %s",
		atMost: "högst %s", required: "obligatoriskt", optional: "valfritt", whenIs: "obligatoriskt när %s är %s", whenHas: "obligatoriskt när %s innehåller %s"},
	"da": {heading: "Organisationens egne felter:", text: "tekst", number: "et tal", whole: "et heltal", date: "en dato (ÅÅÅÅ-MM-DD)",
		oneOf: "én af: %s", someOf: "én eller flere af: %s (adskil værdierne med ;)", between: "fra %s til %s", atLeast: "mindst %s",
		atMost: "højst %s", required: "påkrævet", optional: "valgfrit", whenIs: "påkrævet når %s er %s", whenHas: "påkrævet når %s indeholder %s"},
	"fr": {heading: "Champs propres à l'organisation :", text: "texte", number: "un nombre", whole: "un nombre entier", date: "une date (AAAA-MM-JJ)",
		oneOf: "une valeur parmi : %s", someOf: "une ou plusieurs valeurs parmi : %s (séparez-les par ;)", between: "de %s à %s",
		atLeast: "au moins %s", atMost: "au plus %s", required: "obligatoire", optional: "facultatif", whenIs: "obligatoire si %s vaut %s",
		whenHas: "obligatoire si %s contient %s"},
	"id": {heading: "Kolom khusus organisasi:", text: "teks", number: "angka", whole: "bilangan bulat", date: "tanggal (TTTT-BB-HH)",
		oneOf: "salah satu dari: %s", someOf: "satu atau lebih dari: %s (pisahkan nilai dengan ;)", between: "dari %s sampai %s",
		atLeast: "minimal %s", atMost: "maksimal %s", required: "wajib diisi", optional: "opsional", whenIs: "wajib diisi jika %s adalah %s",
		whenHas: "wajib diisi jika %s berisi %s"},
}

// describe is a field's line on the instructions sheet: its column, type,
// values or bounds, and when it is required.
func (w fieldWords) describe(f org.CustomField, fields []org.CustomField) string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	parts := []string{}
	switch f.Type {
	case org.FieldNumber:
		kind := w.number
		if f.Integer {
			kind = w.whole
		}
		switch {
		case f.Min != nil && f.Max != nil:
			kind += ", " + fmt.Sprintf(w.between, num(*f.Min), num(*f.Max))
		case f.Min != nil:
			kind += ", " + fmt.Sprintf(w.atLeast, num(*f.Min))
		case f.Max != nil:
			kind += ", " + fmt.Sprintf(w.atMost, num(*f.Max))
		}
		parts = append(parts, kind)
	case org.FieldDate:
		parts = append(parts, w.date)
	case org.FieldSelect:
		parts = append(parts, fmt.Sprintf(w.oneOf, strings.Join(f.AllowedValues, ", ")))
	case org.FieldMultiselect:
		parts = append(parts, fmt.Sprintf(w.someOf, strings.Join(f.AllowedValues, ", ")))
	default:
		parts = append(parts, w.text)
	}
	switch c := f.RequiredWhen; {
	case f.Required:
		parts = append(parts, w.required)
	case c != nil:
		other, format := c.Field, w.whenIs
		for _, o := range fields {
			if o.Key == c.Field {
				other = o.Label
				if o.Type == org.FieldMultiselect {
					format = w.whenHas
				}
			}
		}
		parts = append(parts, fmt.Sprintf(format, other, c.Equals))
	default:
		parts = append(parts, w.optional)
	}
	return f.Label + ": " + strings.Join(parts, "; ") + "."
}

var templateLabels = map[string]labels{
	"en": {
		fields: map[Field]string{FirstName: "First name", LastName: "Last name", Email: "Email", Mobile: "Mobile", Role: "Role",
			Unit: "Unit", Language: "Language", RotaReference: "Rota", RotaEffectiveDate: "Rota effective date",
			SafeWord: "Safe word", LicencePlate: "Licence plate", OtherInformation: "Other information", Action: "Action"},
		escalation: "Escalation contact", outOfHours: "Out-of-hours contact", name: "name", phone: "phone",
		sheet: "Users", listsSheet: "Lists", helpTab: "Instructions",
		help: []string{
			"One row per person, on the Users sheet. Keep the header row; columns may be in any order.",
			"Email is required. Give a first and last name, a mobile number, and a role and unit from the drop-down lists (blank: the organisation's defaults).",
			"Monitored workers need at least two escalation contacts, each with a name and a phone number, not their own.",
			"Out-of-hours contacts are called outside office hours. Phone numbers may be national (in the organisation's country) or start with +.",
			"Rota effective date: the date the rota takes effect (YYYY-MM-DD); less than three days ahead is accepted with a warning.",
			"Action: leave blank to add or update the person; write remove for a leaver.",
		},
	},
	"nb": {
		fields: map[Field]string{FirstName: "Fornavn", LastName: "Etternavn", Email: "E-post", Mobile: "Mobil", Role: "Rolle",
			Unit: "Avdeling", Language: "Språk", RotaReference: "Turnus", RotaEffectiveDate: "Turnus gjelder fra",
			SafeWord: "Kodeord", LicencePlate: "Registreringsnummer", OtherInformation: "Annet", Action: "Handling"},
		escalation: "Eskaleringskontakt", outOfHours: "Kontakt utenom arbeidstid", name: "navn", phone: "telefon",
		sheet: "Brukere", listsSheet: "Lister", helpTab: "Veiledning",
		help: []string{
			"Én rad per person, på arket Brukere. Behold overskriftsraden; kolonnene kan stå i hvilken som helst rekkefølge.",
			"E-post må fylles ut. Oppgi fornavn og etternavn, mobilnummer, og rolle og avdeling fra nedtrekkslistene (tomt: organisasjonens standard).",
			"Overvåkede ansatte trenger minst to eskaleringskontakter, hver med navn og telefonnummer, ikke sitt eget.",
			"Kontakter utenom arbeidstid ringes utenfor kontortiden. Telefonnumre kan være norske uten landskode eller starte med +.",
			"Turnus gjelder fra: datoen turnusen gjelder fra (ÅÅÅÅ-MM-DD); mindre enn tre dager frem godtas med en advarsel.",
			"Handling: la stå tomt for å legge til eller oppdatere personen; skriv fjern for en som slutter.",
		},
	},
	"sv": {
		fields: map[Field]string{FirstName: "Förnamn", LastName: "Efternamn", Email: "E-post", Mobile: "Mobil", Role: "Roll",
			Unit: "Avdelning", Language: "Språk", RotaReference: "Schema", RotaEffectiveDate: "Schema gäller från",
			SafeWord: "Kodord", LicencePlate: "Registreringsnummer", OtherInformation: "Övrigt", Action: "Åtgärd"},
		escalation: "Eskaleringskontakt", outOfHours: "Kontakt utanför kontorstid", name: "namn", phone: "telefon",
		sheet: "Användare", listsSheet: "Listor", helpTab: "Instruktioner",
		help: []string{
			"En rad per person, på bladet Användare. Behåll rubrikraden; kolumnerna får stå i valfri ordning.",
			"E-post krävs. Ange för- och efternamn, mobilnummer samt roll och avdelning från listorna (tomt: organisationens standard).",
			"Övervakade medarbetare behöver minst två eskaleringskontakter, var och en med namn och telefonnummer, inte sitt eget.",
			"Kontakter utanför kontorstid rings utanför kontorstid. Telefonnummer får vara nationella eller börja med +.",
			"Schema gäller från: datumet då schemat börjar gälla (ÅÅÅÅ-MM-DD); mindre än tre dagar fram godtas med en varning.",
			"Åtgärd: lämna tomt för att lägga till eller uppdatera personen; skriv ta bort för den som slutar.",
		},
	},
	"da": {
		fields: map[Field]string{FirstName: "Fornavn", LastName: "Efternavn", Email: "E-mail", Mobile: "Mobil", Role: "Rolle",
			Unit: "Afdeling", Language: "Sprog", RotaReference: "Vagtplan", RotaEffectiveDate: "Gælder fra",
			SafeWord: "Kodeord", LicencePlate: "Registreringsnummer", OtherInformation: "Andet", Action: "Handling"},
		escalation: "Eskaleringskontakt", outOfHours: "Kontakt udenfor arbejdstid", name: "navn", phone: "telefon",
		sheet: "Brugere", listsSheet: "Lister", helpTab: "Vejledning",
		help: []string{
			"Én række pr. person, på arket Brugere. Behold overskriftsrækken; kolonnerne må stå i vilkårlig rækkefølge.",
			"E-mail er påkrævet. Angiv fornavn og efternavn, mobilnummer samt rolle og afdeling fra rullelisterne (tomt: organisationens standard).",
			"Overvågede medarbejdere skal have mindst to eskaleringskontakter, hver med navn og telefonnummer, ikke deres eget.",
			"Kontakter udenfor arbejdstid ringes op uden for kontortid. Telefonnumre kan være nationale eller starte med +.",
			"Gælder fra: datoen vagtplanen gælder fra (ÅÅÅÅ-MM-DD); mindre end tre dage frem godtages med en advarsel.",
			"Handling: lad feltet stå tomt for at tilføje eller opdatere personen; skriv fjern for en, der stopper.",
		},
	},
	"fr": {
		fields: map[Field]string{FirstName: "Prénom", LastName: "Nom", Email: "Courriel", Mobile: "Numéro de mobile", Role: "Rôle",
			Unit: "Équipe", Language: "Langue", RotaReference: "Planning", RotaEffectiveDate: "Date d'effet",
			SafeWord: "Mot de sécurité", LicencePlate: "Immatriculation", OtherInformation: "Autres informations", Action: "Action"},
		escalation: "Contact d'escalade", outOfHours: "Contact hors heures", name: "nom", phone: "téléphone",
		sheet: "Utilisateurs", listsSheet: "Listes", helpTab: "Instructions",
		help: []string{
			"Une ligne par personne, dans la feuille Utilisateurs. Gardez la ligne d'en-tête ; les colonnes peuvent être dans n'importe quel ordre.",
			"Le courriel est obligatoire. Indiquez prénom et nom, numéro de mobile, ainsi que le rôle et l'équipe des listes déroulantes (vide : valeurs par défaut de l'organisation).",
			"Les travailleurs surveillés ont besoin d'au moins deux contacts d'escalade, chacun avec un nom et un numéro, qui n'est pas le leur.",
			"Les contacts hors heures sont appelés en dehors des heures de bureau. Les numéros peuvent être nationaux ou commencer par +.",
			"Date d'effet : la date à laquelle le planning s'applique (AAAA-MM-JJ) ; moins de trois jours à l'avance est accepté avec un avertissement.",
			"Action : laissez vide pour ajouter ou mettre à jour la personne ; écrivez supprimer pour un départ.",
		},
	},
	"id": {
		fields: map[Field]string{FirstName: "Nama depan", LastName: "Nama belakang", Email: "Email", Mobile: "Nomor ponsel", Role: "Peran",
			Unit: "Unit", Language: "Bahasa", RotaReference: "Jadwal", RotaEffectiveDate: "Tanggal berlaku",
			SafeWord: "Kata aman", LicencePlate: "Nomor polisi", OtherInformation: "Informasi lain", Action: "Tindakan"},
		escalation: "Kontak eskalasi", outOfHours: "Kontak di luar jam kerja", name: "nama", phone: "telepon",
		sheet: "Pengguna", listsSheet: "Daftar", helpTab: "Petunjuk",
		help: []string{
			"Satu baris per orang, di lembar Pengguna. Pertahankan baris judul; urutan kolom bebas.",
			"Email wajib diisi. Isi nama depan dan belakang, nomor ponsel, serta peran dan unit dari daftar pilihan (kosong: bawaan organisasi).",
			"Pekerja yang dipantau memerlukan setidaknya dua kontak eskalasi, masing-masing dengan nama dan nomor telepon, bukan nomornya sendiri.",
			"Kontak di luar jam kerja dihubungi di luar jam kantor. Nomor telepon boleh nomor nasional atau diawali +.",
			"Tanggal berlaku: tanggal jadwal mulai berlaku (TTTT-BB-HH); kurang dari tiga hari ke depan diterima dengan peringatan.",
			"Tindakan: kosongkan untuk menambah atau memperbarui orang tersebut; tulis hapus untuk yang keluar.",
		},
	},
}

// TemplateLanguages are the languages the template comes in; others get
// English.
func TemplateLanguages() []string { return []string{"en", "nb", "sv", "da", "fr", "id"} }

func labelsFor(lang string) (labels, string) {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if base == "no" || base == "nn" {
		base = "nb"
	}
	l, ok := templateLabels[base]
	if !ok {
		l, base = templateLabels["en"], "en"
	}
	l.rules = fieldRules[base]
	return l, base
}

// templateColumns are the template's columns, in order.
func templateColumns() []Column {
	cs := []Column{{Field: FirstName}, {Field: LastName}, {Field: Email}, {Field: Mobile}, {Field: Role}, {Field: Unit}, {Field: Language}}
	for n := 1; n <= 5; n++ {
		cs = append(cs, Column{EscalationName, n}, Column{EscalationPhone, n})
	}
	for n := 1; n <= 3; n++ {
		cs = append(cs, Column{OutOfHoursName, n}, Column{OutOfHoursPhone, n})
	}
	return append(cs, Column{Field: RotaReference}, Column{Field: RotaEffectiveDate}, Column{Field: SafeWord},
		Column{Field: LicencePlate}, Column{Field: OtherInformation}, Column{Field: Action})
}

func (l labels) header(c Column) string {
	switch c.Field {
	case EscalationName:
		return fmt.Sprintf("%s %d %s", l.escalation, c.N, l.name)
	case EscalationPhone:
		return fmt.Sprintf("%s %d %s", l.escalation, c.N, l.phone)
	case OutOfHoursName:
		return fmt.Sprintf("%s %d %s", l.outOfHours, c.N, l.name)
	case OutOfHoursPhone:
		return fmt.Sprintf("%s %d %s", l.outOfHours, c.N, l.phone)
	}
	return l.fields[c.Field]
}

// TemplateHeader is the template's header row in a language, then a
// column per custom field, headed by its label.
func TemplateHeader(lang string, fields ...org.CustomField) []string {
	l, _ := labelsFor(lang)
	var out []string
	for _, c := range templateColumns() {
		out = append(out, l.header(c))
	}
	for _, f := range fields {
		out = append(out, f.Label)
	}
	return out
}

// Template is what a roster template offers: the roles (display names in
// the template's language) and units one may give, and the organisation's
// custom fields.
type Template struct {
	Language string
	Roles    []string
	Units    []string
	Fields   []org.CustomField
}

// WriteTemplateCSV writes the template's header as UTF-8 CSV with a byte
// order mark.
func WriteTemplateCSV(w io.Writer, lang string, fields []org.CustomField) error {
	if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := TemplateHeader(lang, fields...)
	for i, h := range header {
		header[i] = formula.Neutralize(h) // labels stored before they were checked
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// templateRows is how far down the template's drop-downs and formats reach.
const templateRows = 5000

// WriteTemplateXLSX writes the template workbook in a language: the users
// sheet with its header, drop-downs for role, unit, action and the select
// and multiselect fields, number bounds as validation, phone columns
// formatted as text (so Excel keeps their + and leading zeros), date
// columns as dates; and a sheet of instructions, with each custom field's
// rules.
func WriteTemplateXLSX(w io.Writer, t Template) error {
	l, base := labelsFor(t.Language)
	roles, units := t.Roles, t.Units
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", l.sheet); err != nil {
		return err
	}
	header := TemplateHeader(base, t.Fields...)
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = h
	}
	if err := f.SetSheetRow(l.sheet, "A1", &cells); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(header))
	if err := f.SetCellStyle(l.sheet, "A1", last+"1", bold); err != nil {
		return err
	}
	if err := f.SetPanes(l.sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := f.SetColWidth(l.sheet, "A", last, 18); err != nil {
		return err
	}

	// Lists for the drop-downs live on a hidden sheet: an inline list is
	// limited to 255 characters.
	if _, err := f.NewSheet(l.listsSheet); err != nil {
		return err
	}
	lists := map[Field][]string{Role: roles, Unit: units, Action: {"", removeWordFor(base)}}
	col := 1
	// dropDown offers values from a column of the lists sheet.
	dropDown := func(ref string, values []string, strict bool, prompt string) error {
		listCol, _ := excelize.ColumnNumberToName(col)
		col++
		for r, v := range values {
			if err := f.SetCellStr(l.listsSheet, fmt.Sprintf("%s%d", listCol, r+1), v); err != nil {
				return err
			}
		}
		dv := excelize.NewDataValidation(true)
		dv.Sqref = ref
		dv.SetSqrefDropList(fmt.Sprintf("'%s'!$%s$1:$%s$%d", l.listsSheet, listCol, listCol, len(values)))
		if !strict {
			// Several values joined by ; are not in the list: say so, and
			// let the import check them.
			dv.SetError(excelize.DataValidationErrorStyleInformation, "", prompt)
		}
		if prompt != "" {
			dv.SetInput("", prompt)
		}
		return f.AddDataValidation(l.sheet, dv)
	}
	for i, fd := range t.Fields {
		name, _ := excelize.ColumnNumberToName(len(templateColumns()) + i + 1)
		ref := fmt.Sprintf("%s2:%s%d", name, name, templateRows+1)
		prompt := promptText(l.rules.describe(fd, t.Fields))
		var err error
		switch fd.Type {
		case org.FieldSelect:
			err = dropDown(ref, fd.AllowedValues, true, prompt)
		case org.FieldMultiselect:
			err = dropDown(ref, fd.AllowedValues, false, prompt)
		case org.FieldDate:
			err = f.SetColStyle(l.sheet, name, date)
		case org.FieldNumber:
			err = numberValidation(f, l.sheet, ref, fd, prompt)
		default:
			err = f.SetColStyle(l.sheet, name, text)
		}
		if err != nil {
			return err
		}
	}
	for i, c := range templateColumns() {
		name, _ := excelize.ColumnNumberToName(i + 1)
		ref := fmt.Sprintf("%s2:%s%d", name, name, templateRows+1)
		switch c.Field {
		case Mobile, EscalationPhone, OutOfHoursPhone:
			if err := f.SetColStyle(l.sheet, name, text); err != nil {
				return err
			}
		case RotaEffectiveDate:
			if err := f.SetColStyle(l.sheet, name, date); err != nil {
				return err
			}
		case Role, Unit, Action:
			values := lists[c.Field]
			if len(values) == 0 {
				continue
			}
			if err := dropDown(ref, values, true, ""); err != nil {
				return err
			}
		}
	}
	if err := f.SetSheetVisible(l.listsSheet, false); err != nil {
		return err
	}

	if _, err := f.NewSheet(l.helpTab); err != nil {
		return err
	}
	help := slices.Clone(l.help)
	if len(t.Fields) > 0 {
		help = append(help, "", l.rules.heading)
		for _, fd := range t.Fields {
			help = append(help, l.rules.describe(fd, t.Fields))
		}
	}
	for i, line := range help {
		if err := f.SetCellStr(l.helpTab, fmt.Sprintf("A%d", i+1), line); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(l.helpTab, "A", "A", 140); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	_, err = f.WriteTo(w)
	return err
}

// numberValidation bounds a number field's column as the import does.
func numberValidation(f *excelize.File, sheet, ref string, fd org.CustomField, prompt string) error {
	kind := excelize.DataValidationTypeDecimal
	if fd.Integer {
		kind = excelize.DataValidationTypeWhole
	}
	dv := excelize.NewDataValidation(true)
	dv.Sqref = ref
	var err error
	switch {
	case fd.Min != nil && fd.Max != nil:
		err = dv.SetRange(*fd.Min, *fd.Max, kind, excelize.DataValidationOperatorBetween)
	case fd.Min != nil:
		err = dv.SetRange(*fd.Min, "", kind, excelize.DataValidationOperatorGreaterThanOrEqual)
	case fd.Max != nil:
		err = dv.SetRange(*fd.Max, "", kind, excelize.DataValidationOperatorLessThanOrEqual)
	default:
		err = dv.SetRange(-1e15, 1e15, kind, excelize.DataValidationOperatorBetween)
	}
	if err != nil {
		return err
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, "", prompt)
	dv.SetInput("", prompt)
	return f.AddDataValidation(sheet, dv)
}

// promptText cuts a validation message to what Excel shows (its limit is
// 225 characters for an error message); the instructions sheet has it all.
func promptText(s string) string {
	if r := []rune(s); len(r) > 220 {
		return string(r[:219]) + "…"
	}
	return s
}

func removeWordFor(lang string) string {
	return map[string]string{"en": "remove", "nb": "fjern", "sv": "ta bort", "da": "fjern", "fr": "supprimer", "id": "hapus"}[lang]
}

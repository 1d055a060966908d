package roster

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
)

// Change is what a row asks for.
type Change string

const (
	Upsert Change = "upsert" // add the person, or update them
	Remove Change = "remove" // remove the member or revoke the invitation
)

// Folded words for the action column: blank adds or updates.
var (
	removeWords = []string{"remove", "removed", "delete", "leaver", "left", "leaving", "terminated", "inactive", "fjern", "fjernes",
		"slett", "slutter", "sluttet", "sluta", "slutat", "tabort", "radera", "avslutad", "ophort", "fratradt", "supprimer",
		"suppression", "retirer", "depart", "parti", "partie", "hapus", "keluar", "berhenti", "nonaktif", "poista", "lopettanut"}
	upsertWords = []string{"add", "update", "new", "active", "keep", "upsert", "leggtil", "ny", "oppdater", "aktiv", "behold",
		"laggtill", "uppdatera", "tilfoj", "opdater", "ajouter", "nouveau", "modifier", "miseajour", "actif", "tambah", "baru",
		"perbarui", "perbaharui", "aktif", "lisaa", "paivita"}
)

// Severity of a problem.
const (
	Error   = "error"
	Warning = "warning"
)

// Problem is something wrong (Error: the row is not applied) or worth
// knowing (Warning: it is) about one row, naming the column as the file
// names it.
type Problem struct {
	Row      int    `json:"row"`
	Column   string `json:"column,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	// Key and Args say Message again for the report in the reader's
	// language (see Note).
	Key  string            `json:"-"`
	Args map[string]string `json:"-"`
}

// Rules say how to read rows for one organisation.
type Rules struct {
	Phones      monitor.PhoneParser
	Region      string // default phone region, e.g. NO
	DateOrder   string // "mdy" for month-first dates; else day first
	Today       time.Time
	DefaultRole string
	DefaultUnit string // a unit id, or ""
	// Role returns the organisation's role of this name, if it has one.
	Role func(name string) (string, bool)
	// Unit returns the id of the unit with this name or id, if any.
	Unit func(name string) (string, bool)
	// Monitored reports whether the workers of a role are monitored: their
	// rows need a mobile number and escalation contacts.
	Monitored func(role string) bool
	// Columns is the uploader's column mapping: it wins over recognising
	// headers by name.
	Columns Mapping
	// Fields are the organisation's custom fields: each is read from the
	// column headed by its label or key, and rows are checked by
	// org.CheckValues, as the API checks an invitation.
	Fields []org.CustomField

	// contactPhones reads contacts' numbers as phoneNumber does,
	// remembering what it has seen: many rows share the same escalation
	// contacts (a worker's own number is rarely repeated: remembering those
	// would only cost memory).
	contactPhones monitor.PhoneParser
	// language normalises a language tag, remembering what it has seen.
	language func(string) (string, error)
}

// Row is one person of a roster, as read.
type Row struct {
	Line      int
	Change    Change
	Email     string
	FirstName string
	LastName  string
	Mobile    string // E.164
	Role      string // as given, else the default
	UnitID    string // as given, else the default ("" for none)
	RoleSet   bool   // the row names a role
	UnitSet   bool   // the row names a unit
	Language  string
	// Monitored is set when the row's role (as given, else the default) is
	// monitored; ProfileGiven when the row has monitoring details. A row
	// with neither a role nor details leaves the profile as it is.
	Monitored    bool
	ProfileGiven bool
	Profile      monitor.Profile
	// Attributes are the custom field values, checked; AttributesGiven
	// says the file has a column of a custom field (else a pending
	// invitation keeps its values).
	Attributes      org.Attributes
	AttributesGiven bool
	Problems        []Problem
}

// OK reports whether the row can be applied (it has no errors).
func (r Row) OK() bool {
	for _, p := range r.Problems {
		if p.Severity == Error {
			return false
		}
	}
	return true
}

// cell returns the trimmed value of a column in cells ("" when absent).
func (h Header) cell(cells []string, c Column) string {
	i := h.Index(c)
	if i < 0 || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(cells[i], "\u00a0", " "))
}

// Parse reads one data row.
func (h Header) Parse(cells []string, line int, rules Rules) Row {
	row := Row{Line: line, Change: Upsert}
	problem := func(c Column, severity, key string, kargs map[string]string, format string, args ...any) {
		row.Problems = append(row.Problems, Problem{Row: line, Column: h.NameOf(c), Severity: severity, Message: fmt.Sprintf(format, args...),
			Key: key, Args: kargs})
	}
	// An error of clean or monitor, said by its known message's key.
	problemOf := func(c Column, severity, prefix, msg string) {
		key, kargs := NoteFor(msg)
		problem(c, severity, key, kargs, "%s%s", prefix, msg)
	}
	value := func(v string) map[string]string { return map[string]string{"Value": v} }
	get := func(f Field) string { return h.cell(cells, Column{Field: f}) }

	switch a := fold(get(Action)); {
	case a == "" || slices.Contains(upsertWords, a):
	case slices.Contains(removeWords, a):
		row.Change = Remove
	default:
		problem(Column{Field: Action}, Error, "action.unknown", value(get(Action)), "%q is not an action: leave it blank to add or update, or write remove", get(Action))
	}

	email, err := clean.Email(get(Email))
	if err != nil {
		problemOf(Column{Field: Email}, Error, "", message(err))
	}
	row.Email = email
	if row.Change == Remove {
		return row // a leaver needs only the email
	}

	first, last := get(FirstName), get(LastName)
	if first == "" && last == "" {
		first, last = splitName(get(FullName))
	}
	if row.FirstName, err = clean.Name(first, 100, true); err != nil {
		problemOf(nameColumn(h, FirstName), Error, "first name: ", message(err))
	}
	if row.LastName, err = clean.Name(last, 100, false); err != nil {
		problemOf(nameColumn(h, LastName), Error, "last name: ", message(err))
	}

	row.Role = rules.DefaultRole
	if r := get(Role); r != "" {
		row.RoleSet = true
		if canonical, ok := rules.Role(r); ok {
			row.Role = canonical
		} else {
			problem(Column{Field: Role}, Error, "role.unknown", value(r), "no role %q in this organisation", r)
		}
	}
	row.UnitID = rules.DefaultUnit
	if u := get(Unit); u != "" {
		row.UnitSet = true
		if id, ok := rules.Unit(u); ok {
			row.UnitID = id
		} else {
			problem(Column{Field: Unit}, Error, "unit.unknown", value(u), "no unit %q in this organisation", u)
		}
	}
	if l := get(Language); l != "" {
		normalize := rules.language
		if normalize == nil {
			normalize = org.NormalizeLanguage
		}
		if row.Language, err = normalize(l); err != nil {
			problem(Column{Field: Language}, Error, "language.invalid", value(l), "%q is not a language", l)
		}
	}

	row.Attributes, row.AttributesGiven = h.attributes(cells, rules.Fields, func(col, msg, key string, args map[string]string) {
		row.Problems = append(row.Problems, Problem{Row: line, Column: col, Severity: Error, Message: msg, Key: key, Args: args})
	})

	row.Monitored = rules.Monitored != nil && rules.Monitored(row.Role)
	if m := get(Mobile); m != "" {
		if row.Mobile, err = phoneNumber(m, rules.Region, rules.Phones); err != nil {
			problem(Column{Field: Mobile}, Error, "mobile.invalid", value(m), "%q is not a valid phone number", m)
		}
	}

	in := monitor.Input{
		RotaReference: get(RotaReference), RotaEffectiveDate: excelDate(get(RotaEffectiveDate)),
		SafeWord: get(SafeWord), LicencePlate: get(LicencePlate), OtherInformation: get(OtherInformation),
	}
	for n := 1; n <= monitor.MaxEscalationContacts; n++ {
		in.EscalationContacts = append(in.EscalationContacts, monitor.Contact{
			Name: h.cell(cells, Column{EscalationName, n}), Phone: h.cell(cells, Column{EscalationPhone, n})})
	}
	for n := 1; n <= monitor.MaxOutOfHoursContacts; n++ {
		in.OutOfHoursContacts = append(in.OutOfHoursContacts, monitor.Contact{
			Name: h.cell(cells, Column{OutOfHoursName, n}), Phone: h.cell(cells, Column{OutOfHoursPhone, n})})
	}
	row.ProfileGiven = hasMonitoring(in)
	if !row.Monitored {
		if row.ProfileGiven {
			problem(Column{}, Warning, "role.notMonitored", value(row.Role), "role %s is not monitored: the monitoring details are ignored", row.Role)
		}
		return row
	}
	if !row.ProfileGiven && !row.RoleSet {
		// No role and no monitoring details: whether the person is
		// monitored depends on the role they have, which the applier knows.
		return row
	}
	if row.Mobile == "" && get(Mobile) == "" {
		problem(Column{Field: Mobile}, Error, "mobile.required", nil, "a monitored worker needs a mobile number")
	}
	var errs, warns fault.Fields
	contactPhones := rules.contactPhones
	if contactPhones == nil {
		contactPhones = func(raw, region string) (string, error) { return phoneNumber(raw, region, rules.Phones) }
	}
	mr := monitor.Rules{Phones: contactPhones,
		Region: rules.Region, WorkerPhone: row.Mobile, Today: rules.Today, DateOrder: rules.DateOrder}
	row.Profile = monitor.Check(in, mr, &errs, &warns)
	for _, e := range errs {
		problemOf(profileColumn(e.Field), Error, "", e.Message)
	}
	for _, w := range warns {
		problemOf(profileColumn(w.Field), Warning, "", w.Message)
	}
	return row
}

// attributes reads and checks the custom field values of a row, a
// multi-select's values separated by ";", as the API checks them; each
// problem names the field's column (its label when the file lacks it) and
// is said by its key.
func (h Header) attributes(cells []string, fields []org.CustomField, problem func(column, message, key string, args map[string]string)) (org.Attributes, bool) {
	if len(fields) == 0 {
		return nil, false
	}
	raw := org.Attributes{}
	labels := map[string]string{}
	for _, f := range fields {
		labels[f.Key] = f.Label
		i := h.CustomIndex(f.Key)
		if i < 0 || i >= len(cells) {
			continue
		}
		v := strings.TrimSpace(strings.ReplaceAll(cells[i], "\u00a0", " "))
		if f.Type == org.FieldDate {
			v = excelDate(v)
		}
		if v != "" {
			raw[f.Key] = v
		}
	}
	out, problems := org.CheckValuesSaid(fields, raw)
	for _, p := range problems {
		col := labels[p.Field]
		if i := h.CustomIndex(p.Field); i >= 0 {
			col = h.Names[i]
		}
		msg := p.Message
		if p.Code != "required" {
			msg = col + ": " + msg
		}
		problem(col, msg, p.Key, p.Args)
	}
	return out, h.HasCustom()
}

func nameColumn(h Header, f Field) Column {
	if h.Index(Column{Field: f}) < 0 && h.Index(Column{Field: FullName}) >= 0 {
		return Column{Field: FullName}
	}
	return Column{Field: f}
}

var contactField = regexp.MustCompile(`^(escalationContacts|outOfHoursContacts)\[(\d+)\](?:\.(name|phone))?$`)

// profileColumn maps a monitor field to its column.
func profileColumn(field string) Column {
	if m := contactField.FindStringSubmatch(field); m != nil {
		n, _ := strconv.Atoi(m[2])
		c := Column{N: n + 1, Field: EscalationName}
		if m[1] == "outOfHoursContacts" {
			c.Field = OutOfHoursName
		}
		if m[3] == "phone" {
			c.Field++ // the phone field follows the name field
		}
		return c
	}
	switch field {
	case "escalationContacts":
		return Column{Field: EscalationName, N: 1}
	case "rota.reference":
		return Column{Field: RotaReference}
	case "rota.effectiveDate":
		return Column{Field: RotaEffectiveDate}
	case "safeWord":
		return Column{Field: SafeWord}
	case "licencePlate":
		return Column{Field: LicencePlate}
	case "otherInformation":
		return Column{Field: OtherInformation}
	}
	return Column{}
}

func hasMonitoring(in monitor.Input) bool {
	for _, c := range append(in.EscalationContacts, in.OutOfHoursContacts...) {
		if c.Name != "" || c.Phone != "" {
			return true
		}
	}
	return in.RotaReference != "" || in.RotaEffectiveDate != "" || in.SafeWord != "" || in.LicencePlate != "" || in.OtherInformation != ""
}

func message(err error) string {
	if e, ok := fault.As(err); ok {
		return e.Message
	}
	return err.Error()
}

// splitName splits a full name: "Nordmann, Kari" and "Kari Nordmann" both
// give Kari / Nordmann; a single word is a first name.
func splitName(full string) (first, last string) {
	full = strings.Join(strings.Fields(full), " ")
	if l, f, ok := strings.Cut(full, ","); ok {
		return strings.TrimSpace(f), strings.TrimSpace(l)
	}
	i := strings.LastIndexByte(full, ' ')
	if i < 0 {
		return full, ""
	}
	return full[:i], full[i+1:]
}

// phoneNumber normalises a phone number, recovering one a spreadsheet made a
// number: 4791512345 or 4.791512345E+09 (country code, leading + lost) and
// 91512345.0 read as they were typed.
func phoneNumber(raw, region string, parse monitor.PhoneParser) (string, error) {
	raw = strings.TrimSpace(raw)
	if f, err := strconv.ParseFloat(raw, 64); err == nil && f > 0 && f < 1e16 && f == math.Trunc(f) && !strings.HasPrefix(raw, "+") && !strings.HasPrefix(raw, "0") {
		raw = strconv.FormatFloat(f, 'f', 0, 64)
	}
	e164, err := parse(raw, region)
	if err == nil {
		return e164, nil
	}
	if digits := strings.Trim(raw, "0123456789"); digits == "" && len(raw) >= 8 {
		if e164, err2 := parse("+"+raw, region); err2 == nil {
			return e164, nil
		}
	}
	return "", err
}

// excelDate turns a date a workbook stored as a serial number into
// YYYY-MM-DD; anything else is returned as it is.
func excelDate(v string) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 || f > 2958465 || strings.ContainsAny(v, "-/") {
		return v
	}
	t, err := excelize.ExcelDateToTime(f, false)
	if err != nil {
		return v
	}
	return t.Format(time.DateOnly)
}

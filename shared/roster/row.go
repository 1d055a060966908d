package roster

import (
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/account"
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
	Problems     []Problem
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
	problem := func(c Column, severity, format string, args ...any) {
		row.Problems = append(row.Problems, Problem{Row: line, Column: h.NameOf(c), Severity: severity, Message: fmt.Sprintf(format, args...)})
	}
	get := func(f Field) string { return h.cell(cells, Column{Field: f}) }

	switch a := fold(get(Action)); {
	case a == "" || slices.Contains(upsertWords, a):
	case slices.Contains(removeWords, a):
		row.Change = Remove
	default:
		problem(Column{Field: Action}, Error, "%q is not an action: leave it blank to add or update, or write remove", get(Action))
	}

	email, err := account.NormalizeEmail(get(Email))
	if err != nil {
		problem(Column{Field: Email}, Error, "%s", message(err))
	}
	row.Email = email
	if row.Change == Remove {
		return row // a leaver needs only the email
	}

	first, last := get(FirstName), get(LastName)
	if first == "" && last == "" {
		first, last = splitName(get(FullName))
	}
	if row.FirstName, err = account.CleanName(first, 100, true); err != nil {
		problem(nameColumn(h, FirstName), Error, "first name: %s", message(err))
	}
	if row.LastName, err = account.CleanName(last, 100, false); err != nil {
		problem(nameColumn(h, LastName), Error, "last name: %s", message(err))
	}

	row.Role = rules.DefaultRole
	if r := get(Role); r != "" {
		row.RoleSet = true
		if canonical, ok := rules.Role(r); ok {
			row.Role = canonical
		} else {
			problem(Column{Field: Role}, Error, "no role %q in this organisation", r)
		}
	}
	row.UnitID = rules.DefaultUnit
	if u := get(Unit); u != "" {
		row.UnitSet = true
		if id, ok := rules.Unit(u); ok {
			row.UnitID = id
		} else {
			problem(Column{Field: Unit}, Error, "no unit %q in this organisation", u)
		}
	}
	if l := get(Language); l != "" {
		normalize := rules.language
		if normalize == nil {
			normalize = org.NormalizeLanguage
		}
		if row.Language, err = normalize(l); err != nil {
			problem(Column{Field: Language}, Error, "%q is not a language", l)
		}
	}

	row.Monitored = rules.Monitored != nil && rules.Monitored(row.Role)
	if m := get(Mobile); m != "" {
		if row.Mobile, err = phoneNumber(m, rules.Region, rules.Phones); err != nil {
			problem(Column{Field: Mobile}, Error, "%q is not a valid phone number", m)
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
			problem(Column{}, Warning, "role %s is not monitored: the monitoring details are ignored", row.Role)
		}
		return row
	}
	if !row.ProfileGiven && !row.RoleSet {
		// No role and no monitoring details: whether the person is
		// monitored depends on the role they have, which the applier knows.
		return row
	}
	if row.Mobile == "" && get(Mobile) == "" {
		problem(Column{Field: Mobile}, Error, "a monitored worker needs a mobile number")
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
		problem(profileColumn(e.Field), Error, "%s", e.Message)
	}
	for _, w := range warns {
		problem(profileColumn(w.Field), Warning, "%s", w.Message)
	}
	return row
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

// Reader reads a roster sheet: the header, then one Row per data row.
//
// Rows are read ahead on a goroutine of their own, a few batches at most,
// while the caller checks the ones before them (or writes them): decoding
// the sheet and checking a row (libphonenumber alone takes about 11 µs a
// number) cost about the same, and an import spends most of its time
// waiting for DynamoDB. Close stops the reading; the sheet must not be
// closed before.
type Reader struct {
	Header Header
	sheet  Sheet
	rules  Rules
	seen   map[string]int // email -> first row
	// unnamed are the columns without a header that hold data, with the
	// first row that does (cell index -> row).
	unnamed map[int]int

	ahead   chan sheetRows // nil until Next first needs a row
	stop    chan struct{}
	stopped chan struct{}
	cur     sheetRows
	next    int // index in cur.rows
}

// sheetRows is a batch of non-blank rows as the sheet has them, ending
// with the error (io.EOF at the end) that stopped it, if any.
type sheetRows struct {
	rows []sheetRow
	err  error
}

type sheetRow struct {
	cells []string
	line  int
}

// Read-ahead: up to readAheadBatches batches of readAheadRows rows wait.
const readAheadRows, readAheadBatches = 64, 4

// headerSearchRows is how far down a sheet the header may be (title rows
// above it are skipped).
const headerSearchRows = 10

// memo remembers up to max results of f: a roster names the same
// escalation contacts (supervisors, the on-call phone) on many rows, and
// validating a number is the costliest step of reading a row.
func memo[K comparable, V any](f func(K) (V, error), max int) func(K) (V, error) {
	type result struct {
		v   V
		err error
	}
	seen := map[K]result{}
	return func(k K) (V, error) {
		if r, ok := seen[k]; ok {
			return r.v, r.err
		}
		v, err := f(k)
		if len(seen) < max {
			seen[k] = result{v, err}
		}
		return v, err
	}
}

// NewReader finds the header row among the first rows of sheet.
func NewReader(sheet Sheet, rules Rules) (*Reader, error) {
	if rules.Phones != nil {
		type number struct{ raw, region string }
		read := memo(func(n number) (string, error) { return phoneNumber(n.raw, n.region, rules.Phones) }, 50_000)
		rules.contactPhones = func(raw, region string) (string, error) { return read(number{raw, region}) }
	}
	rules.language = memo(org.NormalizeLanguage, 100)
	for i := 0; i < headerSearchRows; i++ {
		cells, line, err := nextRow(sheet)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if h, ok := rules.Columns.ReadHeader(cells, line); ok {
			return &Reader{Header: h, sheet: sheet, rules: rules, seen: map[string]int{}, unnamed: map[int]int{}}, nil
		}
	}
	return nil, fileErr("no header row found in the first %d rows: the roster needs a header with at least an email column "+
		"and a name column (for example Email, First name, Last name, Mobile); download the template for the full list", headerSearchRows)
}

// Next returns the next non-blank row, or io.EOF. A later row with an email
// already seen is an error.
func (r *Reader) Next() (Row, error) {
	for r.next >= len(r.cur.rows) {
		if r.cur.err != nil {
			return Row{}, r.cur.err
		}
		if r.ahead == nil {
			r.ahead, r.stop, r.stopped = make(chan sheetRows, readAheadBatches-1), make(chan struct{}), make(chan struct{})
			go r.readAhead()
		}
		r.cur, r.next = <-r.ahead, 0
	}
	row := r.cur.rows[r.next]
	r.cur.rows[r.next] = sheetRow{} // read: no longer held here
	r.next++
	r.noteUnnamed(row)
	parsed := r.Header.Parse(row.cells, row.line, r.rules)
	if parsed.Email != "" {
		if first, ok := r.seen[parsed.Email]; ok {
			parsed.Problems = append(parsed.Problems, Problem{Row: row.line, Column: r.Header.NameOf(Column{Field: Email}), Severity: Error,
				Message: fmt.Sprintf("the same email as row %d; only the first is applied", first)})
		} else {
			r.seen[parsed.Email] = row.line
		}
	}
	return parsed, nil
}

// noteUnnamed remembers the columns without a header in which row holds
// data, including cells past the header's last.
func (r *Reader) noteUnnamed(row sheetRow) {
	for i, c := range row.cells {
		if i < len(r.Header.Names) && r.Header.Names[i] != "" {
			continue
		}
		if _, ok := r.unnamed[i]; !ok && strings.TrimSpace(c) != "" {
			r.unnamed[i] = row.line
		}
	}
}

// Unread lists the columns whose values are not read (see Unread), in the
// file's order: those the header names at once, and those without a
// header that hold data as far as the rows are read (all of them at the
// end).
func (r *Reader) Unread() []Unread {
	out := slices.Clone(r.Header.Unread)
	for i, line := range r.unnamed {
		out = append(out, noHeader(i, line))
	}
	sortUnread(out)
	return out
}

// readAhead reads the sheet's rows in batches until an error (io.EOF at
// the end) or Close.
func (r *Reader) readAhead() {
	defer close(r.stopped)
	for {
		b := sheetRows{rows: make([]sheetRow, 0, readAheadRows)}
		for len(b.rows) < readAheadRows {
			cells, line, err := nextRow(r.sheet)
			if err != nil {
				b.err = err
				break
			}
			if !blank(cells) {
				// A CSV sheet reuses its slice; the strings are new.
				b.rows = append(b.rows, sheetRow{slices.Clone(cells), line})
			}
		}
		select {
		case r.ahead <- b:
		case <-r.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// Close stops reading ahead and waits until the sheet is no longer read.
// It does not close the sheet.
func (r *Reader) Close() {
	if r.stop != nil { // reading, or done reading
		close(r.stop)
		<-r.stopped
		r.stop = nil
	}
	// Next returns this before it would start reading.
	r.cur, r.next = sheetRows{err: errReaderClosed}, 0
}

var errReaderClosed = errors.New("roster: the reader is closed")

// nextRow reads a sheet's next row. The file is whatever was uploaded: a
// decoder that panics on it fails the file, not the function (which would
// leave the import to its retries and then unfinished).
func nextRow(s Sheet) (cells []string, line int, err error) {
	defer func() {
		if p := recover(); p != nil {
			cells, line, err = nil, 0, fileErr("the file could not be read: it seems damaged (%v)", p)
		}
	}()
	return s.Next()
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

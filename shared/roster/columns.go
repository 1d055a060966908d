package roster

import (
	"fmt"
	"slices"
	"strings"

	"onboarding/shared/fault"
	"onboarding/shared/org"
)

// Why a column is not read (Unread.Reason).
const (
	NotRecognised  = "notRecognised"  // its header names no field
	Repeated       = "repeated"       // another column of the same field is read
	NoHeader       = "noHeader"       // it has no header but holds data
	MappedToIgnore = "mappedToIgnore" // the uploader's mapping sets it aside
	NotInFile      = "notInFile"      // the mapping names a header the file lacks
)

// Unread is a column of the file whose values are not read, or a header the
// column mapping names that the file does not have: nothing a roster holds
// is left out without a word.
type Unread struct {
	Column  string // its letter as a spreadsheet shows it (A, B, ..., AA); "" for NotInFile
	Header  string // as the file (for NotInFile, the mapping) has it, cut to 100 characters
	Reason  string
	Row     int // the header's row; for NoHeader the first row holding data
	Message string
	index   int    // cell index; -1 for NotInFile
	of      string // for Repeated, the letter of the column read
}

// unreadHeaderLength is how much of a header an Unread quotes: a header
// cell may hold anything, up to 32,767 characters.
const unreadHeaderLength = 100

func cut(s string) string {
	if r := []rune(s); len(r) > unreadHeaderLength {
		return string(r[:unreadHeaderLength]) + "…"
	}
	return s
}

// columnLetter names a 0-based column as a spreadsheet does: A to Z, then
// AA, AB, ...
func columnLetter(i int) string {
	var b []byte
	for n := i + 1; n > 0; n = (n - 1) / 26 {
		b = append(b, byte('A'+(n-1)%26))
	}
	slices.Reverse(b)
	return string(b)
}

func notRecognised(i, row int, header string) Unread {
	return Unread{Column: columnLetter(i), Header: cut(header), Reason: NotRecognised, Row: row, index: i,
		Message: fmt.Sprintf("column %s %q is not a roster column: its values were not read (name it as in the template, "+
			"or map it to a field when importing)", columnLetter(i), cut(header))}
}

func repeated(i, row int, header string, of int, ofHeader string, c Column) Unread {
	return Unread{Column: columnLetter(i), Header: cut(header), Reason: Repeated, Row: row, index: i, of: columnLetter(of),
		Message: fmt.Sprintf("column %s %q repeats column %s %q (%s): only column %s was read", columnLetter(i), cut(header),
			columnLetter(of), cut(ofHeader), c.Key(), columnLetter(of))}
}

func noHeader(i, row int) Unread {
	return Unread{Column: columnLetter(i), Reason: NoHeader, Row: row, index: i,
		Message: fmt.Sprintf("column %s has no header but holds data (from row %d): its values were not read (give it a header)",
			columnLetter(i), row)}
}

func mappedToIgnore(i, row int, header string) Unread {
	return Unread{Column: columnLetter(i), Header: cut(header), Reason: MappedToIgnore, Row: row, index: i,
		Message: fmt.Sprintf("column %s %q was not read, as the column mapping asks", columnLetter(i), cut(header))}
}

func notInFile(row int, header string, key string) Unread {
	return Unread{Header: cut(header), Reason: NotInFile, Row: row, index: -1,
		Message: fmt.Sprintf("the column mapping names %q (%s), but the header row has no such column", cut(header), key)}
}

// sortUnread orders unread columns as the file has them, then the headers
// the file lacks by name.
func sortUnread(u []Unread) {
	slices.SortStableFunc(u, func(a, b Unread) int {
		switch {
		case a.index < 0 && b.index < 0:
			return strings.Compare(a.Header, b.Header)
		case a.index < 0:
			return 1
		case b.index < 0:
			return -1
		}
		return a.index - b.index
	})
}

// Err fails the file when the column mapping names headers it does not
// have: the uploader meant their values to be read, and a mapped email or
// name the file lacks would leave recognition to pick another column.
func (h Header) Err() error {
	var missing []string
	for _, u := range h.Unread {
		if u.Reason == NotInFile {
			missing = append(missing, fmt.Sprintf("%q", u.Header))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fileErr("the column mapping names %s, which the header row (row %d) does not have; nothing was imported: "+
		"check the header or the mapping", strings.Join(missing, ", "), h.Row)
}

// IgnoreColumn is the field a mapping gives a column that is not to be read.
const IgnoreColumn = "ignore"

// Key is the column's name in a column mapping (and the API):
// "safeWord", "escalationContact2Phone"; "ignore" for no column.
func (c Column) Key() string {
	switch c.Field {
	case Unknown:
		return IgnoreColumn
	case EscalationName:
		return fmt.Sprintf("escalationContact%dName", c.N)
	case EscalationPhone:
		return fmt.Sprintf("escalationContact%dPhone", c.N)
	case OutOfHoursName:
		return fmt.Sprintf("outOfHoursContact%dName", c.N)
	case OutOfHoursPhone:
		return fmt.Sprintf("outOfHoursContact%dPhone", c.N)
	}
	return c.Field.String()
}

// mappableColumns are the columns a mapping may name: the template's, with
// the full name after the last name.
func mappableColumns() []Column {
	cs := templateColumns()
	return slices.Insert(cs, slices.Index(cs, Column{Field: LastName})+1, Column{Field: FullName})
}

// MappingFields lists the fields a column mapping may name, "ignore" last.
func MappingFields() []string {
	var keys []string
	for _, c := range mappableColumns() {
		keys = append(keys, c.Key())
	}
	return append(keys, IgnoreColumn)
}

var columnsByKey = func() map[string]Column {
	m := map[string]Column{IgnoreColumn: {}}
	for _, c := range mappableColumns() {
		m[c.Key()] = c
	}
	return m
}()

// MaxMappedColumns bounds a column mapping.
const MaxMappedColumns = 200

// Mapping is an uploader's word on which field a header holds: it wins over
// recognition. Headers are compared folded, as recognition compares them.
type Mapping struct {
	byHeader map[string]mapped // by folded header
	// fields are the organisation's custom fields by folded label and by
	// folded key: their columns are read as those fields.
	fields map[string]string
}

// WithFields returns the mapping reading the organisation's custom fields
// from columns headed by their label or key.
func (m Mapping) WithFields(fields []org.CustomField) Mapping {
	m.fields = map[string]string{}
	// A field named like the email column is read by mapping only: every
	// roster needs its email column.
	email := func(s string) bool { c, ok := MatchHeader(s); return ok && c.Field == Email }
	for _, f := range fields {
		if !email(f.Key) {
			m.fields[fold(f.Key)] = f.Key
		}
	}
	for _, f := range fields {
		if l := fold(f.Label); l != "" && m.fields[l] == "" && !email(f.Label) {
			m.fields[l] = f.Key
		}
	}
	return m
}

func repeatedField(i, row int, header string, of int, ofHeader, key string) Unread {
	return Unread{Column: columnLetter(i), Header: cut(header), Reason: Repeated, Row: row, index: i,
		Message: fmt.Sprintf("column %s %q repeats column %s %q (%s): only column %s was read", columnLetter(i), cut(header),
			columnLetter(of), cut(ofHeader), key, columnLetter(of))}
}

type mapped struct {
	header string // as the uploader wrote it
	column Column // Column{}: not to be read (unless custom)
	custom string // the key of a custom field
}

// key is the field the mapping gives the header, as the mapping names it.
func (mp mapped) key() string {
	if mp.custom != "" {
		return mp.custom
	}
	return mp.column.Key()
}

// ParseMapping checks a column mapping (header -> field, as MappingFields
// names them, or the key of one of the organisation's custom fields). Its
// errors are field errors under "columns".
func ParseMapping(in map[string]string, fields ...org.CustomField) (Mapping, error) {
	var errs fault.Fields
	if len(in) > MaxMappedColumns {
		errs.Add("columns", string(fault.Invalid), fmt.Sprintf("at most %d headers", MaxMappedColumns))
		return Mapping{}, errs.Err()
	}
	m := Mapping{byHeader: map[string]mapped{}}
	headers := make([]string, 0, len(in))
	for h := range in {
		headers = append(headers, h)
	}
	slices.Sort(headers)
	taken := map[Column]string{}
	takenCustom := map[string]string{}
	for _, h := range headers {
		field := "columns." + h
		if len(h) > 200 {
			errs.Add("columns", string(fault.Invalid), "a header is at most 200 characters")
			continue
		}
		f := fold(h)
		c, ok := columnsByKey[in[h]]
		custom := ""
		if i := slices.IndexFunc(fields, func(cf org.CustomField) bool { return cf.Key == in[h] }); !ok && i >= 0 {
			custom, ok = fields[i].Key, true
		}
		switch {
		case f == "":
			errs.Add(field, string(fault.Invalid), "a header needs a letter or a digit")
		case !ok:
			keys := MappingFields()
			for _, cf := range fields {
				keys = append(keys, cf.Key)
			}
			errs.Add(field, string(fault.Invalid), "not a roster field: one of "+strings.Join(keys, ", "))
		case m.byHeader[f].header != "":
			errs.Add(field, string(fault.Invalid), fmt.Sprintf("the same header as %q (headers are compared without case, "+
				"spaces, punctuation or accents)", m.byHeader[f].header))
		case custom != "" && takenCustom[custom] != "":
			errs.Add(field, string(fault.Invalid), fmt.Sprintf("%q is mapped to %s too: a field is read from one column", takenCustom[custom], in[h]))
		case custom != "":
			m.byHeader[f] = mapped{header: h, custom: custom}
			takenCustom[custom] = h
		case c != Column{} && taken[c] != "":
			errs.Add(field, string(fault.Invalid), fmt.Sprintf("%q is mapped to %s too: a field is read from one column", taken[c], in[h]))
		default:
			m.byHeader[f] = mapped{header: h, column: c}
			if c != (Column{}) {
				taken[c] = h
			}
		}
	}
	if err := errs.Err(); err != nil {
		return Mapping{}, err
	}
	return m, nil
}

// lookup returns what the mapping says of a header cell.
func (m Mapping) lookup(cell string) (mapped, bool) {
	if len(m.byHeader) == 0 || len(cell) > 200 {
		return mapped{}, false
	}
	mp, ok := m.byHeader[fold(cell)]
	return mp, ok
}

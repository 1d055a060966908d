package roster

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"onboarding/shared/org"
)

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
	rules.Columns = rules.Columns.WithFields(rules.Fields)
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
	return nil, fileErrSaid("noHeader", map[string]string{"Rows": strconv.Itoa(headerSearchRows)}, "no header row found in the first %d rows: the roster needs a header with at least an email column "+
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

package roster

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Sheet is a source of rows: a CSV file or a workbook's sheet.
type Sheet interface {
	// Next returns the next row's cells and its 1-based row number, or
	// io.EOF after the last.
	Next() (cells []string, row int, err error)
	Close() error
}

// DefaultMaxBytes is the largest file read unless Limits say otherwise.
const DefaultMaxBytes = 50 << 20

// Limits bound what a file may cost to read.
type Limits struct {
	MaxBytes int64 // the file itself (default 50 MB)
	MaxRows  int   // data rows (default 200,000)
	// MaxUnzipped bounds a workbook's total uncompressed size (zip bombs;
	// default 1 GB).
	MaxUnzipped int64
	// MaxTemp and MaxMemory bound what reading a workbook writes to
	// temporary files and holds in memory, weighed from its directory
	// before anything is unpacked (workbookCost; zero: unbounded).
	// ForFunction derives all three from a function's /tmp and memory.
	MaxTemp, MaxMemory int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = 200_000
	}
	if l.MaxUnzipped <= 0 {
		l.MaxUnzipped = 1 << 30
	}
	return l
}

// FileError is a problem with the file as a whole: it cannot be read at all.
type FileError struct {
	Message string
	// Key and Args say Message again by its key in the locale catalogue
	// ("file." + Key), for the uploader's summary in their language.
	Key  string
	Args map[string]string
}

func (e *FileError) Error() string { return e.Message }

func fileErr(format string, args ...any) error {
	return &FileError{Message: fmt.Sprintf(format, args...)}
}

// fileErrSaid is fileErr with the key the summary says it by.
func fileErrSaid(key string, kargs map[string]string, format string, args ...any) error {
	return &FileError{Message: fmt.Sprintf(format, args...), Key: key, Args: kargs}
}

// TooLarge is the error of a file above the size limit.
func TooLarge(maxBytes int64) error {
	mb := maxBytes >> 20
	return fileErrSaid("tooLarge", map[string]string{"MB": strconv.FormatInt(mb, 10)}, "the file is larger than %d MB", mb)
}

// CSVFormat is what sniffing a CSV file found.
type CSVFormat struct {
	Encoding  string // "UTF-8", "UTF-16LE", "UTF-16BE", "Windows-1252"
	Delimiter rune   // ',', ';' or '\t'
}

// SniffCSV looks at the start of a CSV file: its encoding (a UTF-8 or UTF-16
// byte order mark; else UTF-8 if it is valid UTF-8, else Windows-1252) and
// its delimiter (comma, semicolon or tab: whichever makes a roster header of
// one of the first lines, else whichever splits them most consistently).
func SniffCSV(head []byte) CSVFormat {
	var f CSVFormat
	var text string
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		f.Encoding, text = "UTF-8", string(head[3:])
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		f.Encoding = "UTF-16LE"
		text = decodeHead(head, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM))
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		f.Encoding = "UTF-16BE"
		text = decodeHead(head, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM))
	case validUTF8Prefix(head):
		f.Encoding, text = "UTF-8", string(head)
	default:
		f.Encoding = "Windows-1252"
		text = decodeHead(head, charmap.Windows1252)
	}
	f.Delimiter = sniffDelimiter(text)
	return f
}

// validUTF8Prefix reports whether b is UTF-8, allowing one rune cut off at
// its end (b is the start of a longer file).
func validUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			return !utf8.FullRune(b[i:]) && utf8.Valid(b[:i])
		}
	}
	return false
}

func decodeHead(head []byte, e encoding.Encoding) string {
	out, _, _ := transform.Bytes(e.NewDecoder(), head)
	return string(out)
}

// sniffDelimiter picks the delimiter under which one of the first lines is
// a roster header (the one recognising most columns); failing that, the one
// that gives the first lines the same, largest number of fields. The header
// decides first because a single row can hold more of another delimiter
// than the header has columns (free text full of semicolons).
func sniffDelimiter(text string) rune {
	lines := quotedAwareLines(text, 10)
	if d, ok := headerDelimiter(lines); ok {
		return d
	}
	best, bestScore := ',', -1
	for _, d := range []rune{',', ';', '\t'} {
		counts := map[int]int{}
		for _, l := range lines {
			counts[countOutsideQuotes(l, d)]++
		}
		// The most common count, weighted by how many lines share it.
		score := 0
		for n, lines := range counts {
			if n > 0 && n*lines > score {
				score = n * lines
			}
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

// headerDelimiter returns the delimiter under which one of lines reads as
// a roster header with the most recognised columns.
func headerDelimiter(lines []string) (rune, bool) {
	best, bestFound := ',', 0
	for _, d := range []rune{',', ';', '\t'} {
		for i, l := range lines {
			r := csv.NewReader(strings.NewReader(l))
			r.Comma, r.LazyQuotes, r.FieldsPerRecord = d, true, -1
			cells, err := r.Read()
			if err != nil {
				continue
			}
			h, ok := ReadHeader(cells, i+1)
			if !ok {
				continue
			}
			found := 0
			for _, c := range h.Columns {
				if c.Field != Unknown {
					found++
				}
			}
			if found > bestFound {
				best, bestFound = d, found
			}
		}
	}
	return best, bestFound > 0
}

// quotedAwareLines splits text into at most n records, not breaking inside
// quotes; the last, possibly cut off, is dropped when there are others.
func quotedAwareLines(text string, n int) []string {
	var lines []string
	inQuotes := false
	start := 0
	for i := 0; i < len(text) && len(lines) < n; i++ {
		switch text[i] {
		case '"':
			inQuotes = !inQuotes
		case '\n':
			if !inQuotes {
				lines = append(lines, strings.TrimRight(text[start:i], "\r"))
				start = i + 1
			}
		}
	}
	if len(lines) == 0 && start < len(text) {
		lines = append(lines, text[start:])
	}
	return lines
}

func countOutsideQuotes(line string, d rune) int {
	n, inQuotes := 0, false
	for _, r := range line {
		switch {
		case r == '"':
			inQuotes = !inQuotes
		case r == d && !inQuotes:
			n++
		}
	}
	return n
}

// csvSheet reads a CSV file.
type csvSheet struct {
	r    *csv.Reader
	row  int
	max  int
	seen int
}

// OpenCSV reads a CSV file in any of the encodings and delimiters SniffCSV
// recognises.
func OpenCSV(r io.Reader, limits Limits) (Sheet, CSVFormat, error) {
	limits = limits.withDefaults()
	br := bufio.NewReaderSize(&limited{r: r, max: limits.MaxBytes}, 64<<10)
	head, err := br.Peek(64 << 10)
	if errors.Is(err, errTooBig) {
		return nil, CSVFormat{}, TooLarge(limits.MaxBytes)
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, CSVFormat{}, err
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, CSVFormat{}, fileErrSaid("empty", nil, "the file is empty")
	}
	f := SniffCSV(head)
	// A byte order mark picks UTF-8 or UTF-16 and is dropped; without one
	// the text is UTF-8, or Windows-1252 when it is not valid UTF-8.
	// Bytes that are not UTF-8 after all become U+FFFD.
	var text io.Reader = transform.NewReader(br, transform.Chain(unicode.BOMOverride(transform.Nop), unicode.UTF8.NewDecoder()))
	if f.Encoding == "Windows-1252" {
		text = transform.NewReader(br, charmap.Windows1252.NewDecoder())
	}
	cr := csv.NewReader(text)
	cr.Comma = f.Delimiter
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	return &csvSheet{r: cr, max: limits.MaxRows + 50}, f, nil
}

func (s *csvSheet) Next() ([]string, int, error) {
	rec, err := s.r.Read()
	if errors.Is(err, errTooBig) {
		return nil, 0, fileErr("the file is larger than allowed")
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, 0, fileErr("the CSV file is malformed at line %d: %v", pe.Line, pe.Err)
		}
		return nil, 0, err
	}
	s.row++
	if s.row > s.max {
		return nil, 0, fileErr("the file has more rows than allowed")
	}
	return rec, s.row, nil
}

func (s *csvSheet) Close() error { return nil }

var errTooBig = errors.New("too big")

// limited fails once more than max bytes were read.
type limited struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limited) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, errTooBig
	}
	return n, err
}

package roster

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// inMemoryPart is the size above which a worksheet or the shared strings
// are read from a temporary file instead of memory.
const inMemoryPart = 16 << 20

// userSheetNames are sheet names that say "the people" (folded).
var userSheetNames = []string{"users", "user", "people", "employees", "staff", "workers", "roster", "brukere", "ansatte",
	"anvandare", "personal", "medarbetare", "brugere", "medarbejdere", "utilisateurs", "employes", "salaries", "pengguna",
	"karyawan", "pegawai", "kayttajat", "tyontekijat"}

// xlsxSheet reads one sheet of a workbook, row by row.
type xlsxSheet struct {
	f    *excelize.File
	rows *excelize.Rows
	row  int
	max  int
	name string
}

// OpenXLSX reads a workbook's sheet for users (one named so, else the
// first), with raw cell values: numbers as stored (so a phone number Excel
// made a number keeps its digits) and dates as serial numbers.
func OpenXLSX(r io.Reader, limits Limits) (Sheet, string, error) {
	limits = limits.withDefaults()
	b, err := io.ReadAll(&limited{r: r, max: limits.MaxBytes})
	if errors.Is(err, errTooBig) {
		return nil, "", TooLarge(limits.MaxBytes)
	}
	if err != nil {
		return nil, "", err
	}
	if len(b) == 0 {
		return nil, "", fileErrSaid("empty", nil, "the file is empty")
	}
	if zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err == nil { // else excelize names the problem
		temp, memory := workbookCost(zr.File)
		if limits.MaxTemp > 0 && temp > limits.MaxTemp || limits.MaxMemory > 0 && memory > limits.MaxMemory {
			return nil, "", fileErr("the workbook unpacks to more than allowed (about %d MB on disk and %d MB in memory, at most %d MB and %d MB)",
				temp>>20, memory>>20, limits.MaxTemp>>20, limits.MaxMemory>>20)
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{
		UnzipSizeLimit: limits.MaxUnzipped, UnzipXMLSizeLimit: min(inMemoryPart, limits.MaxUnzipped),
	})
	if err != nil {
		return nil, "", workbookError(b, err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, "", fileErr("the workbook has no sheets")
	}
	name := sheets[0]
	for _, s := range sheets {
		for _, u := range userSheetNames {
			if fold(s) == u {
				name = s
			}
		}
	}
	rows, err := f.Rows(name)
	if err != nil {
		f.Close()
		return nil, "", fileErr("sheet %q cannot be read: %v", name, err)
	}
	return &xlsxSheet{f: f, rows: rows, max: limits.MaxRows + 50, name: name}, name, nil
}

// workbookError says what is wrong with a file excelize cannot open.
func workbookError(b []byte, err error) error {
	switch {
	case bytes.HasPrefix(b, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return fileErrSaid("locked", nil, "the workbook is password-protected (encrypted) or in the old .xls format: save it as .xlsx without a password")
	case errors.Is(err, zip.ErrFormat), errors.Is(err, excelize.ErrWorkbookFileFormat):
		return fileErrSaid("damaged", nil, "not a readable .xlsx workbook: the file is damaged or in another format")
	case strings.Contains(err.Error(), "unzip size"):
		return fileErr("the workbook unpacks to more than allowed (%v)", err)
	}
	return fileErr("the workbook cannot be read: %v", err)
}

func (s *xlsxSheet) Next() ([]string, int, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, 0, fileErr("sheet %q: %v", s.name, err)
		}
		return nil, 0, io.EOF
	}
	s.row++
	if s.row > s.max {
		return nil, 0, fileErr("the sheet has more rows than allowed")
	}
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, 0, fileErr("sheet %q row %d: %v", s.name, s.row, err)
	}
	return cells, s.row, nil
}

func (s *xlsxSheet) Close() error {
	s.rows.Close()
	return s.f.Close()
}

// Open reads a CSV or XLSX file, by its name's extension.
func Open(name string, r io.Reader, limits Limits) (Sheet, error) {
	switch ext := strings.ToLower(name[strings.LastIndexByte(name, '.')+1:]); ext {
	case "xlsx", "xlsm":
		s, _, err := OpenXLSX(r, limits)
		return s, err
	case "csv", "txt", "tsv":
		s, _, err := OpenCSV(r, limits)
		return s, err
	default:
		return nil, fileErrSaid("format", nil, "%s: only .xlsx and .csv files are read", name)
	}
}

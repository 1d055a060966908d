package roster

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/formula"
	"onboarding/shared/locale"
)

// Outcomes of a row in an import report.
const (
	Created   = "created"
	Updated   = "updated"
	Removed   = "removed"
	Unchanged = "unchanged"
	Failed    = "error"
	Warned    = "warning"
)

// ReportLine is one line of an import report.
type ReportLine struct {
	Row     int
	Email   string
	Outcome string
	// Message says it in English (the log, and report parts kept before
	// Notes existed); Notes say it again by key, for the reader's language.
	Message string
	Notes   []Note `json:",omitempty"`
}

// Note is one thing a report line says, by its key in the locale catalogue
// ("note." + Key) with its arguments, so that the report can be written in
// the uploader's language while Key stays a code tools can read.
type Note struct {
	Key     string
	Column  string            `json:",omitempty"` // as the file names it
	Warning bool              `json:",omitempty"`
	Args    map[string]string `json:",omitempty"`
}

// Severity is the line's worst: Error, Warning or "".
func (l ReportLine) Severity() string {
	switch {
	case l.Outcome == Failed:
		return Error
	case l.Outcome == Warned:
		return Warning
	}
	for _, n := range l.Notes {
		if n.Warning {
			return Warning
		}
	}
	return ""
}

// Codes are the keys of the line's problems (errors and warnings), for
// tools: "role.unknown mobile.invalid".
func (l ReportLine) Codes() string {
	var codes []string
	for _, n := range l.Notes {
		if n.Warning || l.Outcome == Failed || l.Outcome == Warned {
			codes = append(codes, n.Key)
		}
	}
	return strings.Join(codes, " ")
}

// Text is the line's message in p's language: its notes joined, warnings
// after what was done; the English Message for a line without notes.
func (l ReportLine) Text(p locale.Printer) string {
	if len(l.Notes) == 0 {
		return l.Message
	}
	var said, warned []string
	for _, n := range l.Notes {
		s := p.Text("note."+n.Key, localArgs(p, n.Args))
		if n.Column != "" {
			s = n.Column + ": " + s
		}
		if n.Warning && l.Outcome != Failed && l.Outcome != Warned {
			warned = append(warned, s)
		} else {
			said = append(said, s)
		}
	}
	if len(warned) > 0 {
		said = append(said, p.Text("report.warning", map[string]string{"Text": strings.Join(warned, "; ")}))
	}
	return strings.Join(said, "; ")
}

// localArgs says a note's Changes (keys of what changed, space-separated)
// in p's language.
func localArgs(p locale.Printer, args map[string]string) map[string]string {
	changes, ok := args["Changes"]
	if !ok {
		return args
	}
	out := make(map[string]string, len(args))
	for k, v := range args {
		out[k] = v
	}
	var said []string
	for _, c := range strings.Fields(changes) {
		said = append(said, p.Text("change."+c, nil))
	}
	out["Changes"] = strings.Join(said, ", ")
	return out
}

// reportColumns are the report's columns: four for people, in the reader's
// language, then three for tools whose headers and values never change
// with the language (outcome: created, updated, removed, unchanged, error,
// warning; severity: error, warning or empty; codes: the problems' keys).
var reportColumns = []string{"report.row", "report.email", "report.outcome", "report.message"}

var machineColumns = []string{"outcome", "severity", "codes"}

func reportHeader(p locale.Printer) []string {
	h := make([]string, 0, len(reportColumns)+len(machineColumns))
	for _, k := range reportColumns {
		h = append(h, p.Text(k, nil))
	}
	return append(h, machineColumns...)
}

func (l ReportLine) cells(p locale.Printer) []string {
	return []string{strconv.Itoa(l.Row), formula.Neutralize(l.Email), p.Text("outcome."+l.Outcome, nil),
		formula.Neutralize(l.Text(p)), l.Outcome, l.Severity(), l.Codes()}
}

// WriteReportCSV writes a report as UTF-8 CSV with a byte order mark (so
// Excel reads its accents right).
func WriteReportCSV(w io.Writer, lines []ReportLine, p locale.Printer) error {
	if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(reportHeader(p)); err != nil {
		return err
	}
	for _, l := range lines {
		if err := cw.Write(l.cells(p)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteReportXLSX writes a report as a workbook, streaming its rows, every
// cell a string (a workbook never runs a string cell, and the values are
// neutralized as in the CSV besides: formula.Neutralize).
func WriteReportXLSX(w io.Writer, lines []ReportLine, p locale.Printer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := p.Text("report.sheet", nil)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 1, 8); err != nil {
		return err
	}
	if err := sw.SetColWidth(2, 2, 36); err != nil {
		return err
	}
	if err := sw.SetColWidth(4, 4, 90); err != nil {
		return err
	}
	labels := reportHeader(p)
	header := make([]any, len(labels))
	for i, h := range labels {
		header[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{}); err != nil {
		return err
	}
	for i, l := range lines {
		cells := l.cells(p)
		row := []any{l.Row, cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("report row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

package roster

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/formula"
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
	Message string
}

var reportHeader = []string{"row", "email", "outcome", "message"}

func (l ReportLine) cells() []string {
	return []string{strconv.Itoa(l.Row), formula.Neutralize(l.Email), l.Outcome, formula.Neutralize(l.Message)}
}

// WriteReportCSV writes a report as UTF-8 CSV with a byte order mark (so
// Excel reads its accents right).
func WriteReportCSV(w io.Writer, lines []ReportLine) error {
	if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(reportHeader); err != nil {
		return err
	}
	for _, l := range lines {
		if err := cw.Write(l.cells()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteReportXLSX writes a report as a workbook, streaming its rows, every
// cell a string (a workbook never runs a string cell, and the values are
// neutralized as in the CSV besides: formula.Neutralize).
func WriteReportXLSX(w io.Writer, lines []ReportLine) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Report"
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
	header := make([]any, len(reportHeader))
	for i, h := range reportHeader {
		header[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{}); err != nil {
		return err
	}
	for i, l := range lines {
		cells := l.cells()
		row := []any{l.Row, cells[1], cells[2], cells[3]}
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

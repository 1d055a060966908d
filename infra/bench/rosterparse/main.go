// Command rosterparse is the roster benchmark's worker: it reads one file
// in one mode and prints rows and seconds, so that make bench can measure
// each mode's time and peak memory in a process of its own.
//
//	rosterparse make-xlsx|make-xlsx-shared|make-csv <file> <rows>
//	rosterparse plain|parse <file>
package main

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/phone"
	"onboarding/shared/roster"
)

var header = []string{"Fornavn", "Etternavn", "E-post", "Mobil", "Rolle", "Avdeling", "Språk",
	"Eskaleringskontakt 1 navn", "Eskaleringskontakt 1 telefon", "Eskaleringskontakt 2 navn", "Eskaleringskontakt 2 telefon",
	"Kontakt utenom arbeidstid 1 navn", "Kontakt utenom arbeidstid 1 telefon", "Turnus", "Turnus gjelder fra",
	"Kodeord", "Registreringsnummer", "Annet", "Handling"}

func row(i int) []string {
	n := func(base int) string { return strconv.Itoa(base + i%1000000) }
	// Each worker's own mobile is unique; escalation contacts come from a
	// pool of 2,000 supervisors and the out-of-hours number from 50 on-call
	// phones, as in real rosters where the same people back up many workers.
	pool := func(base, size int) string { return strconv.Itoa(base + i%size) }
	return []string{"Kari" + strconv.Itoa(i%977), "Nordmann" + strconv.Itoa(i%1013), fmt.Sprintf("worker%06d@example.no", i),
		n(90000000), "member", []string{"Nord", "Sør", "Vest"}[i%3], "nb",
		"Ola " + strconv.Itoa(i%89), pool(41000000, 2000), "Per " + strconv.Itoa(i%97), pool(48000000, 2000),
		"Vakt " + strconv.Itoa(i%7), pool(22000000, 50), "T-" + strconv.Itoa(i%13), "2027-01-01",
		"ord" + strconv.Itoa(i%5003), "AB " + strconv.Itoa(10000+i%90000), "", ""}
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: rosterparse make-xlsx|make-xlsx-shared|make-csv|plain|parse <file> [rows]")
		os.Exit(2)
	}
	mode, file := os.Args[1], os.Args[2]
	// CPUPROFILE=<file> writes a CPU profile of the run (go tool pprof).
	if path := os.Getenv("CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "rosterparse:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	switch mode {
	case "make-xlsx", "make-xlsx-shared", "make-csv":
		n, _ := strconv.Atoi(os.Args[3])
		err = generate(mode, file, n)
	case "plain":
		err = plain(file)
	case "parse":
		err = parse(file)
	default:
		err = fmt.Errorf("unknown mode %s", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rosterparse:", err)
		os.Exit(1)
	}
}

func generate(mode, file string, n int) error {
	switch mode {
	case "make-csv":
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		w := bufio.NewWriter(f)
		w.WriteString(strings.Join(header, ";") + "\r\n")
		for i := range n {
			w.WriteString(strings.Join(row(i), ";") + "\r\n")
		}
		return w.Flush()
	case "make-xlsx":
		// excelize's stream writer: inline strings.
		f := excelize.NewFile()
		sw, err := f.NewStreamWriter("Sheet1")
		if err != nil {
			return err
		}
		for i := -1; i < n; i++ {
			cells := header
			if i >= 0 {
				cells = row(i)
			}
			vals := make([]any, len(cells))
			for j, c := range cells {
				vals[j] = c
			}
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			if err := sw.SetRow(cell, vals); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		return f.SaveAs(file)
	default:
		return sharedStrings(file, n)
	}
}

// sharedStrings writes a workbook as Excel and LibreOffice do: every text
// cell an index into one shared string table.
func sharedStrings(file string, n int) error {
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	defer out.Close()
	z := zip.NewWriter(out)
	put := func(name, body string) error {
		w, err := z.Create(name)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, body)
		return err
	}
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	put("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Brukere" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	index := map[string]int{}
	var table []string
	idx := func(s string) int {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = len(table)
		table = append(table, s)
		return len(table) - 1
	}
	sheet, err := z.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(sheet)
	w.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i := -1; i < n; i++ {
		cells := header
		if i >= 0 {
			cells = row(i)
		}
		fmt.Fprintf(w, `<row r="%d">`, i+2)
		for j, c := range cells {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+2)
			if c == "" {
				continue
			}
			if _, err := strconv.Atoi(c); err == nil && len(c) == 8 { // phone numbers typed as numbers
				fmt.Fprintf(w, `<c r="%s"><v>%s</v></c>`, ref, c)
				continue
			}
			fmt.Fprintf(w, `<c r="%s" t="s"><v>%d</v></c>`, ref, idx(c))
		}
		w.WriteString(`</row>`)
	}
	w.WriteString(`</sheetData></worksheet>`)
	if err := w.Flush(); err != nil {
		return err
	}
	ss, err := z.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	sw := bufio.NewWriter(ss)
	fmt.Fprintf(sw, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(table), len(table))
	for _, s := range table {
		sw.WriteString("<si><t>")
		xmlEscape(sw, s)
		sw.WriteString("</t></si>")
	}
	sw.WriteString("</sst>")
	if err := sw.Flush(); err != nil {
		return err
	}
	return z.Close()
}

func xmlEscape(w *bufio.Writer, s string) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	r.WriteString(w, s)
}

// plain iterates the rows with excelize alone (or encoding/csv for CSV):
// the baseline.
func plain(file string) error {
	start := time.Now()
	rows := 0
	if strings.HasSuffix(file, ".csv") {
		s, _, err := roster.OpenCSV(mustOpen(file), roster.Limits{MaxBytes: 1 << 30, MaxRows: 10_000_000})
		if err != nil {
			return err
		}
		for {
			if _, _, err := s.Next(); err != nil {
				break
			}
			rows++
		}
	} else {
		f, err := excelize.OpenFile(file)
		if err != nil {
			return err
		}
		defer f.Close()
		it, err := f.Rows(f.GetSheetList()[0])
		if err != nil {
			return err
		}
		for it.Next() {
			if _, err := it.Columns(); err != nil {
				return err
			}
			rows++
		}
	}
	fmt.Printf("%d %.6f\n", rows, time.Since(start).Seconds())
	return nil
}

// parse reads, matches the header, and parses and validates every row as
// an import does (phone numbers included), without the database.
func parse(file string) error {
	start := time.Now()
	sheet, err := roster.Open(file, mustOpen(file), roster.Limits{MaxBytes: 1 << 30, MaxRows: 10_000_000})
	if err != nil {
		return err
	}
	defer sheet.Close()
	units := map[string]string{"nord": "u1", "sør": "u2", "vest": "u3"}
	r, err := roster.NewReader(sheet, roster.Rules{
		Phones: phone.Normalize, Region: "NO", Today: time.Now(), DefaultRole: "member",
		Role:      func(n string) (string, bool) { return n, n == "member" || n == "admin" },
		Unit:      func(n string) (string, bool) { u, ok := units[strings.ToLower(n)]; return u, ok },
		Monitored: func(role string) bool { return role == "member" },
	})
	if err != nil {
		return err
	}
	defer r.Close()
	rows, bad := 0, 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rows++
		if !row.OK() {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d rows did not validate", bad, rows)
	}
	fmt.Printf("%d %.6f\n", rows, time.Since(start).Seconds())
	return nil
}

func mustOpen(file string) *os.File {
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return f
}

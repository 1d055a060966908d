package roster

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// bomb builds a minimal workbook in which sheet1 holds sheetMB of
// inline-string rows and the shared strings sstMB of one-letter items: a
// file of a few hundred kilobytes either way, as zip bombs are.
func bomb(sheetMB, sstMB int) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	part := func(name string, write func(w io.Writer)) {
		w, _ := z.Create(name)
		write(w)
	}
	text := func(s string) func(io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }
	part("[Content_Types].xml", text(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>`+
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`+
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`+
		`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`))
	part("_rels/.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	part("xl/workbook.xml", text(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" `+
		`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>`))
	part("xl/_rels/workbook.xml.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`+
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`))
	part("xl/worksheets/sheet1.xml", func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		io.WriteString(w, `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`)
		for n, r := 0, 2; n < sheetMB<<20; r++ {
			row := fmt.Sprintf(`<row r="%d"><c r="A%d" t="inlineStr"><is><t>kari@example.no</t></is></c></row>`, r, r)
			io.WriteString(w, row)
			n += len(row)
		}
		io.WriteString(w, `</sheetData></worksheet>`)
	})
	part("xl/sharedStrings.xml", func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Email</t></si>`)
		for n := 0; n < sstMB<<20; n += 17 {
			io.WriteString(w, `<si><t>x</t></si>`)
		}
		io.WriteString(w, `</sst>`)
	})
	z.Close()
	return buf.Bytes()
}

// A workbook is weighed by its directory before anything is unpacked:
// refused when what excelize would write to /tmp or hold in memory is over
// the limits, whatever the file's own size. (Shared strings cost the most
// memory: measured, 7 bytes for each byte of them once they spill to a
// temporary file, where each item's offsets are kept.)
func TestWorkbooksAreWeighedBeforeUnpacking(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name            string
		sheetMB, sstMB  int
		maxTemp, maxMem int64
		refused         bool
	}{
		{"a large sheet within the limits", 20, 0, 64 * mb, 64 * mb, false},
		{"a large sheet over /tmp", 20, 0, 16 * mb, 1024 * mb, true},
		{"shared strings over memory", 0, 20, 1024 * mb, 100 * mb, true},
		{"shared strings over /tmp (unpacked, then written again as text)", 0, 20, 30 * mb, 1024 * mb, true},
		{"shared strings within the limits", 0, 20, 64 * mb, 200 * mb, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := bomb(tc.sheetMB, tc.sstMB)
			if len(file) > 2*mb {
				t.Fatalf("the workbook is %d KB, a bomb is small", len(file)>>10)
			}
			start := time.Now()
			s, _, err := OpenXLSX(bytes.NewReader(file), Limits{MaxTemp: tc.maxTemp, MaxMemory: tc.maxMem})
			var fe *FileError
			if tc.refused {
				if !errors.As(err, &fe) || !strings.Contains(fe.Message, "unpacks to more") {
					t.Fatalf("got %v, want it refused", err)
				}
				if d := time.Since(start); d > time.Second {
					t.Fatalf("refused after %v: it was unpacked first", d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
		})
	}
}

package roster

import (
	"archive/zip"
	"math"
	"strings"
)

// ProcessMemory is the memory kept back for the rest of the process that
// reads a roster (Go's runtime, the SDK clients, phone number metadata, a
// batch of rows being applied).
const ProcessMemory = 128 << 20

// ForFunction returns the limits a function with memoryMB of memory and
// tmpMB of /tmp can afford, for files of up to maxBytes and maxRows (zero:
// the defaults). A quarter of /tmp is spared (a run that died may have left
// files there); the rest bounds what a workbook may write there and unpack
// to. The memory left after the process and the file, which is held twice
// (read here, then copied by excelize), bounds what it may hold.
func ForFunction(memoryMB, tmpMB int, maxBytes int64, maxRows int) Limits {
	l := Limits{MaxBytes: maxBytes, MaxRows: maxRows}.withDefaults()
	l.MaxTemp = int64(tmpMB) << 20 / 4 * 3
	l.MaxUnzipped = l.MaxTemp
	l.MaxMemory = int64(memoryMB)<<20 - ProcessMemory - 2*l.MaxBytes
	return l
}

// What reading a workbook costs per byte of a part, measured on the worst
// case (one-letter shared strings; peak RSS less the process's) and rounded
// up: a part read into memory 1.8 to 2.4 bytes; the shared strings, when
// they are read into memory (up to inMemoryPart), about 22 bytes, for
// excelize decodes every item into a struct and a map; when they spill to a
// temporary file, 5.8 to 6.6 bytes, for the offsets of each item.
const (
	memoryPerPartByte          = 3
	memoryPerSharedByte        = 24
	memoryPerSpilledSharedByte = 8
)

// workbookCost weighs a workbook by its directory, before anything is
// unpacked, by excelize's rules: a worksheet or the shared strings larger
// than inMemoryPart goes to a temporary file (the shared strings a second
// time as plain text, once a cell refers to them), every other part into
// memory. The sizes are the ones the directory declares, which archive/zip
// holds each part to when it is read.
func workbookCost(files []*zip.File) (temp, memory int64) {
	for _, f := range files {
		if f.UncompressedSize64 > 1<<40 {
			return math.MaxInt64, math.MaxInt64
		}
		size := int64(f.UncompressedSize64)
		name := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
		switch {
		case name == "xl/sharedstrings.xml" && size > inMemoryPart:
			temp += 2 * size
			memory += memoryPerSpilledSharedByte * size
		case name == "xl/sharedstrings.xml":
			memory += memoryPerSharedByte * size
		case strings.HasPrefix(name, "xl/worksheets/sheet") && size > inMemoryPart:
			temp += size
		default:
			memory += memoryPerPartByte * size
		}
	}
	return temp, memory
}

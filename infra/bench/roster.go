package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// rosterRun is one run of the rosterparse worker.
type rosterRun struct {
	rows    int
	seconds float64
	cpu     float64 // user and system seconds
	maxRSS  int64   // KiB
}

func runRosterparse(bin string, args ...string) (rosterRun, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return rosterRun{}, fmt.Errorf("rosterparse %v: %w", args, err)
	}
	var r rosterRun
	f := strings.Fields(string(out))
	if len(f) == 2 {
		r.rows, _ = strconv.Atoi(f[0])
		r.seconds, _ = strconv.ParseFloat(f[1], 64)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return r, nil
}

func medianRun(rs []rosterRun) rosterRun {
	sort.Slice(rs, func(i, j int) bool { return rs[i].seconds < rs[j].seconds })
	m := rs[len(rs)/2]
	var rss []int64
	var cpu []float64
	for _, r := range rs {
		rss, cpu = append(rss, r.maxRSS), append(cpu, r.cpu)
	}
	slices.Sort(rss)
	slices.Sort(cpu)
	m.maxRSS, m.cpu = rss[len(rss)/2], cpu[len(cpu)/2]
	return m
}

// rosters measures reading 100,000-row rosters: parse and validate (header
// matching, every row checked, phone numbers normalised) against plain
// iteration of the same file, each in a process of its own (for its peak
// memory), five times interleaved (this machine's timings vary by a
// quarter from run to run).
func rosters(tmp string) error {
	const rows, reps = 100_000, 5
	bin := filepath.Join(tmp, "rosterparse")
	if b, err := exec.Command("go", "build", "-o", bin, "./infra/bench/rosterparse").CombinedOutput(); err != nil {
		return fmt.Errorf("build rosterparse: %v\n%s", err, b)
	}
	files := []struct{ name, make, file string }{
		{"XLSX, shared strings (as Excel and LibreOffice write it)", "make-xlsx-shared", "shared.xlsx"},
		{"XLSX, inline strings (as excelize's stream writer writes it)", "make-xlsx", "inline.xlsx"},
		{"CSV (semicolons, UTF-8)", "make-csv", "roster.csv"},
	}
	out("\n## Reading rosters: 100,000 rows\n\n")
	out("Each file read %d times in each mode, interleaved, each run a process of its own; medians. *Plain* iterates the rows "+
		"(excelize's row iterator; for CSV, the sniffing CSV reader); *parse* also finds the header, and checks every row as an "+
		"import does (email, names, role, unit, language, the worker's mobile and four contact numbers through libphonenumber). "+
		"Workers' own numbers are unique; escalation contacts come from a pool of 2,000 and out-of-hours numbers from 50. "+
		"The reader decodes the sheet on a goroutine of its own while rows are checked, so on more than one core the wall time "+
		"is the slower of the two; *CPU ratio* compares the processor time both modes used (user and system, all threads), "+
		"which is what a Lambda function with less than one vCPU (the ingest function has 1024 MB, about 0.6) sees.\n\n", reps)
	out("| file | size | plain rows/s | parse rows/s | ratio (target >= 0.7) | CPU ratio | plain peak RSS | parse peak RSS | ratio (target <= 1.5) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var xlsxPlain float64
	for _, f := range files {
		path := filepath.Join(tmp, f.file)
		if _, err := runRosterparse(bin, f.make, path, strconv.Itoa(rows)); err != nil {
			return err
		}
		info, _ := os.Stat(path)
		var plain, parse []rosterRun
		for range reps {
			p, err := runRosterparse(bin, "plain", path)
			if err != nil {
				return err
			}
			q, err := runRosterparse(bin, "parse", path)
			if err != nil {
				return err
			}
			plain, parse = append(plain, p), append(parse, q)
		}
		p, q := medianRun(plain), medianRun(parse)
		pr, qr := float64(rows)/p.seconds, float64(rows)/q.seconds
		out("| %s | %.1f MB | %.0f | %.0f | %.2fx | %.2fx | %d MB | %d MB | %.2fx |\n", f.name, float64(info.Size())/(1<<20), pr, qr, qr/pr,
			p.cpu/q.cpu, p.maxRSS>>10, q.maxRSS>>10, float64(q.maxRSS)/float64(p.maxRSS))
		if f.make == "make-xlsx-shared" {
			xlsxPlain = pr
		} else if f.make == "make-csv" {
			out("\nThe CSV's parse rate is %.2fx plain excelize iteration of the same rows as a shared-strings workbook; "+
				"against the plain CSV reader (which does almost nothing per row) the ratio above is what checking a row costs.\n\n", qr/xlsxPlain)
		}
	}

	return nil
}

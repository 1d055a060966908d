package roster

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNoHeader(t *testing.T) {
	s, _, err := OpenCSV(strings.NewReader("a,b,c\n1,2,3\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewReader(s, testRules())
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "no header row") {
		t.Fatalf("%v", err)
	}
}

// watchedSheet fails the test if the sheet is read once closed, and can
// fail with an error after a number of rows.
type watchedSheet struct {
	t      *testing.T
	inner  Sheet
	failAt int
	read   atomic.Int32
	closed atomic.Bool
}

func (s *watchedSheet) Next() ([]string, int, error) {
	if s.closed.Load() {
		s.t.Error("the sheet was read after it was closed")
	}
	n := s.read.Add(1)
	if s.failAt > 0 && int(n) == s.failAt {
		return nil, 0, fileErr("the CSV file is malformed at line %d", n)
	}
	return s.inner.Next()
}

func (s *watchedSheet) Close() error { s.closed.Store(true); return nil }

// Rows read ahead come back in order, blank ones skipped, with an error in
// the file returned where it is (after the rows before it) and again on
// every later call; Close stops the reading before the sheet is closed.
func TestReaderReadsAhead(t *testing.T) {
	var b strings.Builder
	b.WriteString("Email,First name,Last name\n")
	const rows = 1000
	for i := range rows {
		if i%100 == 7 {
			b.WriteString(",,\n")
		}
		fmt.Fprintf(&b, "worker%04d@example.no,Kari,N\n", i)
	}
	open := func(failAt int) (*Reader, *watchedSheet) {
		csv, _, err := OpenCSV(strings.NewReader(b.String()), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		s := &watchedSheet{t: t, inner: csv, failAt: failAt}
		r, err := NewReader(s, testRules())
		if err != nil {
			t.Fatal(err)
		}
		return r, s
	}

	t.Run("in order", func(t *testing.T) {
		r, _ := open(0)
		defer r.Close()
		for i := range rows {
			row, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("worker%04d@example.no", i); row.Email != want {
				t.Fatalf("row %d is %s, want %s", i, row.Email, want)
			}
		}
		for range 2 {
			if _, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the last row: %v", err)
			}
		}
	})
	t.Run("an error where it is", func(t *testing.T) {
		r, _ := open(301) // the 301st read fails
		defer r.Close()
		n := 0
		var err error
		for ; err == nil; n++ {
			_, err = r.Next()
		}
		var fe *FileError
		if !errors.As(err, &fe) || n-1 != 296 { // 299 rows after the header, 3 of them blank
			t.Fatalf("after %d rows: %v", n-1, err)
		}
		if _, again := r.Next(); again != err {
			t.Fatalf("then %v", again)
		}
	})
	t.Run("close", func(t *testing.T) {
		r, s := open(0)
		for range 10 {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		s.Close()
		time.Sleep(10 * time.Millisecond) // a reader still running would read now
		if read := s.read.Load(); read > 1+10+readAheadRows*(readAheadBatches+1) {
			t.Fatalf("%d rows read ahead of 10", read)
		}
		if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
			t.Fatalf("Next after Close: %v", err)
		}
		r.Close() // twice is harmless
	})
}

// panickySheet panics on its nth read, as a decoder might on a file it
// does not expect.
type panickySheet struct {
	inner Sheet
	at, n int
}

func (s *panickySheet) Next() ([]string, int, error) {
	if s.n++; s.n == s.at {
		panic("index out of range")
	}
	return s.inner.Next()
}

func (s *panickySheet) Close() error { return nil }

// A decoder's panic, in the header search or further down, fails the file
// with a message, like any other damaged file.
func TestDecoderPanicFailsTheFile(t *testing.T) {
	for _, at := range []int{1, 2, 150} {
		csv, _, err := OpenCSV(strings.NewReader("Email,Full name\n"+strings.Repeat("kari@example.no,Kari N\n", 200)), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(&panickySheet{inner: csv, at: at}, testRules())
		if err == nil {
			for err == nil {
				_, err = r.Next()
			}
			r.Close()
		}
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(fe.Message, "damaged") {
			t.Fatalf("panic at read %d: %v", at, err)
		}
	}
}

// memo remembers results, errors as well, up to its limit; past it, it
// still answers but calls f again.
func TestMemo(t *testing.T) {
	calls := map[string]int{}
	f := memo(func(k string) (string, error) {
		calls[k]++
		if k == "bad" {
			return "", errors.New("bad")
		}
		return strings.ToUpper(k), nil
	}, 2)
	for range 3 {
		for _, k := range []string{"a", "bad", "c"} {
			v, err := f(k)
			if k == "bad" && err == nil || k != "bad" && v != strings.ToUpper(k) {
				t.Fatalf("%s: %q %v", k, v, err)
			}
		}
	}
	if calls["a"] != 1 || calls["bad"] != 1 || calls["c"] != 3 {
		t.Fatalf("calls %v", calls)
	}
}

package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"onboarding/shared/importjob"
	"onboarding/shared/ingest"
	"onboarding/shared/ingest/ingesttest"
)

// memObjects is a bucket in memory.
type memObjects struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (m *memObjects) Get(_ context.Context, key, _ string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return io.NopCloser(bytes.NewReader(m.files[key])), nil
}
func (m *memObjects) Put(_ context.Context, key, _ string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[key] = body
	return nil
}
func (m *memObjects) PresignGet(_ context.Context, key string, _ time.Duration) (string, error) {
	return "https://bucket/" + key, nil
}

type summaries struct{ got []importjob.Summary }

func (s *summaries) SendImportSummary(_ context.Context, sum importjob.Summary) error {
	s.got = append(s.got, sum)
	return nil
}

func TestIngestAppliesAnObjectVersionOnce(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	objs := &memObjects{files: map[string][]byte{}}
	mail := &summaries{}
	links := importjob.NewReportLinks(bytes.Repeat([]byte{7}, 32), "https://onboard.example", 30)
	g := &ingest.Importer{Jobs: w.Store, Objects: objs, Applier: w.Applier, Mailer: mail, SummaryTo: "ops@example.no", Now: time.Now,
		ReportLinks: links}
	var rows strings.Builder
	rows.WriteString(ingesttest.Header)
	for _, name := range []string{"a", "b", "c", "d"} {
		rows.WriteString("P,Q," + name + "@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,\n")
	}
	key := "imports/" + w.OrgID + "/roster.csv"
	objs.files[key] = []byte(rows.String())
	obj := importjob.Object{Key: key, ETag: `"etag-1"`, Size: int64(rows.Len())}

	job, err := g.Apply(ctx, obj)
	if err != nil || job.Status != importjob.Done || job.Counts.Created != 4 || job.NextRow != 6 {
		t.Fatalf("%+v %v", job, err)
	}
	// The summary links to the report through a signed link, which
	// presigns a URL when it is followed (a URL presigned now would die with
	// the function's temporary credentials, within hours) and needs no
	// access token (a mail client has none); it works for the days the
	// email states.
	if len(mail.got) != 1 || mail.got[0].To != "ops@example.no" || mail.got[0].Counts.Created != 4 ||
		!strings.HasPrefix(mail.got[0].ReportURL, "https://onboard.example"+importjob.ReportLinkPath+"?") ||
		mail.got[0].ReportDays != importjob.ReportLinkDays {
		t.Fatalf("summary %+v", mail.got)
	}
	u, _ := url.Parse(mail.got[0].ReportURL)
	q := map[string]string{}
	for k, v := range u.Query() {
		q[k] = v[0]
	}
	if l, err := links.Open(q, time.Now().Add(importjob.ReportLinkDays*24*time.Hour-time.Minute)); err != nil ||
		l != (importjob.ReportLink{OrgID: w.OrgID, ImportID: job.ID, Format: "xlsx"}) {
		t.Fatalf("the summary's link opens %+v, %v", l, err)
	}
	if !bytes.Contains(objs.files[importjob.ReportKey(w.OrgID, job.ID)+".csv"], []byte("a@example.no,created")) {
		t.Fatalf("report %s", objs.files[importjob.ReportKey(w.OrgID, job.ID)+".csv"])
	}
	// The same event again: nothing happens, no second summary.
	again, err := g.Apply(ctx, obj)
	if err != nil || again.ID != job.ID || again.Counts.Created != 4 || len(mail.got) != 1 {
		t.Fatalf("%+v %v %d", again, err, len(mail.got))
	}
	// A new version of the same key is a new import.
	obj.ETag = `"etag-2"`
	second, err := g.Apply(ctx, obj)
	if err != nil || second.ID == job.ID || second.Counts.Unchanged != 4 {
		t.Fatalf("%+v %v", second, err)
	}
}

// An import that invited people starts the sweep, so their email goes out
// now; one that invited nobody does not, and a sweep that cannot be started
// fails nothing (the scheduled one sends the email).
func TestImporterStartsTheSweepOnlyAfterInvitations(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	objs := &memObjects{files: map[string][]byte{}}
	var started []string
	g := &ingest.Importer{Jobs: w.Store, Objects: objs, Applier: w.Applier, Now: time.Now,
		StartSweep: func(_ context.Context, importID string) error {
			started = append(started, importID)
			return errors.New("invoke: throttled")
		}}
	csv := ingesttest.Header + "P,Q,a@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,\n"
	key := "imports/" + w.OrgID + "/roster.csv"
	objs.files[key] = []byte(csv)
	job, err := g.Apply(ctx, importjob.Object{Key: key, ETag: `"etag-1"`, Size: int64(len(csv))})
	if err != nil || job.Status != importjob.Done || job.Counts.Created != 1 || len(started) != 1 || started[0] != job.ID {
		t.Fatalf("%+v %v; sweeps started for %v", job, err, started)
	}
	again, err := g.Apply(ctx, importjob.Object{Key: key, ETag: `"etag-2"`, Size: int64(len(csv))})
	if err != nil || again.Status != importjob.Done || again.Counts.Created != 0 || len(started) != 1 {
		t.Fatalf("%+v %v; sweeps started for %v", again, err, started)
	}
}

func TestIngestResumesFromItsCheckpoint(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	objs := &memObjects{files: map[string][]byte{}}
	now := time.Now().UTC().Truncate(time.Second)
	g := &ingest.Importer{Jobs: w.Store, Objects: objs, Applier: w.Applier, Now: func() time.Time { return now }}
	csv := ingesttest.Header + "P,Q,a@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,\n" +
		"P,Q,b@example.no,915 12 346,,Nord,Ola N,41234567,Per P,41234568,,\n"
	key := "imports/" + w.OrgID + "/imp1/roster.csv"
	objs.files[key] = []byte(csv)
	// A run claimed the job, applied row 2 and died (its lease is over).
	if err := w.Store.CreateImport(ctx, importjob.Job{ID: "imp1", OrgID: w.OrgID, FileName: "roster.csv", UploadedBy: w.Admin,
		Status: importjob.AwaitingUpload, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	job, claimed, err := w.Store.ClaimImport(ctx, w.OrgID, "imp1",
		importjob.Claim{Key: key, Version: "v1", Until: now.Add(-time.Minute), Now: now.Add(-time.Hour)})
	if err != nil || !claimed {
		t.Fatal(claimed, err)
	}
	job.NextRow, job.Counts.Rows, job.Counts.Created, job.UpdatedAt = 3, 1, 1, now
	if err := w.Store.SaveProgress(ctx, job); err != nil {
		t.Fatal(err)
	}
	// The retried event resumes at row 3: a@ (row 2) is not applied again.
	done, err := g.Apply(ctx, importjob.Object{Key: key, Version: "v1", Size: int64(len(csv))})
	if err != nil || done.Status != importjob.Done || done.Counts.Rows != 2 || done.Counts.Created != 2 {
		t.Fatalf("%+v %v", done, err)
	}
	if inv, _ := w.Store.PendingInvitation(ctx, w.OrgID, "a@example.no"); inv != nil {
		t.Fatal("row 2 was applied again")
	}
	if inv, _ := w.Store.PendingInvitation(ctx, w.OrgID, "b@example.no"); inv == nil {
		t.Fatal("row 3 was not applied")
	}
	// A job that is running under a live lease is left alone.
	if err := w.Store.CreateImport(ctx, importjob.Job{ID: "imp2", OrgID: w.OrgID, FileName: "x.csv", Status: importjob.AwaitingUpload,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := w.Store.ClaimImport(ctx, w.OrgID, "imp2", importjob.Claim{Key: key, Version: "v9", Until: now.Add(time.Hour), Now: now}); !claimed {
		t.Fatal("first claim")
	}
	if _, claimed, _ := w.Store.ClaimImport(ctx, w.OrgID, "imp2", importjob.Claim{Key: key, Version: "v9", Until: now.Add(time.Hour), Now: now}); claimed {
		t.Fatal("claimed twice under a live lease")
	}
}

func TestFullRosterStopsBeforeRemovingTooMany(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c", "d"} {
		w.Invite(name+"@example.no", "member", w.Nord)
		w.Accept(name + "@example.no")
	}
	w.Invite("bo@example.no", "admin")
	w.Accept("bo@example.no")
	objs := &memObjects{files: map[string][]byte{}}
	g := &ingest.Importer{Jobs: w.Store, Objects: objs, Applier: w.Applier, Now: time.Now}
	run := func(id string, confirm bool, names ...string) importjob.Job {
		t.Helper()
		csv := ingesttest.Header
		for _, n := range names {
			csv += "P,Q," + n + "@example.no,,,,,,,,,\n"
		}
		key := "imports/" + w.OrgID + "/" + id + "/roster.csv"
		objs.files[key] = []byte(csv)
		now := time.Now()
		if err := w.Store.CreateImport(ctx, importjob.Job{ID: id, OrgID: w.OrgID, FileName: "roster.csv", UploadedBy: w.Admin,
			FullRoster: true, ConfirmRemovals: confirm, Status: importjob.AwaitingUpload, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		job, err := g.Apply(ctx, importjob.Object{Key: key, ETag: id, Size: int64(len(csv))})
		if err != nil {
			t.Fatal(err)
		}
		return job
	}
	member := func(email string) bool {
		acct, _ := w.Store.AccountByEmail(ctx, email)
		m, _ := w.Store.Member(ctx, w.OrgID, acct.UserID)
		return m != nil
	}
	// Half of the monitored workers missing: stopped, nothing changed.
	if job := run("i1", false, "a", "b"); job.Status != importjob.Stopped || !strings.Contains(job.Message, "2 of the 4") {
		t.Fatalf("%+v", job)
	}
	if !member("c@example.no") || !member("d@example.no") {
		t.Fatal("a stopped import removed someone")
	}
	// One in four: within the safe share; d goes, the admin stays.
	if job := run("i2", false, "a", "b", "c"); job.Status != importjob.Done || job.Counts.Removed != 1 || member("d@example.no") {
		t.Fatalf("%+v", job)
	}
	if !member("bo@example.no") {
		t.Fatal("a full roster of workers removed an admin")
	}
	// Confirmed: the rest go.
	if job := run("i3", true, "a"); job.Status != importjob.Done || job.Counts.Removed != 2 || member("b@example.no") {
		t.Fatalf("%+v", job)
	}
}

// batchClock is a clock that moves only when a run saves its progress:
// every batch of rows takes step by it, however fast or busy the machine.
type batchClock struct {
	importjob.JobStore
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *batchClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *batchClock) SaveProgress(ctx context.Context, j importjob.Job) error {
	c.mu.Lock()
	c.now = c.now.Add(c.step)
	c.mu.Unlock()
	return c.JobStore.SaveProgress(ctx, j)
}

// A file too large for one run stops before the deadline and carries on in
// the next from its checkpoint: every row applied once, one report. The
// runs are timed by a clock that moves a minute a batch, so each run takes
// the same rows on any machine (the contexts' real deadlines, minutes away,
// never come).
func TestIngestCarriesOnInTheNextRun(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	objs := &memObjects{files: map[string][]byte{}}
	clock := &batchClock{JobStore: w.Store, now: time.Now().UTC(), step: time.Minute}
	g := &ingest.Importer{Jobs: clock, Objects: objs, Applier: w.Applier, Now: clock.Now, Reserve: time.Minute}
	var csv strings.Builder
	csv.WriteString(ingesttest.Header)
	const n = 1000
	for i := range n {
		fmt.Fprintf(&csv, "P,Q,w%03d@example.no,915 %02d %03d,,Nord,Ola N,41234567,Per P,41234568,,\n", i, 10+i/100, i%1000)
	}
	key := "imports/" + w.OrgID + "/big.csv"
	objs.files[key] = []byte(csv.String())
	obj := importjob.Object{Key: key, ETag: "big-1", Size: int64(csv.Len())}

	runs := 0
	var job importjob.Job
	for {
		runs++
		// Five minutes by the clock: five batches, the reserve kept back.
		rctx, cancel := context.WithDeadline(ctx, clock.Now().Add(5*time.Minute))
		var err error
		job, err = g.Apply(rctx, obj)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, importjob.ErrContinue) || runs > 50 {
			t.Fatalf("run %d: %v", runs, err)
		}
	}
	if runs < 2 {
		t.Fatalf("the file fit one run (%d): make it larger", runs)
	}
	if job.Status != importjob.Done || job.Counts.Rows != n || job.Counts.Created != n || job.Counts.Unchanged != 0 {
		t.Fatalf("after %d runs: %+v", runs, job)
	}
	report := objs.files[importjob.ReportKey(w.OrgID, job.ID)+".csv"]
	if lines := bytes.Count(report, []byte("\n")); lines != n+1 {
		t.Fatalf("report has %d lines", lines)
	}
	t.Logf("%d rows in %d runs", n, runs)
}

// cutOff is a run's context whose deadline passes when cut is called,
// whatever the time: as when a batch takes longer than the run has left.
type cutOff struct {
	context.Context
	deadline time.Time
	done     chan struct{}
	once     sync.Once
}

func (c *cutOff) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *cutOff) Done() <-chan struct{}       { return c.done }
func (c *cutOff) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
func (c *cutOff) cut() { c.once.Do(func() { close(c.done) }) }

// cutAfter cuts a run off once it has saved its progress n times.
type cutAfter struct {
	importjob.JobStore
	n, saves int
	ctx      *cutOff
}

func (c *cutAfter) SaveProgress(ctx context.Context, j importjob.Job) error {
	err := c.JobStore.SaveProgress(ctx, j)
	if c.saves++; c.saves == c.n {
		c.ctx.cut()
	}
	return err
}

// A run whose deadline passes in the middle of a batch is consistent at its
// checkpoint: it hands over like a pause (ErrContinue, the checkpoint and
// report lines kept, the lease over), and the next run applies the batch
// that was cut off, every row once.
func TestIngestCutOffByItsDeadlineHandsOver(t *testing.T) {
	w := ingesttest.NewWorld(t)
	objs := &memObjects{files: map[string][]byte{}}
	var csv strings.Builder
	csv.WriteString(ingesttest.Header)
	const n = 200
	for i := range n {
		fmt.Fprintf(&csv, "P,Q,w%03d@example.no,9151%04d,,Nord,Ola N,41234567,Per P,41234568,,\n", i, i)
	}
	key := "imports/" + w.OrgID + "/cut.csv"
	objs.files[key] = []byte(csv.String())
	obj := importjob.Object{Key: key, ETag: "cut-1", Size: int64(csv.Len())}
	ctx := &cutOff{Context: context.Background(), deadline: time.Now().Add(time.Hour), done: make(chan struct{})}
	g := &ingest.Importer{Jobs: &cutAfter{JobStore: w.Store, n: 3, ctx: ctx}, Objects: objs, Applier: w.Applier, Now: time.Now}

	job, err := g.Apply(ctx, obj)
	if !errors.Is(err, importjob.ErrContinue) {
		t.Fatalf("a run cut off by its deadline: %v (want ErrContinue)", err)
	}
	// Three batches of 50 were saved; the fourth, cut off, is not counted.
	saved, err := w.Store.Import(context.Background(), w.OrgID, job.ID)
	if err != nil || saved.Status != importjob.Running || saved.NextRow != 152 || saved.Counts.Created != 150 || saved.Counts.Errors != 0 {
		t.Fatalf("kept: %+v %v", saved, err)
	}
	done, err := g.Apply(context.Background(), obj)
	if err != nil || done.Status != importjob.Done || done.Counts.Rows != n || done.Counts.Created != n || done.Counts.Errors != 0 {
		t.Fatalf("next run: %+v %v", done, err)
	}
	report := string(objs.files[importjob.ReportKey(w.OrgID, done.ID)+".csv"])
	for i := range n {
		if c := strings.Count(report, fmt.Sprintf("w%03d@example.no,created", i)); c != 1 {
			t.Fatalf("w%03d is in the report %d times:\n%s", i, c, report)
		}
	}
}

// flakyObjects fails the first read of a file part-way, as a dropped S3
// connection does.
type flakyObjects struct {
	*memObjects
	failAfter int
	failed    bool
}

func (f *flakyObjects) Get(ctx context.Context, key, version string) (io.ReadCloser, error) {
	body, err := f.memObjects.Get(ctx, key, version)
	if err != nil || f.failed || !strings.HasPrefix(key, "imports/") {
		return body, err
	}
	f.failed = true
	return io.NopCloser(io.MultiReader(io.LimitReader(body, int64(f.failAfter)), iotest.ErrReader(errors.New("connection reset by peer")))), nil
}

// A run that fails for a reason of ours (here the file's download breaks
// off) keeps what it did and gives up its lease: Lambda's retry of the
// event, a minute later, resumes it where it stopped, and the report lists
// every row once.
func TestIngestFailedRunIsResumedByTheRetry(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	var csv strings.Builder
	// A column the import ignores makes the file longer than what opening
	// it reads at once (64 KB), so the break comes while rows are read.
	csv.WriteString(strings.TrimSuffix(ingesttest.Header, "\n") + ",Skostørrelse\n")
	const rows = 130
	for i := range rows {
		fmt.Fprintf(&csv, "P,Q,w%03d@example.no,9151%04d,,Nord,Ola N,41234567,Per P,41234568,,,%s\n", i, i, strings.Repeat("x", 600))
	}
	key := "imports/" + w.OrgID + "/imp1/roster.csv"
	objs := &flakyObjects{memObjects: &memObjects{files: map[string][]byte{key: []byte(csv.String())}}}
	objs.failAfter = strings.Index(csv.String(), "w120@") // rows 0 to 119 can be read
	now := time.Now().UTC().Truncate(time.Second)
	g := &ingest.Importer{Jobs: w.Store, Objects: objs, Applier: w.Applier, Now: func() time.Time { return now }}
	if err := w.Store.CreateImport(ctx, importjob.Job{ID: "imp1", OrgID: w.OrgID, FileName: "roster.csv", UploadedBy: w.Admin,
		Status: importjob.AwaitingUpload, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	obj := importjob.Object{Key: key, Version: "v1", Size: int64(csv.Len())}

	job, err := g.Apply(ctx, obj)
	if err == nil || !strings.Contains(err.Error(), "connection reset") || job.Status != importjob.Running {
		t.Fatalf("first run: %+v %v", job, err)
	}
	saved, err := w.Store.Import(ctx, w.OrgID, "imp1")
	if err != nil || saved.NextRow != 102 || saved.Counts.Created != 100 || len(saved.Parts) != 1 {
		t.Fatalf("kept after the failure: next row %d, %+v, parts %v, %v", saved.NextRow, saved.Counts, saved.Parts, err)
	}
	// Should no retry come, the stale-import step takes it up after the grace.
	if saved.StaleAt == nil || !saved.StaleAt.Equal(now.Add(importjob.HandoverGrace)) {
		t.Fatalf("stale at %v, want %v", saved.StaleAt, now.Add(importjob.HandoverGrace))
	}
	// The status names the column it does not read while it runs.
	if len(saved.Warnings) != 1 || saved.Warnings[0].Column != "M" || saved.Warnings[0].Header != "Skostørrelse" {
		t.Fatalf("warnings while running: %+v", saved.Warnings)
	}

	// The retry, at once (the lease is over): rows from 102 on, each once.
	done, err := g.Apply(ctx, obj)
	if err != nil || done.Status != importjob.Done || done.Counts.Created != rows || done.Counts.Rows != rows {
		t.Fatalf("retry: %+v %v", done, err)
	}
	if stale, err := w.Store.StaleImports(ctx, now.Add(24*time.Hour), 10); err != nil || len(stale) != 0 {
		t.Fatalf("a finished import is still listed as running: %+v %v", stale, err)
	}
	report := string(objs.files[importjob.ReportKey(w.OrgID, "imp1")+".csv"])
	for i := range rows {
		if n := strings.Count(report, fmt.Sprintf("w%03d@example.no,created", i)); n != 1 {
			t.Fatalf("w%03d is in the report %d times:\n%s", i, n, report)
		}
	}
}

package imports_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"onboarding/shared/importjob"
	"onboarding/shared/imports"
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
	w := newWorld(t)
	ctx := context.Background()
	objs := &memObjects{files: map[string][]byte{}}
	mail := &summaries{}
	g := &imports.Ingest{Jobs: w.store, Objects: objs, Applier: w.applier, Mailer: mail, SummaryTo: "ops@example.no", Now: time.Now,
		BaseURL: "https://onboard.example"}
	var rows strings.Builder
	rows.WriteString(header)
	for _, name := range []string{"a", "b", "c", "d"} {
		rows.WriteString("P,Q," + name + "@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,\n")
	}
	key := "imports/" + w.orgID + "/roster.csv"
	objs.files[key] = []byte(rows.String())
	obj := imports.Object{Key: key, ETag: `"etag-1"`, Size: int64(rows.Len())}

	job, err := g.Apply(ctx, obj)
	if err != nil || job.Status != importjob.Done || job.Counts.Created != 4 || job.NextRow != 6 {
		t.Fatalf("%+v %v", job, err)
	}
	// The summary links to the report route, which presigns a URL when it
	// is followed: a URL presigned now would die with the function's
	// temporary credentials, within hours.
	if len(mail.got) != 1 || mail.got[0].To != "ops@example.no" || mail.got[0].Counts.Created != 4 ||
		mail.got[0].ReportURL != "https://onboard.example/orgs/"+w.orgID+"/imports/"+job.ID+"/report?format=xlsx" {
		t.Fatalf("summary %+v", mail.got)
	}
	if !bytes.Contains(objs.files[imports.ReportKey(w.orgID, job.ID)+".csv"], []byte("a@example.no,created")) {
		t.Fatalf("report %s", objs.files[imports.ReportKey(w.orgID, job.ID)+".csv"])
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

func TestIngestResumesFromItsCheckpoint(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	objs := &memObjects{files: map[string][]byte{}}
	now := time.Now().UTC().Truncate(time.Second)
	g := &imports.Ingest{Jobs: w.store, Objects: objs, Applier: w.applier, Now: func() time.Time { return now }}
	csv := header + "P,Q,a@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,\n" +
		"P,Q,b@example.no,915 12 346,,Nord,Ola N,41234567,Per P,41234568,,\n"
	key := "imports/" + w.orgID + "/imp1/roster.csv"
	objs.files[key] = []byte(csv)
	// A run claimed the job, applied row 2 and died (its lease is over).
	if err := w.store.CreateImport(ctx, importjob.Job{ID: "imp1", OrgID: w.orgID, FileName: "roster.csv", UploadedBy: w.admin,
		Status: importjob.AwaitingUpload, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	job, claimed, err := w.store.ClaimImport(ctx, w.orgID, "imp1", key, "v1", now.Add(-time.Minute), now.Add(-time.Hour))
	if err != nil || !claimed {
		t.Fatal(claimed, err)
	}
	job.NextRow, job.Counts.Rows, job.Counts.Created, job.UpdatedAt = 3, 1, 1, now
	if err := w.store.SaveProgress(ctx, job); err != nil {
		t.Fatal(err)
	}
	// The retried event resumes at row 3: a@ (row 2) is not applied again.
	done, err := g.Apply(ctx, imports.Object{Key: key, Version: "v1", Size: int64(len(csv))})
	if err != nil || done.Status != importjob.Done || done.Counts.Rows != 2 || done.Counts.Created != 2 {
		t.Fatalf("%+v %v", done, err)
	}
	if inv, _ := w.store.PendingInvitation(ctx, w.orgID, "a@example.no"); inv != nil {
		t.Fatal("row 2 was applied again")
	}
	if inv, _ := w.store.PendingInvitation(ctx, w.orgID, "b@example.no"); inv == nil {
		t.Fatal("row 3 was not applied")
	}
	// A job that is running under a live lease is left alone.
	if err := w.store.CreateImport(ctx, importjob.Job{ID: "imp2", OrgID: w.orgID, FileName: "x.csv", Status: importjob.AwaitingUpload,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := w.store.ClaimImport(ctx, w.orgID, "imp2", key, "v9", now.Add(time.Hour), now); !claimed {
		t.Fatal("first claim")
	}
	if _, claimed, _ := w.store.ClaimImport(ctx, w.orgID, "imp2", key, "v9", now.Add(time.Hour), now); claimed {
		t.Fatal("claimed twice under a live lease")
	}
}

func TestFullRosterStopsBeforeRemovingTooMany(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c", "d"} {
		w.invite(name+"@example.no", "member", w.nord)
		w.accept(name + "@example.no")
	}
	w.invite("bo@example.no", "admin")
	w.accept("bo@example.no")
	objs := &memObjects{files: map[string][]byte{}}
	g := &imports.Ingest{Jobs: w.store, Objects: objs, Applier: w.applier, Now: time.Now}
	run := func(id string, confirm bool, names ...string) importjob.Job {
		t.Helper()
		csv := header
		for _, n := range names {
			csv += "P,Q," + n + "@example.no,,,,,,,,,\n"
		}
		key := "imports/" + w.orgID + "/" + id + "/roster.csv"
		objs.files[key] = []byte(csv)
		now := time.Now()
		if err := w.store.CreateImport(ctx, importjob.Job{ID: id, OrgID: w.orgID, FileName: "roster.csv", UploadedBy: w.admin,
			FullRoster: true, ConfirmRemovals: confirm, Status: importjob.AwaitingUpload, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		job, err := g.Apply(ctx, imports.Object{Key: key, ETag: id, Size: int64(len(csv))})
		if err != nil {
			t.Fatal(err)
		}
		return job
	}
	member := func(email string) bool {
		acct, _ := w.store.AccountByEmail(ctx, email)
		m, _ := w.store.Member(ctx, w.orgID, acct.UserID)
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

// A file too large for one run stops before the deadline and carries on in
// the next from its checkpoint: every row applied once, one report.
func TestIngestCarriesOnInTheNextRun(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	objs := &memObjects{files: map[string][]byte{}}
	g := &imports.Ingest{Jobs: w.store, Objects: objs, Applier: w.applier, Now: time.Now, Reserve: 150 * time.Millisecond}
	var csv strings.Builder
	csv.WriteString(header)
	const n = 1000
	for i := range n {
		fmt.Fprintf(&csv, "P,Q,w%03d@example.no,915 %02d %03d,,Nord,Ola N,41234567,Per P,41234568,,\n", i, 10+i/100, i%1000)
	}
	key := "imports/" + w.orgID + "/big.csv"
	objs.files[key] = []byte(csv.String())
	obj := imports.Object{Key: key, ETag: "big-1", Size: int64(csv.Len())}

	runs := 0
	var job importjob.Job
	for {
		runs++
		rctx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
		var err error
		job, err = g.Apply(rctx, obj)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, imports.ErrContinue) || runs > 50 {
			t.Fatalf("run %d: %v", runs, err)
		}
	}
	if runs < 2 {
		t.Fatalf("the file fit one run (%d): make it larger", runs)
	}
	if job.Status != importjob.Done || job.Counts.Rows != n || job.Counts.Created != n || job.Counts.Unchanged != 0 {
		t.Fatalf("after %d runs: %+v", runs, job)
	}
	report := objs.files[imports.ReportKey(w.orgID, job.ID)+".csv"]
	if lines := bytes.Count(report, []byte("\n")); lines != n+1 {
		t.Fatalf("report has %d lines", lines)
	}
	t.Logf("%d rows in %d runs", n, runs)
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
	w := newWorld(t)
	ctx := context.Background()
	var csv strings.Builder
	// A column the import ignores makes the file longer than what opening
	// it reads at once (64 KB), so the break comes while rows are read.
	csv.WriteString(strings.TrimSuffix(header, "\n") + ",Notat\n")
	const rows = 130
	for i := range rows {
		fmt.Fprintf(&csv, "P,Q,w%03d@example.no,9151%04d,,Nord,Ola N,41234567,Per P,41234568,,,%s\n", i, i, strings.Repeat("x", 600))
	}
	key := "imports/" + w.orgID + "/imp1/roster.csv"
	objs := &flakyObjects{memObjects: &memObjects{files: map[string][]byte{key: []byte(csv.String())}}}
	objs.failAfter = strings.Index(csv.String(), "w120@") // rows 0 to 119 can be read
	now := time.Now().UTC().Truncate(time.Second)
	g := &imports.Ingest{Jobs: w.store, Objects: objs, Applier: w.applier, Now: func() time.Time { return now }}
	if err := w.store.CreateImport(ctx, importjob.Job{ID: "imp1", OrgID: w.orgID, FileName: "roster.csv", UploadedBy: w.admin,
		Status: importjob.AwaitingUpload, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	obj := imports.Object{Key: key, Version: "v1", Size: int64(csv.Len())}

	job, err := g.Apply(ctx, obj)
	if err == nil || !strings.Contains(err.Error(), "connection reset") || job.Status != importjob.Running {
		t.Fatalf("first run: %+v %v", job, err)
	}
	saved, err := w.store.Import(ctx, w.orgID, "imp1")
	if err != nil || saved.NextRow != 102 || saved.Counts.Created != 100 || len(saved.Parts) != 1 {
		t.Fatalf("kept after the failure: next row %d, %+v, parts %v, %v", saved.NextRow, saved.Counts, saved.Parts, err)
	}

	// The retry, at once (the lease is over): rows from 102 on, each once.
	done, err := g.Apply(ctx, obj)
	if err != nil || done.Status != importjob.Done || done.Counts.Created != rows || done.Counts.Rows != rows {
		t.Fatalf("retry: %+v %v", done, err)
	}
	report := string(objs.files[imports.ReportKey(w.orgID, "imp1")+".csv"])
	for i := range rows {
		if n := strings.Count(report, fmt.Sprintf("w%03d@example.no,created", i)); n != 1 {
			t.Fatalf("w%03d is in the report %d times:\n%s", i, n, report)
		}
	}
}

package ddb_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/importjob"
)

// staleWorld is a table with import jobs, a clock the test moves, and the
// stale-import step with its starts and emails recorded.
type staleWorld struct {
	t     *testing.T
	store *ddb.Store
	clock *testenv.Clock

	mu      sync.Mutex
	started map[string]int // import id -> runs the step started
	sent    []importjob.Summary
}

func newStaleWorld(t *testing.T) *staleWorld {
	client, table := testenv.Table(t)
	clock := testenv.NewClock()
	return &staleWorld{t: t, store: ddb.New(client, table, clock.Now), clock: clock, started: map[string]int{}}
}

func (w *staleWorld) SendImportSummary(_ context.Context, s importjob.Summary) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = append(w.sent, s)
	return nil
}

func (w *staleWorld) UploaderContact(_ context.Context, orgID, userID string) (string, string, string, string, error) {
	return userID + "@example.no", "nb", "Ada", "Nordlys " + orgID, nil
}

// step is a stale-import step on w's store (or store, when given).
func (w *staleWorld) step(store importjob.StaleStore) *importjob.Resumer {
	if store == nil {
		store = w.store
	}
	return &importjob.Resumer{Store: store, Now: w.clock.Now,
		Notifier: importjob.Notifier{Mailer: w, Directory: w},
		Start: func(_ context.Context, j importjob.Job) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			if j.Runner != "IngestFunction" || j.Key == "" || j.VersionID != "v1" || j.Size != 1234 {
				return fmt.Errorf("started without what a run needs: %+v", j)
			}
			w.started[j.ID]++
			return nil
		}}
}

func (w *staleWorld) run(store importjob.StaleStore) importjob.ResumeReport {
	w.t.Helper()
	r, err := w.step(store).Run(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// lease is Lambda's longest run, as the ingest leases a job for.
const lease = 15 * time.Minute

// claim is what a run of the ingest does first; it reports whether the
// run got the job.
func (w *staleWorld) claim(orgID, id string) (importjob.Job, bool) {
	w.t.Helper()
	now := w.clock.Now()
	j, claimed, err := w.store.ClaimImport(context.Background(), orgID, id, importjob.Claim{
		Key: "imports/" + orgID + "/" + id + "/roster.csv", Version: "v1", VersionID: "v1", Size: 1234,
		Runner: "IngestFunction", Until: now.Add(lease), Now: now})
	if err != nil {
		w.t.Fatal(err)
	}
	return j, claimed
}

// upload creates an import as the API does.
func (w *staleWorld) upload(orgID, id string) {
	w.t.Helper()
	now := w.clock.Now()
	if err := w.store.CreateImport(context.Background(), importjob.Job{ID: id, OrgID: orgID, FileName: "roster.csv", UploadedBy: "u-" + id,
		Status: importjob.AwaitingUpload, CreatedAt: now, UpdatedAt: now}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *staleWorld) job(orgID, id string) importjob.Job {
	w.t.Helper()
	j, err := w.store.Import(context.Background(), orgID, id)
	if err != nil || j == nil {
		w.t.Fatalf("import %s: %v", id, err)
	}
	return *j
}

// A run killed outright keeps its lease: once the lease is over the step
// starts the run again (which claims the job and carries on), three times
// at most; the next time the job is stale it is failed, and its uploader
// is told once, in their language.
func TestStaleImportIsResumedThreeTimesThenFailed(t *testing.T) {
	w := newStaleWorld(t)
	ctx := context.Background()
	w.upload("o1", "dies")
	if _, ok := w.claim("o1", "dies"); !ok {
		t.Fatal("first claim")
	}
	// Within the lease nothing is stale.
	w.clock.Add(lease - time.Second)
	if r := w.run(nil); r != (importjob.ResumeReport{}) || len(w.started) != 0 {
		t.Fatalf("within the lease: %+v %v", r, w.started)
	}
	for try := 1; try <= importjob.MaxResumes; try++ {
		w.clock.Add(2 * time.Second) // the lease is over
		if r := w.run(nil); r.Resumed != 1 || r.Failed != 0 || w.started["dies"] != try {
			t.Fatalf("try %d: %+v, started %v", try, r, w.started)
		}
		// The same step again at once: the job was just resumed.
		if r := w.run(nil); r != (importjob.ResumeReport{}) {
			t.Fatalf("try %d, again: %+v", try, r)
		}
		// The run it started takes the job, from its checkpoint, and is
		// killed again.
		got, ok := w.claim("o1", "dies")
		if !ok || got.Resumes != try || got.Status != importjob.Running {
			t.Fatalf("try %d: the resumed run could not take the job: %+v", try, got)
		}
		w.clock.Add(lease - time.Second)
	}
	w.clock.Add(2 * time.Second)
	if r := w.run(nil); r.Failed != 1 || r.Resumed != 0 {
		t.Fatalf("after %d resumes: %+v", importjob.MaxResumes, r)
	}
	failed := w.job("o1", "dies")
	if failed.Status != importjob.Failed || !strings.Contains(failed.Message, "kept stopping") || failed.FinishedAt == nil ||
		failed.LeaseUntil != nil || failed.StaleAt != nil {
		t.Fatalf("not failed: %+v", failed)
	}
	if len(w.sent) != 1 || w.sent[0].To != "u-dies@example.no" || w.sent[0].Language != "nb" || !w.sent[0].Stalled ||
		w.sent[0].Failed != failed.Message {
		t.Fatalf("summary %+v", w.sent)
	}
	// A failed job stays failed: a late run neither claims nor finishes it.
	if _, ok := w.claim("o1", "dies"); ok {
		t.Fatal("a failed import was claimed")
	}
	late := failed
	late.Status = importjob.Done
	if err := w.store.FinishImport(ctx, late); err == nil {
		t.Fatal("a failed import was finished by a late run")
	}
	// Out of the index: never taken up again.
	w.clock.Add(24 * time.Hour)
	if r := w.run(nil); r != (importjob.ResumeReport{}) || w.started["dies"] != importjob.MaxResumes || len(w.sent) != 1 {
		t.Fatalf("a day later: %+v, started %v, %d summaries", r, w.started, len(w.sent))
	}
}

// Only what is stale is taken up: a job under a live lease is not, one a
// run handed over is not until the grace is over, and a finished one
// never is.
func TestOnlyStaleImportsAreTakenUp(t *testing.T) {
	w := newStaleWorld(t)
	ctx := context.Background()
	for _, id := range []string{"alive", "handed", "done"} {
		w.upload("o1", id)
		w.claim("o1", id)
	}
	// handed: a run paused and asked for the next (which never came).
	h := w.job("o1", "handed")
	over, stale := w.clock.Now().Add(-time.Second), w.clock.Now().Add(importjob.HandoverGrace)
	h.LeaseUntil, h.StaleAt, h.NextRow, h.UpdatedAt = &over, &stale, 52, w.clock.Now()
	if err := w.store.SaveProgress(ctx, h); err != nil {
		t.Fatal(err)
	}
	d := w.job("o1", "done")
	d.Status, d.UpdatedAt = importjob.Done, w.clock.Now()
	if err := w.store.FinishImport(ctx, d); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(importjob.HandoverGrace - time.Second)
	if r := w.run(nil); r != (importjob.ResumeReport{}) {
		t.Fatalf("within the grace: %+v", r)
	}
	w.clock.Add(2 * time.Second)
	if r := w.run(nil); r.Resumed != 1 || w.started["handed"] != 1 {
		t.Fatalf("after the grace: %+v %v", r, w.started)
	}
	stuck, err := w.store.StaleImports(ctx, w.clock.Now().Add(24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range stuck {
		ids = append(ids, j.ID)
	}
	if strings.Join(ids, ",") != "handed,alive" {
		t.Fatalf("stale a day later: %v (the stalest first, nothing finished)", ids)
	}
}

// barrier holds every step after it has read what is stale until all
// have: they then race to act on the same jobs.
type barrier struct {
	*ddb.Store
	wg *sync.WaitGroup
}

func (b barrier) StaleImports(ctx context.Context, now time.Time, limit int) ([]importjob.Job, error) {
	jobs, err := b.Store.StaleImports(ctx, now, limit)
	b.wg.Done()
	b.wg.Wait()
	return jobs, err
}

// Two steps that read the same stale imports at once resume each once (one
// start of its run), and fail each that is out of resumes once (one email).
func TestRacingStepsResumeAStaleImportOnce(t *testing.T) {
	w := newStaleWorld(t)
	const n = 10
	for i := range n {
		w.upload("o1", fmt.Sprintf("r%02d", i))
		w.claim("o1", fmt.Sprintf("r%02d", i))
	}
	race := func() (total importjob.ResumeReport) {
		t.Helper()
		var wg, reads sync.WaitGroup
		reads.Add(2)
		var mu sync.Mutex
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := w.step(barrier{w.store, &reads}).Run(context.Background())
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				total.Resumed += r.Resumed
				total.Failed += r.Failed
				total.Skipped += r.Skipped
				total.Errors += r.Errors
			}()
		}
		wg.Wait()
		return total
	}
	for try := 1; try <= importjob.MaxResumes; try++ {
		w.clock.Add(lease + time.Second)
		if r := race(); r.Resumed != n || r.Skipped != n || r.Errors != 0 {
			t.Fatalf("try %d: %+v", try, r)
		}
		for i := range n {
			if got := w.started[fmt.Sprintf("r%02d", i)]; got != try {
				t.Fatalf("try %d: r%02d started %d times", try, i, got)
			}
		}
	}
	w.clock.Add(lease + time.Second)
	if r := race(); r.Failed != n || r.Skipped != n || r.Errors != 0 {
		t.Fatalf("last: %+v", r)
	}
	if len(w.sent) != n {
		t.Fatalf("%d summaries for %d failed imports", len(w.sent), n)
	}
}

// open makes an import as the API does, in one of its organisation's
// places; false when the organisation has none free.
func (w *staleWorld) open(orgID, id string) bool {
	w.t.Helper()
	opened, err := w.store.OpenImport(context.Background(), importjob.NewUpload(orgID, id, "u-"+id, "roster.csv", w.clock.Now()), importjob.MaxOpenPerOrg)
	if err != nil {
		w.t.Fatal(err)
	}
	return opened
}

// Of many imports opened at once in one organisation, exactly
// importjob.MaxOpenPerOrg are; another organisation has its own places.
func TestParallelImportsTakeExactlyTheOrganisationsPlaces(t *testing.T) {
	w := newStaleWorld(t)
	const tries = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	opened := map[string]int{}
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			orgID, id := []string{"o1", "o2"}[i%2], fmt.Sprintf("p%02d", i)
			ok, err := w.store.OpenImport(context.Background(), importjob.NewUpload(orgID, id, "u-"+id, "roster.csv", w.clock.Now()), importjob.MaxOpenPerOrg)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				opened[orgID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if opened["o1"] != importjob.MaxOpenPerOrg || opened["o2"] != importjob.MaxOpenPerOrg {
		t.Fatalf("opened %v, want %d in each organisation", opened, importjob.MaxOpenPerOrg)
	}
}

// An import whose upload URL expired unused is failed ("no file was
// uploaded") by the first stale-import step UploadGrace after the expiry,
// and its place is free; no one is emailed. One whose file is there but
// which no run took (its S3 event queued behind other imports, or dropped)
// waits until its event would have been dropped (importjob.EventMaxAge),
// then fails, and its uploader is told; a run that takes it meanwhile goes
// on as ever, and its place is free when it finishes.
func TestUnusedUploadsEndAndFreeTheirPlace(t *testing.T) {
	w := newStaleWorld(t)
	ctx := context.Background()
	files := map[string]bool{}
	step := w.step(nil)
	step.Uploaded = func(_ context.Context, key string) (bool, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return files[key], nil
	}
	run := func() importjob.ResumeReport {
		t.Helper()
		r, err := step.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, id := range []string{"never", "queued", "dropped"} {
		if !w.open("o1", id) {
			t.Fatalf("%s: no place", id)
		}
	}
	files["imports/o1/queued/roster.csv"], files["imports/o1/dropped/roster.csv"] = true, true
	if w.open("o1", "fourth") {
		t.Fatal("a fourth import opened")
	}

	// Until UploadGrace after the URL's expiry, nothing is due.
	w.clock.Add(importjob.UploadWindow + importjob.UploadGrace - time.Second)
	if r := run(); r != (importjob.ResumeReport{}) {
		t.Fatalf("within the grace: %+v", r)
	}
	w.clock.Add(2 * time.Second)
	if r := run(); r.Expired != 1 || r.Waiting != 2 || r.Errors != 0 {
		t.Fatalf("after the grace: %+v", r)
	}
	never := w.job("o1", "never")
	if never.Status != importjob.Failed || !strings.Contains(never.Message, "no file was uploaded") || never.FinishedAt == nil || never.StaleAt != nil {
		t.Fatalf("an upload that never came: %+v", never)
	}
	if len(w.sent) != 0 {
		t.Fatalf("emailed about an upload that never came: %+v", w.sent)
	}
	// Its place is free (and only its).
	if !w.open("o1", "fourth") || w.open("o1", "fifth") {
		t.Fatal("the unused upload's place was not given back once")
	}
	// A failed import takes no late run.
	if _, ok := w.claim("o1", "never"); ok {
		t.Fatal("a failed import was claimed")
	}
	// The queued event arrives: its run takes the import and finishes it.
	queued, ok := w.claim("o1", "queued")
	if !ok {
		t.Fatal("the queued upload's run could not take its import")
	}
	if r := run(); r != (importjob.ResumeReport{}) {
		t.Fatalf("right after: %+v", r)
	}
	now := w.clock.Now()
	queued.Status, queued.FinishedAt, queued.UpdatedAt = importjob.Done, &now, now
	if err := w.store.FinishImport(ctx, queued); err != nil {
		t.Fatal(err)
	}
	if !w.open("o1", "sixth") || w.open("o1", "seventh") {
		t.Fatal("the finished import's place was not given back once")
	}

	// The unused uploads opened since fail in their turn; the dropped one
	// once its event is past Lambda's keeping, and its uploader is told.
	w.clock.Add(importjob.EventMaxAge - 2*time.Second)
	if r := run(); r.Expired != 2 || w.job("o1", "dropped").Status != importjob.AwaitingUpload {
		t.Fatalf("before its event is dropped: %+v %+v", r, w.job("o1", "dropped"))
	}
	for _, id := range []string{"fourth", "sixth"} {
		if j := w.job("o1", id); j.Status != importjob.Failed {
			t.Fatalf("%s: %+v", id, j)
		}
	}
	w.clock.Add(2 * time.Second)
	if r := run(); r.Expired != 1 || r.Errors != 0 {
		t.Fatalf("once its event is dropped: %+v", r)
	}
	dropped := w.job("o1", "dropped")
	if dropped.Status != importjob.Failed || !strings.Contains(dropped.Message, "was uploaded") || dropped.FinishedAt == nil {
		t.Fatalf("an upload no run took: %+v", dropped)
	}
	if len(w.sent) != 1 || w.sent[0].To != "u-dropped@example.no" || w.sent[0].Failed != dropped.Message {
		t.Fatalf("summaries %+v", w.sent)
	}
	for i := range importjob.MaxOpenPerOrg {
		if !w.open("o1", fmt.Sprintf("again%d", i)) {
			t.Fatal("places were not given back")
		}
	}
}

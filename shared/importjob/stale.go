package importjob

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// MaxResumes is how many times the stale-import step starts a stale
// import's run again before it fails the import. A run killed outright (out
// of memory, out of time) is most often killed by the file itself and dies
// again at the same place: three tries outlast a passing cause (a
// dependency throttled, a host lost), and a file that keeps killing its
// runs is failed, and its uploader told, within about two hours (each try
// a lease of 15 minutes and a sweep interval) instead of showing "running"
// for ever.
const MaxResumes = 3

// HandoverGrace is how long a job that was handed over (paused for the
// next run, released for Lambda's retry of its event, or resumed by the
// stale-import step) may wait for a run to take it before it is stale. A
// paused run starts the next at once; Lambda retries a failed event about
// 1 and 3 minutes after it failed.
const HandoverGrace = 5 * time.Minute

// StaleStore is what the stale-import step needs of storage. Its changes
// are conditional on the job being as the step read it, so two steps never
// both act on one job, and a run that takes the job first wins.
type StaleStore interface {
	// StaleImports lists the jobs running or awaiting their upload whose
	// StaleAt is at or before now, the stalest first, up to limit.
	StaleImports(ctx context.Context, now time.Time, limit int) ([]Job, error)
	// ResumeImport counts one more resume of seen and makes it stale again
	// at next, if it is still running seen.Version and stale at seen's
	// StaleAt (no run and no other step has touched it); false otherwise.
	ResumeImport(ctx context.Context, seen Job, next time.Time) (bool, error)
	// FailStaleImport stores failed's status, message and times in place
	// of seen (running or awaiting its upload), on the same condition,
	// takes it out of the stale list and gives its place back; false when
	// the condition fails.
	FailStaleImport(ctx context.Context, seen, failed Job) (bool, error)
	// PostponeImport makes a job awaiting its upload stale again at next,
	// if it is still as seen (no run has taken it); false otherwise.
	PostponeImport(ctx context.Context, seen Job, next time.Time) (bool, error)
}

// Resumer is the scheduled step that takes up imports whose runs died
// without a word (killed, they could neither pause nor release their
// lease, and Lambda's retries of the event found the job leased and gave
// up): it starts each one's run again, to carry on from its checkpoint,
// MaxResumes times at most, then fails it and tells the uploader. It also
// ends imports that no run took: their upload never came, or its event was
// dropped (see unclaimed).
type Resumer struct {
	Store StaleStore
	// Start starts a run of the job's file (the ingest function,
	// asynchronously, with S3's event for the object). The run claims the
	// job, whose lease is over, and carries on from its checkpoint.
	Start func(ctx context.Context, j Job) error
	// Uploaded says whether the file of an import awaiting its upload is
	// in the bucket (key is the job's Key).
	Uploaded func(ctx context.Context, key string) (bool, error)
	Notifier Notifier
	Now      func() time.Time
	Log      *slog.Logger
}

// ResumeReport says what one step did.
type ResumeReport struct {
	Resumed int `json:"resumed"`
	Failed  int `json:"failed"`
	// Skipped counts jobs a run or another step took up meanwhile.
	Skipped int `json:"skipped"`
	Errors  int `json:"errors"`
	// Expired counts imports failed because no run took them: no file was
	// uploaded, or its event was dropped.
	Expired int `json:"expired"`
	// Waiting counts uploaded files whose event is still awaited.
	Waiting int `json:"waiting"`
	// More says more jobs were stale than one step takes.
	More bool `json:"more,omitempty"`
}

// staleBatch is how many stale jobs one step takes; the next step takes
// the rest (there are few: each is a run that died).
const staleBatch = 100

// Run takes up every stale import (up to staleBatch).
func (r *Resumer) Run(ctx context.Context) (ResumeReport, error) {
	now := r.Now().UTC().Truncate(time.Second)
	jobs, err := r.Store.StaleImports(ctx, now, staleBatch)
	if err != nil {
		return ResumeReport{}, fmt.Errorf("read stale imports: %w", err)
	}
	rep := ResumeReport{More: len(jobs) == staleBatch}
	for _, j := range jobs {
		switch {
		case j.Status == AwaitingUpload:
			r.unclaimed(ctx, j, now, &rep)
		case j.Resumes >= MaxResumes:
			r.fail(ctx, j, now, &rep)
		default:
			r.resume(ctx, j, now, &rep)
		}
	}
	return rep, nil
}

// unclaimed ends an import that no run took by UploadGrace after its
// upload URL expired, so that it does not await for ever and its place is
// free: failed, "no file was uploaded", when its file is not there (no one
// is emailed: nothing was sent). A file that is there waits for its S3
// event, which Lambda keeps queued while the ingest function is busy with
// other imports, for EventMaxAge; past that the event is gone, and the
// import fails and its uploader is told.
func (r *Resumer) unclaimed(ctx context.Context, j Job, now time.Time, rep *ResumeReport) {
	uploaded, err := r.Uploaded(ctx, j.Key)
	if err != nil {
		rep.Errors++
		r.log().Error("look for an import's upload", "orgId", j.OrgID, "importId", j.ID, "error", err.Error())
		return
	}
	if last := j.lastEvent(); uploaded && now.Before(last) {
		ok, err := r.Store.PostponeImport(ctx, j, last)
		switch {
		case err != nil:
			rep.Errors++
			r.log().Error("postpone an uploaded import", "orgId", j.OrgID, "importId", j.ID, "error", err.Error())
		case !ok:
			rep.Skipped++
		default:
			rep.Waiting++
			r.log().Warn("uploaded import awaits its event", "orgId", j.OrgID, "importId", j.ID, "until", last)
		}
		return
	}
	failed := j
	failed.Status, failed.Message, failed.MessageKey = Failed, NoUploadMessage, "noUpload"
	if uploaded {
		failed.Message = NotStartedMessage()
		failed.MessageKey, failed.MessageArgs = "notStarted", map[string]string{"Hours": strconv.Itoa(int(EventMaxAge.Hours()))}
	}
	failed.FinishedAt, failed.UpdatedAt, failed.StaleAt = &now, now, nil
	ok, err := r.Store.FailStaleImport(ctx, j, failed)
	switch {
	case err != nil:
		rep.Errors++
		r.log().Error("fail an unclaimed import", "orgId", j.OrgID, "importId", j.ID, "error", err.Error())
		return
	case !ok:
		rep.Skipped++
		return
	}
	rep.Expired++
	r.log().Warn("unclaimed import ended", "orgId", j.OrgID, "importId", j.ID, "uploaded", uploaded)
	if uploaded {
		if s, ok := r.Notifier.Summary(ctx, failed); ok {
			r.Notifier.Send(ctx, j.ID, s)
		}
	}
}

// resume counts a resume of j, then starts its run. A start that fails
// leaves j stale again after HandoverGrace, for the next step.
func (r *Resumer) resume(ctx context.Context, j Job, now time.Time, rep *ResumeReport) {
	ok, err := r.Store.ResumeImport(ctx, j, now.Add(HandoverGrace))
	switch {
	case err != nil:
		rep.Errors++
		r.log().Error("resume a stale import", "orgId", j.OrgID, "importId", j.ID, "error", err.Error())
		return
	case !ok:
		rep.Skipped++
		return
	}
	if err := r.Start(ctx, j); err != nil {
		rep.Errors++
		r.log().Error("start the run of a stale import", "orgId", j.OrgID, "importId", j.ID, "error", err.Error())
		return
	}
	rep.Resumed++
	r.log().Warn("stale import resumed", "orgId", j.OrgID, "importId", j.ID, "nextRow", j.NextRow, "resumes", j.Resumes+1)
}

// fail gives j up and tells whoever started it.
func (r *Resumer) fail(ctx context.Context, j Job, now time.Time, rep *ResumeReport) {
	failed := j
	failed.Status, failed.Message = Failed, StalledMessage(j.NextRow)
	failed.FinishedAt, failed.UpdatedAt = &now, now
	failed.LeaseUntil, failed.StaleAt = nil, nil
	ok, err := r.Store.FailStaleImport(ctx, j, failed)
	switch {
	case err != nil:
		rep.Errors++
		r.log().Error("fail a stale import", "orgId", j.OrgID, "importId", j.ID, "error", err.Error())
		return
	case !ok:
		rep.Skipped++
		return
	}
	rep.Failed++
	r.log().Warn("stale import given up", "orgId", j.OrgID, "importId", j.ID, "nextRow", j.NextRow, "resumes", j.Resumes)
	if s, ok := r.Notifier.Summary(ctx, failed); ok {
		s.Stalled = true
		r.Notifier.Send(ctx, j.ID, s)
	}
}

// StalledMessage is the status message of an import given up because its
// runs kept stopping; nextRow is its checkpoint.
func StalledMessage(nextRow int) string {
	msg := "the import kept stopping before it could finish and was given up"
	if nextRow > 0 {
		msg += fmt.Sprintf("; the rows before row %d were applied", nextRow)
	}
	return msg + ". Import the file again to apply the rest (rows already applied are left as they are), or split it into smaller files."
}

func (r *Resumer) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

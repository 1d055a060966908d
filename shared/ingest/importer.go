// Package ingest is the ingest function's work: it runs the import of a
// roster file dropped into the bucket (through an upload URL, or directly):
// it claims the job, reads the file from its checkpoint, has apply apply the
// rows, saves progress before the deadline, and writes the report and the
// summary email. trigger.Ingest hands it S3's events. It is its own package
// (and function) so that only it and the import routes link the spreadsheet
// library.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/fault"
	"onboarding/shared/importjob"
	"onboarding/shared/ingest/apply"
	"onboarding/shared/redact"
	"onboarding/shared/roster"
)

// Objects is the file store (S3).
type Objects interface {
	// Get opens one version of an object ("" for the latest).
	Get(ctx context.Context, key, version string) (io.ReadCloser, error)
	Put(ctx context.Context, key, contentType string, body []byte) error
}

// SummaryMailer tells the uploader how an import went.
type SummaryMailer = importjob.SummaryMailer

// Importer applies the files dropped into the bucket under imports/<orgId>/.
type Importer struct {
	Jobs    importjob.JobStore
	Objects Objects
	Applier *apply.Applier
	Mailer  SummaryMailer
	// Directory finds the uploader's email and language for the summary.
	Directory importjob.Directory
	// SummaryTo receives the summary of files dropped into the bucket
	// directly (no uploader); empty sends none.
	SummaryTo string
	// ReportLinks makes the summary's link to the report, which works
	// without an access token (a mail client has none); nil links to
	// nothing.
	ReportLinks *importjob.ReportLinks
	Limits      roster.Limits
	// Lease is how long a run holds a job (default 15 minutes, Lambda's
	// longest run): a job whose run died is resumed after it.
	Lease time.Duration
	// Reserve is the time kept back from the deadline to save a run's
	// progress (default a tenth of the time the run has, at least 5 s).
	Reserve time.Duration
	// StartSweep, when set, starts a sweep after an import that invited
	// people, so their queued email goes out now rather than at the next
	// scheduled one (main wires trigger.Ingest.SendNow).
	StartSweep func(ctx context.Context, importID string) error
	// Runner is the name of the function this runs in, kept with each job
	// it claims: the stale-import step starts it again for a run that died.
	Runner string
	Now    func() time.Time
	Log    *slog.Logger
}

// stopAt is when a run stops taking rows: the deadline less the reserve.
// The run watches it on its own clock (Now), so tests can time runs.
func (g *Importer) stopAt(ctx context.Context) time.Time {
	deadline, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	reserve := g.Reserve
	if reserve <= 0 {
		reserve = max(deadline.Sub(g.Now())/10, 5*time.Second)
	}
	return deadline.Add(-reserve)
}

func (g *Importer) now() time.Time { return g.Now().UTC().Truncate(time.Second) }

// Apply imports one object. S3 may deliver an event more than once: the
// same object version is applied once, and a run that died is resumed from
// its checkpoint, never re-applying rows before it.
func (g *Importer) Apply(ctx context.Context, obj importjob.Object) (importjob.Job, error) {
	orgID, importID, file, err := importjob.ParseKey(obj.Key)
	if err != nil {
		return importjob.Job{}, err
	}
	version := obj.Version
	if version == "" {
		version = strings.Trim(obj.ETag, `"`)
	}
	now := g.now()
	if importID == "" {
		// Dropped in directly: the id follows from the object version, so
		// a repeated event finds the same job.
		sum := sha256.Sum256([]byte(obj.Key + "|" + version))
		importID = "f" + hex.EncodeToString(sum[:12])
		err := g.Jobs.CreateImport(ctx, importjob.Job{ID: importID, OrgID: orgID, Key: obj.Key, FileName: file,
			Status: importjob.AwaitingUpload, CreatedAt: now, UpdatedAt: now})
		if err != nil && fault.CodeOf(err) != fault.Conflict {
			return importjob.Job{}, err
		}
	}
	lease := g.Lease
	if lease <= 0 {
		lease = 15 * time.Minute
	}
	job, claimed, err := g.Jobs.ClaimImport(ctx, orgID, importID, importjob.Claim{Key: obj.Key, Version: version,
		VersionID: obj.Version, Size: obj.Size, Runner: g.Runner, Until: now.Add(lease), Now: now})
	if err != nil {
		return job, err
	}
	if !claimed {
		g.log().Info("import event ignored", "orgId", orgID, "importId", importID, "status", job.Status, "reason", "already applied or in progress")
		return job, nil
	}
	job.FileName = file
	stop := g.stopAt(ctx)
	if err := g.run(ctx, &job, obj, stop); err != nil {
		if errors.Is(err, importjob.ErrContinue) {
			return job, err
		}
		if ours(err) {
			return job, err // run released the job: the event's retry resumes it
		}
		job.Status, job.Message = importjob.Failed, err.Error()
		job.MessageKey, job.MessageArgs = "other", map[string]string{"Detail": job.Message}
		if fe := (*roster.FileError)(nil); errors.As(err, &fe) {
			job.Message = fe.Message
			if fe.Key != "" {
				job.MessageKey, job.MessageArgs = fe.Key, fe.Args
			} else {
				job.MessageArgs["Detail"] = fe.Message
			}
		}
	}
	fin := g.now()
	job.FinishedAt, job.UpdatedAt = &fin, fin
	if job.Status != importjob.Failed && job.Status != importjob.Stopped {
		job.Status = importjob.Done
	}
	if err := g.Jobs.FinishImport(ctx, job); err != nil {
		return job, err
	}
	if job.Counts.Created > 0 && g.StartSweep != nil {
		if err := g.StartSweep(ctx, job.ID); err != nil {
			// The scheduled sweep sends them anyway.
			g.log().Warn("could not start a sweep for the import's email", "importId", job.ID, "error", err)
		}
	}
	g.summarize(ctx, job)
	return job, nil
}

// progressEvery is how many rows are applied together (new people invited
// in a few transactions) between saved checkpoints.
const progressEvery = 50

// run reads the file and applies its rows from the checkpoint on; for a
// full roster it first checks what would be removed, and afterwards removes
// the monitored workers the file no longer lists.
func (g *Importer) run(ctx context.Context, job *importjob.Job, obj importjob.Object, stop time.Time) (err error) {
	var lines []roster.ReportLine
	defer func() {
		switch {
		case err == nil || errors.Is(err, importjob.ErrContinue) || !ours(err):
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			// Cut off by the deadline: what the checkpoint says is done is
			// done, so the run hands over as a pause does.
			err = g.pause(job, lines)
		default:
			g.release(job, lines, err)
		}
	}()
	limits := g.Limits
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = roster.DefaultMaxBytes
	}
	if obj.Size > limits.MaxBytes {
		return roster.TooLarge(limits.MaxBytes)
	}
	sess, err := g.Applier.Begin(ctx, job.OrgID, job.UploadedBy)
	if err != nil {
		return err
	}
	job.Language = g.uploaderLanguage(ctx, *job, sess.Org.Settings.DefaultLanguage)
	// Checked when the import was created; a stored one that no longer
	// parses fails the file rather than being read without it.
	if sess.Rules.Columns, err = roster.ParseMapping(job.Columns, sess.Rules.Fields...); err != nil {
		return &roster.FileError{Message: "the import's column mapping is not valid: " + apply.ReportMessage(err), Key: "mapping"}
	}
	var missing []string
	if job.FullRoster {
		if missing, err = g.missing(ctx, job, obj, sess, limits); err != nil || job.Status == importjob.Stopped {
			return err
		}
	}
	reader, closeFile, err := g.open(ctx, job, obj, sess, limits)
	if err != nil {
		return err
	}
	defer closeFile()
	batch := make([]roster.Row, 0, progressEvery)
	var took time.Duration // by the last batch: a batch that could not finish in time waits for the next run
	for eof := false; !eof; {
		if !stop.IsZero() && g.Now().Add(took).After(stop) {
			return g.pause(job, lines)
		}
		batch = batch[:0]
		for len(batch) < progressEvery {
			row, err := reader.Next()
			if errors.Is(err, io.EOF) {
				eof = true
				noteUnread(job, reader.Unread()) // now with the columns without a header
				break
			}
			if err != nil {
				return err
			}
			if row.Line >= job.NextRow { // else applied by an earlier run
				batch = append(batch, row)
			}
		}
		if len(batch) == 0 {
			continue
		}
		began := g.Now()
		applied := g.Applier.ApplyAll(ctx, sess, batch)
		if err := ctx.Err(); err != nil {
			// Cut off: rows may have failed only for that, so the batch is
			// not counted. The next run applies it again from the checkpoint
			// (what was done reads as unchanged).
			return err
		}
		took = g.Now().Sub(began)
		for _, line := range applied {
			if line.Outcome == roster.Failed {
				g.log().Warn("import row not applied", "orgId", job.OrgID, "importId", job.ID, "row", line.Row)
			}
			lines = append(lines, line)
			job.Counts.Add(line.Outcome, strings.Contains(line.Message, "warning:"))
		}
		job.NextRow = batch[len(batch)-1].Line + 1
		job.UpdatedAt = g.now()
		if err := g.Jobs.SaveProgress(ctx, *job); err != nil {
			return err
		}
	}
	for _, email := range missing {
		line := g.Applier.RemoveMissing(ctx, sess, email)
		lines = append(lines, line)
		if line.Outcome == roster.Removed || line.Outcome == roster.Failed {
			job.Counts.Add(line.Outcome, false)
			job.Counts.Rows-- // not a row of the file
		}
	}
	return g.report(ctx, job, reader.Unread(), lines, sess.Org.Roles)
}

// pause keeps what this run did and asks for the next run. It has a
// context of its own: the run's may be what ran out.
func (g *Importer) pause(job *importjob.Job, lines []roster.ReportLine) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.keep(ctx, job, lines); err != nil {
		return err
	}
	g.log().Info("import paused before the deadline", "orgId", job.OrgID, "importId", job.ID, "nextRow", job.NextRow)
	return importjob.ErrContinue
}

// release keeps what a run that failed did, so that Lambda's retry of the
// event (a minute later) resumes the import instead of finding it leased
// and leaving it unfinished. It has a context of its own: the run's may be
// what ran out.
func (g *Importer) release(job *importjob.Job, lines []roster.ReportLine, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.keep(ctx, job, lines); err != nil {
		// The retry finds the job leased until the lease runs out.
		g.log().Error("could not release a failed import for its retry", "orgId", job.OrgID, "importId", job.ID, "error", err.Error())
		return
	}
	g.log().Warn("import run failed; released for the retry", "orgId", job.OrgID, "importId", job.ID, "nextRow", job.NextRow,
		"error", cause.Error())
}

// keep stores this run's report lines as a part and the checkpoint with a
// lease that is already over, so another run may carry on at once; if none
// has by HandoverGrace, the job is stale.
func (g *Importer) keep(ctx context.Context, job *importjob.Job, lines []roster.ReportLine) error {
	if len(lines) > 0 {
		b, err := json.Marshal(lines)
		if err != nil {
			return err
		}
		key := importjob.ReportPartKey(job.OrgID, job.ID, lines[0].Row)
		if err := g.Objects.Put(ctx, key, "application/json", b); err != nil {
			return err
		}
		if !slices.Contains(job.Parts, key) { // kept again after a failed pause
			job.Parts = append(job.Parts, key)
		}
	}
	now := g.now()
	over := now.Add(-time.Second) // the next run may claim it at once
	stale := now.Add(importjob.HandoverGrace)
	job.UpdatedAt, job.LeaseUntil, job.StaleAt = now, &over, &stale
	return g.Jobs.SaveProgress(ctx, *job)
}

// ours says a run failed for a reason of the service's (a dependency
// unavailable, the run cut off), not the file's or the import's: a retry
// may succeed.
func ours(err error) bool {
	var fe *roster.FileError
	return !errors.As(err, &fe) && fault.CodeOf(err) == fault.Internal
}

// open reads the job's file and finds its header.
func (g *Importer) open(ctx context.Context, job *importjob.Job, obj importjob.Object, sess *apply.Session, limits roster.Limits) (*roster.Reader, func(), error) {
	body, err := g.Objects.Get(ctx, obj.Key, obj.Version)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", redact.Text(obj.Key), err)
	}
	sheet, err := roster.Open(job.FileName, body, limits)
	if err != nil {
		body.Close()
		return nil, nil, err
	}
	reader, err := roster.NewReader(sheet, sess.Rules)
	if err == nil {
		noteUnread(job, reader.Unread())
		err = reader.Header.Err()
	}
	if err != nil {
		if reader != nil {
			reader.Close()
		}
		sheet.Close()
		body.Close()
		return nil, nil, err
	}
	// The reader reads ahead: it stops before the sheet is closed.
	return reader, func() { reader.Close(); sheet.Close(); body.Close() }, nil
}

// noteUnread keeps the columns not read on the job, for its status: at
// most importjob.MaxColumnWarnings of them.
func noteUnread(job *importjob.Job, unread []roster.Unread) {
	job.Warnings, job.MoreWarnings = nil, 0
	for _, u := range unread {
		if len(job.Warnings) == importjob.MaxColumnWarnings {
			job.MoreWarnings++
			continue
		}
		job.Warnings = append(job.Warnings, importjob.ColumnWarning{Column: u.Column, Header: u.Header, Reason: u.Reason,
			Row: u.Row, Message: u.Message})
	}
}

// unreadLines are the report's lines for the columns not read: first, so
// that no one misses them.
func unreadLines(unread []roster.Unread) []roster.ReportLine {
	lines := make([]roster.ReportLine, 0, len(unread))
	for _, u := range unread {
		lines = append(lines, roster.ReportLine{Row: u.Row, Outcome: roster.Warned, Message: u.Message, Notes: []roster.Note{roster.UnreadNote(u)}})
	}
	return lines
}

// SafeRemovalShare is the share of monitored workers a full roster may
// remove without confirmation.
const SafeRemovalShare = 0.25

// missing reads the whole file once to find the monitored workers it no
// longer lists. Before any change, it stops an import that would remove
// more than SafeRemovalShare of them unless the import confirms removals.
func (g *Importer) missing(ctx context.Context, job *importjob.Job, obj importjob.Object, sess *apply.Session, limits roster.Limits) ([]string, error) {
	reader, closeFile, err := g.open(ctx, job, obj, sess, limits)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	listed, removing := map[string]bool{}, map[string]bool{}
	for {
		row, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if row.Email == "" {
			continue
		}
		// Anyone the file names stays, even on a row with errors: an error
		// must never turn into a removal.
		listed[row.Email] = true
		if row.Change == roster.Remove {
			removing[row.Email] = true
		}
	}
	people, err := g.Applier.MonitoredPeople(ctx, sess)
	if err != nil {
		return nil, err
	}
	var missing []string
	removals := 0
	for email := range people {
		switch {
		case !listed[email]:
			missing = append(missing, email)
			removals++
		case removing[email]:
			removals++
		}
	}
	slices.Sort(missing)
	if job.NextRow == 0 && len(people) > 0 && float64(removals) > SafeRemovalShare*float64(len(people)) && !job.ConfirmRemovals {
		job.Status = importjob.Stopped
		job.Message = fmt.Sprintf("this full roster would remove %d of the %d monitored workers (more than %d%%); nothing was changed. "+
			"Check the file, or import it again confirming the removals.", removals, len(people), int(SafeRemovalShare*100))
		job.MessageKey, job.MessageArgs = "wouldRemove", map[string]string{"Removals": strconv.Itoa(removals),
			"Total": strconv.Itoa(len(people)), "Share": strconv.Itoa(int(SafeRemovalShare * 100))}
		return nil, nil
	}
	return missing, nil
}

// report writes the report as CSV and XLSX: the columns not read first,
// then a line per row (earlier runs' parts, then this run's), roles named
// as the organisation names them in the report's language.
func (g *Importer) report(ctx context.Context, job *importjob.Job, unread []roster.Unread, lines []roster.ReportLine, roles access.Roles) error {
	job.ReportKey = importjob.ReportKey(job.OrgID, job.ID)
	if len(job.Parts) > 0 {
		var earlier []roster.ReportLine
		for _, key := range job.Parts {
			body, err := g.Objects.Get(ctx, key, "")
			if err != nil {
				return err
			}
			var part []roster.ReportLine
			err = json.NewDecoder(body).Decode(&part)
			body.Close()
			if err != nil {
				return fmt.Errorf("report part %s: %w", key, err)
			}
			earlier = append(earlier, part...)
		}
		lines = append(earlier, lines...)
	}
	lines = append(unreadLines(unread), lines...)
	p, err := roster.ReportPrinter(job.Language)
	if err != nil {
		return err
	}
	lines = roster.NamingRoles(lines, func(key string) (string, bool) {
		r, ok := roles.Find(key)
		return r.Name(p.Lang), ok
	})
	var csvBuf, xlsxBuf bytes.Buffer
	if err := roster.WriteReportCSV(&csvBuf, lines, p); err != nil {
		return err
	}
	if err := roster.WriteReportXLSX(&xlsxBuf, lines, p); err != nil {
		return err
	}
	if err := g.Objects.Put(ctx, job.ReportKey+".csv", "text/csv; charset=utf-8", csvBuf.Bytes()); err != nil {
		return err
	}
	return g.Objects.Put(ctx, job.ReportKey+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsxBuf.Bytes())
}

// uploaderLanguage is the language the uploader reads (their account's),
// else the organisation's default: a file dropped into the bucket, or an
// uploader not found (the report is still written).
func (g *Importer) uploaderLanguage(ctx context.Context, job importjob.Job, orgDefault string) string {
	if job.UploadedBy == "" || g.Directory == nil {
		return orgDefault
	}
	_, lang, _, _, err := g.Directory.UploaderContact(ctx, job.OrgID, job.UploadedBy)
	if err != nil || lang == "" {
		return orgDefault
	}
	return lang
}

// summarize emails the uploader (or the configured address) the outcome.
func (g *Importer) summarize(ctx context.Context, job importjob.Job) {
	n := importjob.Notifier{Mailer: g.Mailer, Directory: g.Directory, SummaryTo: g.SummaryTo, Log: g.log()}
	s, ok := n.Summary(ctx, job)
	if !ok {
		return
	}
	if job.ReportKey != "" && g.ReportLinks != nil {
		s.ReportURL = g.ReportLinks.Make(job.OrgID, job.ID, "xlsx", g.Now())
		s.ReportDays = g.ReportLinks.Days
	}
	n.Send(ctx, job.ID, s)
}

func (g *Importer) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

// Package importjob is what the parts of a roster import share: the job
// (status, counts, checkpoint, lease) and the JobStore that keeps it; the
// bucket's keys (keys.go); the Object a run applies and ErrContinue, by
// which a run hands over to the next; the summary Notifier; the signed
// ReportLinks of summary emails; and the Resumer, the sweep's step for
// stale imports. The import routes (importapi), the ingest run (ingest),
// the sweep's trigger and the store all use it; it is apart from package
// ingest so that they do not link the run, nor (but for the routes, which
// serve the roster template) the spreadsheet library.
package importjob

import (
	"context"
	"errors"
	"time"
)

// Statuses of an import.
const (
	AwaitingUpload = "awaiting_upload"
	Running        = "running"
	Done           = "done"
	Failed         = "failed"
	// Stopped: a full-roster import that would remove too many monitored
	// workers changed nothing and waits for a confirmed import.
	Stopped = "stopped"
)

// Counts are an import's rows by outcome.
type Counts struct {
	Rows      int `json:"rows" dynamodbav:"rows"`
	Created   int `json:"created" dynamodbav:"created"`
	Updated   int `json:"updated" dynamodbav:"updated"`
	Removed   int `json:"removed" dynamodbav:"removed"`
	Unchanged int `json:"unchanged" dynamodbav:"unchanged"`
	Errors    int `json:"errors" dynamodbav:"errors"`
	Warnings  int `json:"warnings" dynamodbav:"warnings"`
}

func (c *Counts) Add(outcome string, warned bool) {
	c.Rows++
	switch outcome {
	case "created":
		c.Created++
	case "updated":
		c.Updated++
	case "removed":
		c.Removed++
	case "unchanged":
		c.Unchanged++
	case "error":
		c.Errors++
	}
	if warned {
		c.Warnings++
	}
}

// Job is one import of one file (one version of one S3 object).
type Job struct {
	ID         string `json:"importId" dynamodbav:"importId"`
	OrgID      string `json:"orgId" dynamodbav:"orgId"`
	Key        string `json:"-" dynamodbav:"key"`
	Version    string `json:"-" dynamodbav:"objectVersion"` // version id, else ETag, of the object applied
	FileName   string `json:"fileName" dynamodbav:"fileName"`
	UploadedBy string `json:"uploadedBy" dynamodbav:"uploadedBy"` // "" for a file dropped into the bucket
	FullRoster bool   `json:"fullRoster" dynamodbav:"fullRoster"`
	// ConfirmRemovals lets a full-roster import remove more than the safe
	// share of monitored workers.
	ConfirmRemovals bool `json:"confirmRemovals" dynamodbav:"confirmRemovals"`
	// Columns is the uploader's column mapping (header -> field), applied
	// when the file is read.
	Columns map[string]string `json:"columns,omitempty" dynamodbav:"columns,omitempty"`
	Status  string            `json:"status" dynamodbav:"status"`
	Counts  Counts            `json:"counts" dynamodbav:"counts"`
	// Warnings name the file's columns that are not read, and the headers
	// the mapping names that the file lacks: at most MaxColumnWarnings,
	// MoreWarnings counting the rest (the report lists them all).
	Warnings     []ColumnWarning `json:"warnings,omitempty" dynamodbav:"warnings,omitempty"`
	MoreWarnings int             `json:"moreWarnings,omitempty" dynamodbav:"moreWarnings,omitempty"`
	// NextRow is the checkpoint: rows before it are applied.
	NextRow int    `json:"-" dynamodbav:"nextRow"`
	Message string `json:"message,omitempty" dynamodbav:"message,omitempty"`
	// MessageKey and MessageArgs say Message again by its key in the
	// locale catalogue, so the summary says it in the uploader's language.
	MessageKey  string            `json:"-" dynamodbav:"messageKey,omitempty"`
	MessageArgs map[string]string `json:"-" dynamodbav:"messageArgs,omitempty"`
	// Language is the report's: the uploader's, else the organisation's
	// default (a file dropped into the bucket has no uploader).
	Language  string `json:"-" dynamodbav:"language,omitempty"`
	ReportKey string `json:"-" dynamodbav:"reportKey,omitempty"` // without extension
	// Parts are the report lines of earlier runs of a file too large for
	// one run, kept until the report is written.
	Parts      []string   `json:"-" dynamodbav:"parts,omitempty"`
	CreatedAt  time.Time  `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt" dynamodbav:"updatedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty" dynamodbav:"finishedAt,omitempty"`
	LeaseUntil *time.Time `json:"-" dynamodbav:"leaseUntil,omitempty"`
	// VersionID is S3's version id of the object ("" for a bucket that
	// keeps none: Version is then its ETag), Size its size, and Runner the
	// function that runs the job: with them a stale job's run is started
	// again as S3's event started it.
	VersionID string `json:"-" dynamodbav:"objectVersionId,omitempty"`
	Size      int64  `json:"-" dynamodbav:"objectSize,omitempty"`
	Runner    string `json:"-" dynamodbav:"runner,omitempty"`
	// StaleAt is when a running job is stale unless a run has taken it
	// since: the end of its lease, or, once a run handed it over (paused for
	// the next run, released for Lambda's retry), the time the next run
	// should have taken it by. A job awaiting its upload is stale when the
	// upload should have arrived, or its event been dropped (NewUpload).
	// Jobs that have ended have none.
	StaleAt *time.Time `json:"-" dynamodbav:"staleAt,omitempty"`
	// UploadBy is when the upload URL made for the job expires (none for a
	// file dropped into the bucket).
	UploadBy *time.Time `json:"-" dynamodbav:"uploadBy,omitempty"`
	// Resumes counts the runs the stale-import step started.
	Resumes int `json:"-" dynamodbav:"resumes,omitempty"`
}

// ETag is the ETag S3's event gave for the job's object when the bucket
// keeps no versions ("" otherwise: VersionID names the object).
func (j Job) ETag() string {
	if j.VersionID == "" {
		return j.Version
	}
	return ""
}

// Claim is a run's claim on a job: the object version it applies, and its
// lease.
type Claim struct {
	Key string
	// Version is the object's version id, else its ETag: which file the
	// job applies.
	Version   string
	VersionID string // S3's version id, "" when the bucket keeps none
	Size      int64
	Runner    string // the function running the job ("" where none can be started again)
	// Until is the end of the lease (and the time the job is stale at if
	// the run dies); Now the time of the claim.
	Until, Now time.Time
}

// MaxColumnWarnings bounds the column warnings a job keeps: a workbook may
// have 16,384 columns, and a job is one DynamoDB item (400 KB at most).
const MaxColumnWarnings = 50

// ColumnWarning is a column of the file that is not read, or a header the
// column mapping names that the file lacks.
type ColumnWarning struct {
	Column  string `json:"column,omitempty" dynamodbav:"column,omitempty"` // its letter; "" when the file lacks it
	Header  string `json:"header,omitempty" dynamodbav:"header,omitempty"` // as the file (or the mapping) has it
	Reason  string `json:"reason" dynamodbav:"reason"`                     // notRecognised, repeated, noHeader, mappedToIgnore, notInFile
	Row     int    `json:"row" dynamodbav:"row"`                           // the header's row; for noHeader the first row with data
	Message string `json:"message" dynamodbav:"message"`
}

// JobStore keeps import jobs.
type JobStore interface {
	// CreateImport stores a new job; Conflict when its id exists.
	CreateImport(ctx context.Context, j Job) error
	// OpenImport stores a new job (see NewUpload) in one of its
	// organisation's places, if fewer than limit of its imports hold one;
	// opened is false otherwise. The job holds its place until it ends
	// (done, failed, stopped). Conflict when its id exists.
	OpenImport(ctx context.Context, j Job, limit int) (opened bool, err error)
	Import(ctx context.Context, orgID, id string) (*Job, error)
	// ClaimImport starts (or resumes) applying c.Version of the job's file
	// until c.Until: the job must await its upload, or be running that
	// same version under an expired lease. claimed is false otherwise (a
	// repeated event, or another invocation at work), with the job as it is.
	ClaimImport(ctx context.Context, orgID, id string, c Claim) (j Job, claimed bool, err error)
	// SaveProgress stores counts, checkpoint, column warnings and, when set,
	// the lease and StaleAt of a running job.
	SaveProgress(ctx context.Context, j Job) error
	// FinishImport stores the final state of a job that is still running
	// j.Version, and gives its place back; Conflict otherwise.
	FinishImport(ctx context.Context, j Job) error
}

// Summary is what an uploader is told of an import.
type Summary struct {
	To, Language, Name, OrgName, FileName string
	Counts                                Counts
	ReportURL                             string
	// ReportDays is how long ReportURL works; the email says so.
	ReportDays int
	Failed     string // why the whole file failed, if it did
	// FailedKey and FailedArgs say Failed by its key in the locale
	// catalogue ("file." + FailedKey); "" when it has none.
	FailedKey  string
	FailedArgs map[string]string
	// Stalled says the import was given up because its runs kept stopping
	// before they finished (the email says so in the uploader's language).
	Stalled bool
}

// Object is an S3 object that was created: the file a run of an import
// applies.
type Object struct {
	Key     string
	Version string // version id, "" when the bucket has none
	ETag    string
	Size    int64
}

// ErrContinue says a run stopped before its deadline with its progress
// saved: the same event, delivered again, carries on from the checkpoint.
var ErrContinue = errors.New("the file carries on in the next run")

package importjob

import (
	"fmt"
	"time"
)

// MaxOpenPerOrg is how many imports one organisation may have awaiting
// upload or running at once (each holds one of its places until it ends).
// The ingest function runs IngestConcurrency imports at once (5 by default)
// for every organisation, and S3's events for the rest wait in its queue:
// three leave the others room, while letting a few admins of one
// organisation import their units' rosters side by side. Awaiting uploads
// count, or one organisation could hold URLs for more and upload them at once.
const MaxOpenPerOrg = 3

// UploadWindow is how long an import's upload URL works.
const UploadWindow = 15 * time.Minute

// UploadGrace is how long after its URL expires an upload may still be
// arriving: S3 checks the expiry when a PUT starts, and 50 MB takes about
// 15 minutes at 450 kbit/s. After it, an import no run has taken and whose
// file is not there never gets one.
const UploadGrace = 15 * time.Minute

// EventMaxAge is how long Lambda keeps an S3 event for the ingest function
// while every run it reserves is busy (MaximumEventAgeInSeconds of
// IngestFunction in template.yaml; a test checks they agree). An import
// whose file is there but which no run has taken by then never will be.
const EventMaxAge = 6 * time.Hour

// NewUpload is an import of a file its uploader is about to PUT: it
// awaits the upload until UploadBy, and is stale (the stale-import step
// looks at it) UploadGrace after that.
func NewUpload(orgID, id, uploader, fileName string, now time.Time) Job {
	by := now.Add(UploadWindow)
	stale := by.Add(UploadGrace)
	return Job{ID: id, OrgID: orgID, Key: UploadKey(orgID, id, fileName), FileName: fileName,
		UploadedBy: uploader, Status: AwaitingUpload, CreatedAt: now, UpdatedAt: now, UploadBy: &by, StaleAt: &stale}
}

// lastEvent is when the S3 event of a job's upload is gone, if no run has
// taken it: the end of its upload's grace and Lambda's keeping.
func (j Job) lastEvent() time.Time {
	by := j.CreatedAt.Add(UploadWindow)
	if j.UploadBy != nil {
		by = *j.UploadBy
	}
	return by.Add(UploadGrace + EventMaxAge)
}

// NoUploadMessage is the status message of an import whose upload URL
// expired unused.
const NoUploadMessage = "no file was uploaded before the upload URL expired. Start a new import to upload the file."

// NotStartedMessage is the status message of an import whose file was
// uploaded but which no run took before its S3 event was dropped.
func NotStartedMessage() string {
	return fmt.Sprintf("the file was uploaded, but the service was too busy with other imports to start this one within %d hours. "+
		"Import the file again.", int(EventMaxAge.Hours()))
}

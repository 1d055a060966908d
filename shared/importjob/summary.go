package importjob

import (
	"context"
	"log/slog"
	"path"
)

// SummaryMailer tells the uploader how an import went.
type SummaryMailer interface {
	SendImportSummary(ctx context.Context, s Summary) error
}

// Directory finds an uploader's email and language for the summary.
type Directory interface {
	UploaderContact(ctx context.Context, orgID, userID string) (email, language, name, orgName string, err error)
}

// Notifier emails an import's summary to whoever started it: the uploader,
// or for a file dropped into the bucket directly, SummaryTo.
type Notifier struct {
	Mailer    SummaryMailer
	Directory Directory
	// SummaryTo receives the summary of files dropped into the bucket
	// directly (no uploader); empty sends none.
	SummaryTo string
	Log       *slog.Logger
}

// Summary is job's summary addressed to whoever is told of it; false when
// no one is.
func (n Notifier) Summary(ctx context.Context, job Job) (Summary, bool) {
	s := Summary{FileName: path.Base(job.FileName), Counts: job.Counts, Failed: job.Message,
		FailedKey: job.MessageKey, FailedArgs: job.MessageArgs}
	if job.UploadedBy != "" && n.Directory != nil {
		email, lang, name, orgName, err := n.Directory.UploaderContact(ctx, job.OrgID, job.UploadedBy)
		if err != nil {
			n.log().Error("find the uploader for the summary", "importId", job.ID, "error", err)
			return s, false
		}
		s.To, s.Language, s.Name, s.OrgName = email, lang, name, orgName
	} else {
		s.To = n.SummaryTo
	}
	if s.Language == "" {
		s.Language = job.Language
	}
	return s, s.To != "" && n.Mailer != nil
}

// Send emails s, the summary of job importID; a failure is logged.
func (n Notifier) Send(ctx context.Context, importID string, s Summary) {
	if err := n.Mailer.SendImportSummary(ctx, s); err != nil {
		n.log().Error("send import summary", "importId", importID, "error", err)
	}
}

func (n Notifier) log() *slog.Logger {
	if n.Log != nil {
		return n.Log
	}
	return slog.Default()
}

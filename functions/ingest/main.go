// Command ingest applies the rosters dropped into the bucket under
// imports/<orgId>/: S3 calls it for each object created there
// (trigger.Ingest).
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/importjob"
	"onboarding/shared/ingest"
	"onboarding/shared/ingest/apply"
	"onboarding/shared/invite"
	"onboarding/shared/invoke"
	"onboarding/shared/mail"
	"onboarding/shared/objects"
	"onboarding/shared/phone"
	"onboarding/shared/roster"
	"onboarding/shared/trigger"
)

func main() {
	log, env := config.Logger(), &config.Env{}
	clients := config.NewClients(env)
	bucket := env.Required("BUCKET_NAME")
	sender, configSet := env.Required("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET", "")
	publicBase, summaryTo := env.PublicBaseURL(config.NoFallback), env.Optional("IMPORT_SUMMARY_TO", "")
	retention := env.Int("RETENTION_DAYS", 90, 1, 3650)
	// Summaries' report links work no longer than the reports are kept.
	reportDays := env.Int("REPORT_RETENTION_DAYS", 30, 1, 3650)
	maxMB := env.Int("IMPORT_MAX_MB", 50, 1, 1024)
	maxRows := env.Int("IMPORT_MAX_ROWS", 200000, 1, 10000000)
	// What a workbook may unpack and hold derives from the function's sizes
	// (Lambda sets the memory's; the template hands over EphemeralStorage's).
	memoryMB := env.Int("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 1024, 128, 10240)
	tmpMB := env.Int("EPHEMERAL_STORAGE_MB", 512, 512, 10240)
	self, sweep := env.Optional("AWS_LAMBDA_FUNCTION_NAME", ""), env.Optional("SWEEP_FUNCTION", "")
	config.Check(env.Err())
	mailer := config.Must(mail.NewInvitationMailer(sesv2.NewFromConfig(clients.AWS), sender, configSet))
	store := clients.Store()
	// The deployment's key, which signs the summary's report link (the
	// imports function opens it).
	linkKey := config.Must(store.CursorKey(context.Background()))
	invites := &invite.Service{Store: store, Mailer: mailer, Phones: phone.Normalize, AcceptURL: publicBase + "/accept",
		RetentionDays: retention, Now: time.Now}
	h := &trigger.Ingest{Invoker: invoke.FromConfig(clients.AWS), Self: self, Sweep: sweep, Now: time.Now, Log: log}
	importer := &ingest.Importer{
		Jobs: store, Objects: objects.FromConfig(clients.AWS, bucket), Mailer: mailer, Directory: store, SummaryTo: summaryTo,
		ReportLinks: importjob.NewReportLinks(linkKey, publicBase, reportDays),
		Applier:     &apply.Applier{Store: store, Invites: invites, Phones: phone.Normalize, RetentionDays: retention, Now: time.Now},
		Limits:      roster.ForFunction(memoryMB, tmpMB, int64(maxMB)<<20, maxRows),
		StartSweep:  h.SendNow, Now: time.Now, Log: log, Runner: self,
	}
	h.Apply = importer.Apply
	lambda.Start(h.Handle)
}

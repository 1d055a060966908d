// Command ingest applies the rosters dropped into the bucket under
// imports/<orgId>/: S3 calls it for each object created there.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/importjob"
	"onboarding/shared/imports"
	"onboarding/shared/imports/apply"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/objects"
	"onboarding/shared/phone"
	"onboarding/shared/redact"
	"onboarding/shared/roster"
)

func main() {
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	bucket := env.Required("BUCKET_NAME")
	sender := env.Required("SENDER_ADDRESS")
	publicBase := strings.TrimRight(env.Required("PUBLIC_BASE_URL"), "/")
	summaryTo := env.Optional("IMPORT_SUMMARY_TO", "")
	configSet := env.Optional("SES_CONFIGURATION_SET", "")
	retention := env.Int("RETENTION_DAYS", 90, 1, 3650)
	auditDays := env.Int("AUDIT_RETENTION_DAYS", 365, 1, 3650)
	// Summaries' report links work no longer than the reports are kept.
	reportDays := env.Int("REPORT_RETENTION_DAYS", 30, 1, 3650)
	maxMB := env.Int("IMPORT_MAX_MB", 50, 1, 1024)
	maxRows := env.Int("IMPORT_MAX_ROWS", 200000, 1, 10000000)
	// What a workbook may unpack and hold derives from the function's sizes
	// (Lambda sets the memory's; the template hands over EphemeralStorage's).
	memoryMB := env.Int("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 1024, 128, 10240)
	tmpMB := env.Int("EPHEMERAL_STORAGE_MB", 512, 512, 10240)
	sweepFunction := env.Optional("SWEEP_FUNCTION", "")
	cfg := config.AWS(env)
	if err := env.Err(); err != nil {
		config.Fail(log, err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = config.Endpoint("DYNAMODB") })
	ses := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = config.Endpoint("SESV2") })
	mailer, err := mail.NewInvitationMailer(ses, sender, configSet)
	if err != nil {
		config.Fail(log, err)
	}
	store := ddb.New(db, table, time.Now)
	store.AuditRetention = time.Duration(auditDays) * 24 * time.Hour
	// The deployment's key, which signs the summary's report link (the
	// imports function opens it).
	linkKey, err := store.CursorKey(context.Background())
	if err != nil {
		config.Fail(log, err)
	}
	self := env.Optional("AWS_LAMBDA_FUNCTION_NAME", "")
	invites := &invite.Service{Store: store, Mailer: mailer, Phones: phone.Normalize, AcceptURL: publicBase + "/accept",
		RetentionDays: retention, Now: time.Now}
	ingest := &imports.Ingest{
		Jobs: store, Objects: objects.FromConfig(cfg, bucket), Mailer: mailer, Directory: store, SummaryTo: summaryTo,
		ReportLinks: importjob.NewReportLinks(linkKey, publicBase, reportDays),
		Applier:     &apply.Applier{Store: store, Invites: invites, Phones: phone.Normalize, RetentionDays: retention, Now: time.Now},
		Now:         time.Now, Log: log, Runner: self,
	}
	ingest.Limits = roster.ForFunction(memoryMB, tmpMB, int64(maxMB)<<20, maxRows)
	lc := lambdasvc.NewFromConfig(cfg, func(o *lambdasvc.Options) { o.BaseEndpoint = config.Endpoint("LAMBDA") })
	if sweepFunction != "" {
		ingest.SendNow = func(ctx context.Context, importID string) error {
			payload, _ := json.Marshal(map[string]string{"executionId": "import-" + importID, "attempt": "1",
				"scheduledTime": time.Now().UTC().Format(time.RFC3339)})
			_, err := lc.Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: &sweepFunction, InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload})
			return err
		}
	}
	lambda.Start(func(ctx context.Context, ev events.S3Event) error {
		var errs []error
		for _, rec := range ev.Records {
			key, err := url.QueryUnescape(rec.S3.Object.Key)
			if err != nil {
				key = rec.S3.Object.Key
			}
			job, err := ingest.Apply(ctx, imports.Object{Key: key, Version: rec.S3.Object.VersionID,
				ETag: rec.S3.Object.ETag, Size: rec.S3.Object.Size})
			if errors.Is(err, imports.ErrContinue) {
				// Too large for one run: the next run, started now with the
				// same event, carries on from the checkpoint.
				// Not under the run's context: a run cut off by its deadline
				// hands over too (should the invoke fail, Lambda's retry or
				// the sweep's stale-import step resumes it).
				payload, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
				hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				_, err = lc.Invoke(hctx, &lambdasvc.InvokeInput{FunctionName: &self, InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload})
				cancel()
				log.InfoContext(ctx, "import continues in the next run", "importId", job.ID, "nextRow", job.NextRow)
			}
			if err != nil {
				// Returned, so Lambda retries the event; the job's lease
				// and checkpoint make the retry resume, not repeat.
				log.ErrorContext(ctx, "import failed", "key", key, "error", err.Error())
				errs = append(errs, err)
				continue
			}
			log.InfoContext(ctx, "import", "orgId", job.OrgID, "importId", job.ID, "status", job.Status, "counts", job.Counts)
		}
		// Lambda logs a returned error and keeps it with the failed event.
		return redact.Error(errors.Join(errs...))
	})
}

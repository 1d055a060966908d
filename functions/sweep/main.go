// Command sweep does the scheduled work on invitations: it expires pending
// invitations past their expiry, reminds invitees before, retries emails that
// failed, and sends each inviting admin a digest of what expired. It also
// takes up roster imports whose run died (resumes them, or gives them up),
// and ends those no run took (their upload never came, or its event was
// dropped).
// EventBridge Scheduler runs it (every 15 minutes by default); one run stops
// before its deadline and the next carries on.
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
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/objects"
	"onboarding/shared/redact"
)

// trigger is the schedule's input (see events/schedule-sweep.json): the
// scheduler's own context attributes, for the log.
type trigger struct {
	ScheduledTime string `json:"scheduledTime"`
	ExecutionID   string `json:"executionId"`
	Attempt       string `json:"attempt"`
}

// report is what a run did: the invitations' sweep, and the stale imports.
type report struct {
	invite.SweepReport
	Imports importjob.ResumeReport `json:"imports"`
}

func main() {
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	sender := env.Required("SENDER_ADDRESS")
	publicBase := strings.TrimRight(env.Required("PUBLIC_BASE_URL"), "/")
	appURL := strings.TrimRight(env.Optional("ADMIN_APP_URL", ""), "/")
	configSet := env.Optional("SES_CONFIGURATION_SET", "")
	retention := env.Int("RETENTION_DAYS", 90, 1, 3650)
	auditDays := env.Int("AUDIT_RETENTION_DAYS", 365, 1, 3650)
	workers := env.Int("SWEEP_WORKERS", 8, 1, 64)
	// Used only where SES's GetAccount cannot be read (the local emulator).
	fallbackRate := env.Int("SES_FALLBACK_SEND_RATE", 1, 1, 10000)
	fallbackDaily := env.Int("SES_FALLBACK_DAILY_QUOTA", 200, 1, 100000000)
	summaryTo := env.Optional("IMPORT_SUMMARY_TO", "")
	bucket := env.Required("BUCKET_NAME")
	cfg := config.AWS(env)
	if err := env.Err(); err != nil {
		config.Fail(log, err)
	}
	if appURL == "" {
		appURL = publicBase
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = config.Endpoint("DYNAMODB") })
	ses := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = config.Endpoint("SESV2") })
	mailer, err := mail.NewInvitationMailer(ses, sender, configSet)
	if err != nil {
		config.Fail(log, err)
	}
	store := ddb.New(db, table, time.Now)
	store.AuditRetention = time.Duration(auditDays) * 24 * time.Hour
	sweeper := &invite.Sweeper{
		Store: store, Mailer: mailer,
		AcceptURL: publicBase + "/accept", AppURL: appURL,
		RetentionDays: retention, Workers: workers,
		Now: time.Now, Log: log,
	}
	lc := lambdasvc.NewFromConfig(cfg, func(o *lambdasvc.Options) { o.BaseEndpoint = config.Endpoint("LAMBDA") })
	stale := &importjob.Resumer{
		Store: store, Now: time.Now, Log: log, Uploaded: objects.FromConfig(cfg, bucket).Exists,
		Notifier: importjob.Notifier{Mailer: mailer, Directory: store, SummaryTo: summaryTo, Log: log},
		// The function that ran the import, started as S3 starts it: an
		// asynchronous invocation with the event for the object.
		Start: func(ctx context.Context, j importjob.Job) error {
			if j.Runner == "" {
				return errors.New("the import names no function to run it")
			}
			payload, err := json.Marshal(events.S3Event{Records: []events.S3EventRecord{{
				EventSource: "aws:s3", EventName: "ObjectCreated:Put",
				S3: events.S3Entity{Object: events.S3Object{Key: strings.ReplaceAll(url.QueryEscape(j.Key), "%2F", "/"),
					VersionID: j.VersionID, ETag: j.ETag(), Size: j.Size}},
			}}})
			if err != nil {
				return err
			}
			_, err = lc.Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: &j.Runner, InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload})
			return err
		},
	}
	lambda.Start(func(ctx context.Context, t trigger) (report, error) {
		started := time.Now()
		var out report
		var errs []error
		// Stale imports first: a few writes, done before the invitations
		// take up the run's time.
		imports, err := stale.Run(ctx)
		if out.Imports = imports; err != nil {
			errs = append(errs, err)
		}
		// The account's rate and quota, read afresh for each run.
		run := *sweeper
		pacer := mail.NewPacer(ses)
		pacer.FallbackRate, pacer.FallbackDaily = float64(fallbackRate), fallbackDaily
		run.Pacer = pacer
		out.SweepReport, err = run.Run(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		attrs := []any{"scheduledTime", t.ScheduledTime, "executionId", t.ExecutionID, "attempt", t.Attempt,
			"report", out, "ms", time.Since(started).Milliseconds()}
		if err := errors.Join(errs...); err != nil {
			log.ErrorContext(ctx, "sweep failed", append(attrs, "error", err.Error())...)
			return out, redact.Error(err)
		}
		log.InfoContext(ctx, "sweep done", attrs...)
		return out, nil
	})
}

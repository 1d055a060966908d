// Command sweep does the scheduled work on invitations: it expires pending
// invitations past their expiry, reminds invitees before, retries emails that
// failed, and sends each inviting admin a digest of what expired. EventBridge
// Scheduler runs it (every 15 minutes by default); one run stops before its
// deadline and the next carries on.
package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/redact"
)

// trigger is the schedule's input (see events/schedule-sweep.json): the
// scheduler's own context attributes, for the log.
type trigger struct {
	ScheduledTime string `json:"scheduledTime"`
	ExecutionID   string `json:"executionId"`
	Attempt       string `json:"attempt"`
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
	lambda.Start(func(ctx context.Context, t trigger) (invite.SweepReport, error) {
		started := time.Now()
		// The account's rate and quota, read afresh for each run.
		run := *sweeper
		pacer := mail.NewPacer(ses)
		pacer.FallbackRate, pacer.FallbackDaily = float64(fallbackRate), fallbackDaily
		run.Pacer = pacer
		report, err := run.Run(ctx)
		attrs := []any{"scheduledTime", t.ScheduledTime, "executionId", t.ExecutionID, "attempt", t.Attempt,
			"report", report, "ms", time.Since(started).Milliseconds()}
		if err != nil {
			log.ErrorContext(ctx, "sweep failed", append(attrs, "error", err.Error())...)
			return report, redact.Error(err)
		}
		log.InfoContext(ctx, "sweep done", attrs...)
		return report, nil
	})
}

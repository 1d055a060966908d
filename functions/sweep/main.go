// Command sweep does the scheduled work on invitations: it expires pending
// invitations past their expiry, reminds invitees before, retries emails that
// failed, and sends each inviting admin a digest of what expired. It also
// takes up roster imports whose run died (resumes them, or gives them up),
// and ends those no run took (their upload never came, or its event was
// dropped). EventBridge Scheduler runs it (every 15 minutes by default; the
// ingest function also starts it after an import); one run stops before its
// deadline and the next carries on (trigger.Sweep).
package main

import (
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/importjob"
	"onboarding/shared/invite"
	"onboarding/shared/invoke"
	"onboarding/shared/mail"
	"onboarding/shared/objects"
	"onboarding/shared/trigger"
)

func main() {
	log, env := config.Logger(), &config.Env{}
	clients := config.NewClients(env)
	sender, configSet := env.Required("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET", "")
	publicBase := env.PublicBaseURL(config.NoFallback)
	appURL := strings.TrimRight(env.Optional("ADMIN_APP_URL", publicBase), "/")
	retention := env.Int("RETENTION_DAYS", 90, 1, 3650)
	workers := env.Int("SWEEP_WORKERS", 8, 1, 64)
	// Used only where SES's GetAccount cannot be read (the local emulator).
	fallbackRate := env.Int("SES_FALLBACK_SEND_RATE", 1, 1, 10000)
	fallbackDaily := env.Int("SES_FALLBACK_DAILY_QUOTA", 200, 1, 100000000)
	summaryTo := env.Optional("IMPORT_SUMMARY_TO", "")
	bucket := env.Required("BUCKET_NAME")
	config.Check(env.Err())
	ses := sesv2.NewFromConfig(clients.AWS)
	mailer := config.Must(mail.NewInvitationMailer(ses, sender, configSet))
	store := clients.Store()
	sweeper := &invite.Sweeper{Store: store, Mailer: mailer, AcceptURL: publicBase + "/accept", AppURL: appURL,
		RetentionDays: retention, Workers: workers, Now: time.Now, Log: log}
	// The account's rate and quota, read afresh for each run.
	pacer := &mail.Pacer{Client: ses, FallbackRate: float64(fallbackRate), FallbackDaily: fallbackDaily}
	h := &trigger.Sweep{Invitations: trigger.Paced(sweeper), Pacer: pacer.Fresh, Invoker: invoke.FromConfig(clients.AWS), Log: log}
	resumer := &importjob.Resumer{Store: store, Start: h.StartImport, Uploaded: objects.FromConfig(clients.AWS, bucket).Exists,
		Notifier: importjob.Notifier{Mailer: mailer, Directory: store, SummaryTo: summaryTo, Log: log}, Now: time.Now, Log: log}
	h.StaleImports = resumer.Run
	lambda.Start(h.Handle)
}

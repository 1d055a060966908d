// Command provision creates an organisation and invites its first admin. It
// has no HTTP route: only principals allowed lambda:InvokeFunction on it can
// call it (trigger.Provision).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/trigger"
)

func main() {
	log, env := config.Logger(), &config.Env{}
	clients := config.NewClients(env)
	sender, configSet := env.Required("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET", "")
	publicBase := env.PublicBaseURL(config.NoFallback)
	lifetime := env.Int("INVITATION_LIFETIME_DAYS", 30, 1, 90)
	config.Check(env.Err())
	mailer := config.Must(mail.NewInvitationMailer(sesv2.NewFromConfig(clients.AWS), sender, configSet))
	svc := &invite.Service{
		Store:        clients.Store(),
		Mailer:       mailer,
		AcceptURL:    publicBase + "/accept",
		LifetimeDays: lifetime,
		Now:          time.Now,
	}
	lambda.Start((&trigger.Provision{Provision: svc.Provision, Log: log}).Handle)
}

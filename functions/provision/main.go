// Command provision creates an organisation and invites its first admin. It
// has no HTTP route: only principals allowed lambda:InvokeFunction on it can
// call it.
package main

import (
	"context"
	"errors"
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

// event is the provision request, plus the public base URL for the
// acceptance link when the deployment has none configured.
type event struct {
	invite.ProvisionRequest
	PublicBaseURL string `json:"publicBaseUrl"`
}

func main() {
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	sender := env.Required("SENDER_ADDRESS")
	publicBase := strings.TrimRight(env.Optional("PUBLIC_BASE_URL", ""), "/")
	lifetime := env.Int("INVITATION_LIFETIME_DAYS", 30, 1, 90)
	configSet := env.Optional("SES_CONFIGURATION_SET", "")
	auditDays := env.Int("AUDIT_RETENTION_DAYS", 365, 1, 3650)
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
	svc := &invite.Service{
		Store:        store,
		Mailer:       mailer,
		AcceptURL:    publicBase + "/accept",
		LifetimeDays: lifetime,
		Now:          time.Now,
	}
	lambda.Start(func(ctx context.Context, ev event) (invite.Provisioned, error) {
		req := ev.ProvisionRequest
		run := *svc
		if base := strings.TrimRight(ev.PublicBaseURL, "/"); base != "" {
			run.AcceptURL = base + "/accept"
		}
		if !strings.HasPrefix(run.AcceptURL, "http") {
			return invite.Provisioned{}, errors.New("no public base URL: deploy with PublicBaseUrl set, or pass publicBaseUrl in the event")
		}
		out, err := run.Provision(ctx, req)
		if err != nil {
			log.ErrorContext(ctx, "provision failed", "admin", redact.Email(req.AdminEmail), "error", err.Error())
			return out, redact.Error(err)
		}
		log.InfoContext(ctx, "provisioned", "orgId", out.OrgID, "invitationId", out.InvitationID,
			"admin", redact.Email(req.AdminEmail), "delivery", out.DeliveryStatus)
		return out, nil
	})
}

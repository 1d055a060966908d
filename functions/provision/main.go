// Command provision creates an organisation and invites its first admin. It
// has no HTTP route: only principals allowed lambda:InvokeFunction on it can
// call it.
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

func main() {
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	sender := env.Required("SENDER_ADDRESS")
	publicBase := strings.TrimRight(env.Required("PUBLIC_BASE_URL"), "/")
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
	lambda.Start(func(ctx context.Context, req invite.ProvisionRequest) (invite.Provisioned, error) {
		out, err := svc.Provision(ctx, req)
		if err != nil {
			log.ErrorContext(ctx, "provision failed", "admin", redact.Email(req.AdminEmail), "error", err.Error())
			return out, redact.Error(err)
		}
		log.InfoContext(ctx, "provisioned", "orgId", out.OrgID, "invitationId", out.InvitationID,
			"admin", redact.Email(req.AdminEmail), "delivery", out.DeliveryStatus)
		return out, nil
	})
}

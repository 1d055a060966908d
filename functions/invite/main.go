// Command invite serves the admin routes: invitations, members, units,
// settings, monitoring profiles, partners and the caller's profile.
package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/authtoken"
	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/adminapi"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/membership"
	"onboarding/shared/org"
	"onboarding/shared/partner"
	"onboarding/shared/phone"
)

func main() {
	ctx := context.Background()
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	sender := env.Required("SENDER_ADDRESS")
	// Empty: links go to the domain API Gateway received the request on
	// (the template cannot name the API here: the API names this function).
	acceptURL := ""
	if base := strings.TrimRight(env.Optional("PUBLIC_BASE_URL", ""), "/"); base != "" {
		acceptURL = base + "/accept"
	}
	configSet := env.Optional("SES_CONFIGURATION_SET", "")
	issuer := env.Required("TOKEN_ISSUER")
	keyFile, keyID := env.Optional("SIGNING_KEY_FILE", ""), env.Optional("SIGNING_KEY_ID", "")
	retention := env.Int("RETENTION_DAYS", 90, 1, 3650)
	auditDays := env.Int("AUDIT_RETENTION_DAYS", 365, 1, 3650)
	// Only the local runner sets it: webhooks on this machine's loopback.
	loopback := env.Optional("PARTNER_ALLOW_LOOPBACK", "") == "true"
	cfg := config.AWS(env)
	if err := env.Err(); err != nil {
		config.Fail(log, err)
	}
	kmsClient := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = config.Endpoint("KMS") })
	_, key, err := authtoken.LoadSigner(ctx, keyFile, kmsClient, keyID)
	if err != nil {
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
	cursorKey, err := store.CursorKey(ctx)
	if err != nil {
		config.Fail(log, err)
	}
	invitations := &invite.Service{
		Store:         store,
		Mailer:        mailer,
		Phones:        phone.Normalize,
		AcceptURL:     acceptURL,
		RetentionDays: retention,
		Quotas:        store,
		Now:           time.Now,
	}
	router := httpapi.NewRouter(log, authtoken.NewVerifier(issuer, key)).WithIdempotency(store, time.Now)
	members := &membership.Service{Store: store, Monitor: store, Phones: phone.Normalize, Now: time.Now}
	orgs := &org.Service{Store: store, Now: time.Now, Languages: mailer.Catalogue.Languages()}
	partners := &partner.Service{Store: store, AllowLoopback: loopback, Now: time.Now}
	(&adminapi.Routes{Invitations: invitations, Members: members, Orgs: orgs, Directory: store, Partners: partners,
		Cursors: httpapi.NewCursors(cursorKey)}).Register(router)
	lambda.Start(router.Handle)
}

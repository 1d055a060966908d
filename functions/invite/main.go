// Command invite serves the admin routes: invitations, members, units,
// settings, monitoring profiles, partners, the caller's profile and sessions.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/account"
	"onboarding/shared/authtoken"
	"onboarding/shared/config"
	"onboarding/shared/erasure"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/adminapi"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/membership"
	"onboarding/shared/org"
	"onboarding/shared/partner"
	"onboarding/shared/phone"
	"onboarding/shared/selfservice"
	"onboarding/shared/signer"
)

func main() {
	ctx := context.Background()
	log, env := config.Logger(), &config.Env{}
	clients := config.NewClients(env)
	sender, configSet := env.Required("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET", "")
	base := env.PublicBaseURL(config.RequestDomain)
	issuer, retention := env.Required("TOKEN_ISSUER"), env.Int("RETENTION_DAYS", 90, 1, 3650)
	keyFile, keyID := env.Optional("SIGNING_KEY_FILE", ""), env.Optional("SIGNING_KEY_ID", "")
	// Only the local runner sets it: webhooks on this machine's loopback.
	loopback := env.Optional("PARTNER_ALLOW_LOOPBACK", "") == "true"
	config.Check(env.Err())
	_, key, err := signer.Load(ctx, keyFile, kms.NewFromConfig(clients.AWS), keyID)
	config.Check(err)
	mailer := config.Must(mail.NewInvitationMailer(sesv2.NewFromConfig(clients.AWS), sender, configSet))
	store := clients.Store()
	cursorKey := config.Must(store.CursorKey(ctx))
	invitations := &invite.Service{Store: store, Mailer: mailer, Phones: phone.Normalize, AcceptURL: config.Under(base, "/accept"),
		RetentionDays: retention, Quotas: store, Now: time.Now}
	router := httpapi.NewRouter(log, authtoken.NewVerifier(issuer, key)).WithIdempotency(store, time.Now)
	members := &membership.Service{Store: store, Monitor: store, Phones: phone.Normalize, Now: time.Now}
	orgs := &org.Service{Store: store, Now: time.Now, Languages: mailer.Catalogue.Languages()}
	partners := &partner.Service{Store: store, AllowLoopback: loopback, Now: time.Now}
	self := &selfservice.Service{Store: store, Hasher: account.Hasher{Params: account.OWASP}, Guesses: account.NewGuesses(store, time.Now),
		Mailer: mail.AccountMailer(mailer), Phones: phone.Normalize, Languages: mailer.Catalogue.Languages(), AppURL: base,
		Sessions: store, Floor: selfservice.EmailChangeFloor, Now: time.Now}
	(&adminapi.Routes{Invitations: invitations, Members: members, Orgs: orgs, Directory: store, Partners: partners,
		Cursors: httpapi.NewCursors(cursorKey), Sessions: &account.Sessions{Store: store, Now: time.Now},
		Roles: &org.RoleService{Store: store, Now: time.Now},
		Self:  self, Erasure: erasure.New(store, time.Now)}).Register(router)
	lambda.Start(router.Handle)
}

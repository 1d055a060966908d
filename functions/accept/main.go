// Command accept serves the public routes: preview and accept an invitation,
// sign in, refresh and sign out, the signing keys and the hosted acceptance page.
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
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/publicapi"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/selfservice"
	"onboarding/shared/signer"
)

func main() {
	ctx := context.Background()
	log, env := config.Logger(), &config.Env{}
	clients := config.NewClients(env)
	issuer := env.Required("TOKEN_ISSUER")
	tokenMinutes := env.Int("ACCESS_TOKEN_MINUTES", 15, 5, 60)
	idle, absolute := env.Days("SESSION_IDLE_DAYS", 30, 1, 365), env.Days("SESSION_ABSOLUTE_DAYS", 90, 1, 365)
	terms := env.Optional("TERMS_VERSION", "")
	publicBase := env.PublicBaseURL(config.RequestDomain)
	keyFile, keyID := env.Optional("SIGNING_KEY_FILE", ""), env.Optional("SIGNING_KEY_ID", "")
	sender, configSet := env.Required("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET", "")
	config.Check(env.Err())
	tokenSigner, key, err := signer.Load(ctx, keyFile, kms.NewFromConfig(clients.AWS), keyID)
	config.Check(err)
	tokens := config.Must(authtoken.NewIssuer(ctx, tokenSigner, issuer, time.Duration(tokenMinutes)*time.Minute, time.Now))

	store := clients.Store()
	hasher := account.Hasher{Params: account.OWASP}
	signIn := account.NewSignIn(store, hasher, tokens, time.Now)
	signIn.Sessions = &account.Sessions{Store: store, Tokens: tokens, Idle: idle, Absolute: absolute, Now: time.Now}
	mailer := config.Must(mail.NewAccountMailer(sesv2.NewFromConfig(clients.AWS), sender, configSet))
	resets := &account.PasswordReset{Store: store, Mailer: mailer, Hasher: hasher, Limits: account.DefaultResetLimits,
		Floor: account.ResetFloor, Sessions: store, Log: log, Now: time.Now}
	// Accepting with an existing account's password draws on the same
	// throttle and budgets as sign-in.
	invitations := &invite.Service{Store: store, Hasher: hasher, TermsVersion: terms, Guesses: signIn.Guesses, Now: time.Now}
	router := httpapi.NewRouter(log, nil)
	(&publicapi.Routes{Invitations: invitations, SignIn: signIn, Sessions: signIn.Sessions, Resets: resets,
		// Confirms the link sent to a new address (from a mail client: every session ends).
		EmailChanges: &selfservice.Service{Store: store, Sessions: store, Now: time.Now},
		Issuer:       issuer, Key: key, BaseURL: publicBase}).Register(router)
	lambda.Start(router.Handle)
}

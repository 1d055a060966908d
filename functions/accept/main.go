// Command accept serves the public routes: preview and accept an invitation,
// sign in, the signing keys and the hosted acceptance page.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"onboarding/shared/account"
	"onboarding/shared/authtoken"
	"onboarding/shared/config"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/publicapi"
	"onboarding/shared/invite"
	"onboarding/shared/selfservice"
	"onboarding/shared/signer"
)

func main() {
	ctx := context.Background()
	log, env := config.Logger(), &config.Env{}
	clients := config.NewClients(env)
	issuer := env.Required("TOKEN_ISSUER")
	tokenMinutes := env.Int("ACCESS_TOKEN_MINUTES", 15, 5, 60)
	terms := env.Optional("TERMS_VERSION", "")
	publicBase := env.PublicBaseURL(config.RequestDomain)
	keyFile, keyID := env.Optional("SIGNING_KEY_FILE", ""), env.Optional("SIGNING_KEY_ID", "")
	config.Check(env.Err())
	tokenSigner, key, err := signer.Load(ctx, keyFile, kms.NewFromConfig(clients.AWS), keyID)
	config.Check(err)
	tokens := config.Must(authtoken.NewIssuer(ctx, tokenSigner, issuer, time.Duration(tokenMinutes)*time.Minute, time.Now))

	store := clients.Store()
	hasher := account.Hasher{Params: account.OWASP}
	signIn := account.NewSignIn(store, hasher, tokens, time.Now)
	public := &publicapi.Routes{
		// Accepting with an existing account's password draws on the same
		// throttle and budgets as sign-in.
		Invitations: &invite.Service{Store: store, Hasher: hasher, TermsVersion: terms, Guesses: signIn.Guesses, Now: time.Now},
		SignIn:      signIn,
		Issuer:      issuer,
		Key:         key,
		BaseURL:     publicBase,
		// Confirms the link sent to a new address (no session: it is opened from a mail client).
		EmailChanges: &selfservice.Service{Store: store, Now: time.Now},
	}
	router := httpapi.NewRouter(log, nil)
	public.Register(router)
	lambda.Start(router.Handle)
}

// Command accept serves the public routes: preview and accept an invitation,
// sign in, the signing keys and the hosted acceptance page.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/shared/account"
	"onboarding/shared/authtoken"
	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/httpapi"
	"onboarding/shared/invite"
)

func main() {
	ctx := context.Background()
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	issuer := env.Required("TOKEN_ISSUER")
	tokenMinutes := env.Int("ACCESS_TOKEN_MINUTES", 15, 5, 60)
	terms := env.Optional("TERMS_VERSION", "")
	cfg, err := config.AWS(ctx)
	if err != nil {
		config.Fail(log, err)
	}
	signer, err := config.Signer(env, cfg)
	if err == nil {
		err = env.Err()
	}
	if err != nil {
		config.Fail(log, err)
	}

	store := ddb.New(dynamodb.NewFromConfig(cfg), table, time.Now)
	hasher := account.Hasher{Params: account.OWASP}
	tokens, err := authtoken.NewIssuer(ctx, signer, issuer, time.Duration(tokenMinutes)*time.Minute, time.Now)
	if err != nil {
		config.Fail(log, err)
	}
	signIn, err := account.NewSignIn(store, hasher, tokens, time.Now)
	if err != nil {
		config.Fail(log, err)
	}
	key, err := signer.PublicKey(ctx)
	if err != nil {
		config.Fail(log, err)
	}
	public := &httpapi.Public{
		Invitations: &invite.Service{Store: store, Hasher: hasher, TermsVersion: terms, Now: time.Now},
		SignIn:      signIn,
		Issuer:      issuer,
		Key:         key,
	}
	router := httpapi.NewRouter(log, nil)
	public.Register(router)
	lambda.Start(router.Handle)
}

// Command accept serves the public routes: preview and accept an invitation,
// sign in, the signing keys and the hosted acceptance page.
package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"onboarding/shared/account"
	"onboarding/shared/authtoken"
	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/publicapi"
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
	// Empty: links go to the domain API Gateway received the request on.
	publicBase := strings.TrimRight(env.Optional("PUBLIC_BASE_URL", ""), "/")
	keyFile, keyID := env.Optional("SIGNING_KEY_FILE", ""), env.Optional("SIGNING_KEY_ID", "")
	auditDays := env.Int("AUDIT_RETENTION_DAYS", 365, 1, 3650)
	cfg := config.AWS(env)
	if err := env.Err(); err != nil {
		config.Fail(log, err)
	}
	kmsClient := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = config.Endpoint("KMS") })
	signer, key, err := authtoken.LoadSigner(ctx, keyFile, kmsClient, keyID)
	if err != nil {
		config.Fail(log, err)
	}
	tokens, err := authtoken.NewIssuer(ctx, signer, issuer, time.Duration(tokenMinutes)*time.Minute, time.Now)
	if err != nil {
		config.Fail(log, err)
	}

	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = config.Endpoint("DYNAMODB") })
	store := ddb.New(db, table, time.Now)
	store.AuditRetention = time.Duration(auditDays) * 24 * time.Hour
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
	}
	router := httpapi.NewRouter(log, nil)
	public.Register(router)
	lambda.Start(router.Handle)
}

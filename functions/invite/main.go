// Command invite serves the admin routes: invitations and the caller's profile.
package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/authtoken"
	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/httpapi"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/phone"
)

func main() {
	ctx := context.Background()
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	sender := env.Required("SENDER_ADDRESS")
	publicBase := strings.TrimRight(env.Optional("PUBLIC_BASE_URL", ""), "/")
	configSet := env.Optional("SES_CONFIGURATION_SET", "")
	issuer := env.Required("TOKEN_ISSUER")
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
	key, err := signer.PublicKey(ctx)
	if err != nil {
		config.Fail(log, err)
	}
	catalogue, err := mail.LoadCatalogue()
	if err != nil {
		config.Fail(log, err)
	}
	store := ddb.New(dynamodb.NewFromConfig(cfg), table, time.Now)
	invitations := &invite.Service{
		Store:     store,
		Mailer:    mail.InvitationMailer{Catalogue: catalogue, Sender: mail.SES{Client: sesv2.NewFromConfig(cfg), From: sender, ConfigurationSet: configSet}},
		Phones:    phone.Normalize,
		AcceptURL: publicBase + "/accept",
		Now:       time.Now,
	}
	router := httpapi.NewRouter(log, authtoken.NewVerifier(issuer, key))
	(&httpapi.Admin{Invitations: invitations, Directory: store}).Register(router)
	lambda.Start(router.Handle)
}

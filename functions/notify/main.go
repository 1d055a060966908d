// Command notify tells monitoring partners about monitored workers who are
// added, changed or leave. The table's DynamoDB stream invokes it (the
// template's filter lets only membership, monitoring profile, invitation
// and partner changes through); an EventBridge schedule invokes it every
// minute to retry deliveries that are due; and a batch the stream gave up
// on (its on-failure destination's message) can be passed to it to replay.
// trigger.Notify tells the three apart.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/mail"
	"onboarding/shared/partner"
	"onboarding/shared/poster"
	"onboarding/shared/trigger"
)

func main() {
	log, env := config.Logger(), &config.Env{}
	clients := config.NewClients(env)
	sender, configSet := env.Required("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET", "")
	// Only the local runner sets it: webhooks on this machine's loopback.
	loopback := env.Optional("PARTNER_ALLOW_LOOPBACK", "") == "true"
	config.Check(env.Err())
	catalogue := config.Must(mail.LoadCatalogue())
	store := clients.Store()
	ses := mail.SES{Client: sesv2.NewFromConfig(clients.AWS), From: sender, ConfigurationSet: configSet}
	n := &partner.Notifier{
		Store:  store,
		Poster: poster.New(loopback),
		Mailer: mail.PartnerMailer{Catalogue: catalogue, Sender: ses, Directory: store},
		Now:    time.Now, Log: log,
	}
	batches := trigger.StreamReader{Client: dynamodbstreams.NewFromConfig(clients.AWS)}
	h := &trigger.Notify{Partners: n, Batches: batches, Log: log}
	lambda.Start(h.Handle)
}

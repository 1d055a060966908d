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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/mail"
	"onboarding/shared/partner"
	"onboarding/shared/trigger"
	"onboarding/shared/webhook"
)

func main() {
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	sender := env.Required("SENDER_ADDRESS")
	configSet := env.Optional("SES_CONFIGURATION_SET", "")
	// Only the local runner sets it: webhooks on this machine's loopback.
	loopback := env.Optional("PARTNER_ALLOW_LOOPBACK", "") == "true"
	cfg := config.AWS(env)
	if err := env.Err(); err != nil {
		config.Fail(log, err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = config.Endpoint("DYNAMODB") })
	streamsClient := dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = config.Endpoint("DYNAMODB") })
	ses := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = config.Endpoint("SESV2") })
	catalogue, err := mail.LoadCatalogue()
	if err != nil {
		config.Fail(log, err)
	}
	store := ddb.New(db, table, time.Now)
	n := &partner.Notifier{
		Store:  store,
		Poster: webhook.NewHTTPPoster(loopback),
		Mailer: mail.PartnerMailer{Catalogue: catalogue, Sender: mail.SES{Client: ses, From: sender, ConfigurationSet: configSet}, Directory: store},
		Now:    time.Now, Log: log,
	}
	h := &trigger.Notify{Partners: n, Batches: trigger.StreamReader{Client: streamsClient}, Log: log}
	lambda.Start(h.Handle)
}

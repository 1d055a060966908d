// Command notify tells monitoring partners about monitored workers who are
// added, changed or leave. The table's DynamoDB stream invokes it (the
// template's filter lets only membership, monitoring profile, invitation
// and partner changes through); an EventBridge schedule invokes it every
// minute to retry deliveries that are due; and a batch the stream gave up
// on (its on-failure destination's message) can be passed to it to replay.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/mail"
	"onboarding/shared/partner"
	"onboarding/shared/redact"
	"onboarding/shared/streams"
)

// input is any of the three: a stream batch, the on-failure record of a
// batch the stream gave up on, or the schedule's trigger.
type input struct {
	Records            []events.DynamoDBEventRecord `json:"Records"`
	DDBStreamBatchInfo *streams.BatchInfo           `json:"DDBStreamBatchInfo"`
	ScheduledTime      string                       `json:"scheduledTime"`
}

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
		Poster: partner.NewHTTPPoster(loopback),
		Mailer: mail.PartnerMailer{Catalogue: catalogue, Sender: mail.SES{Client: ses, From: sender, ConfigurationSet: configSet}, Directory: store},
		Now:    time.Now, Log: log,
	}
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in input
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("unreadable input: %w", err)
		}
		started := time.Now()
		switch {
		case len(in.Records) > 0:
			failed := n.Handle(ctx, ddb.StreamChanges(in.Records))
			res := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
			for _, seq := range failed {
				res.BatchItemFailures = append(res.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
			}
			log.InfoContext(ctx, "stream batch", "records", len(in.Records), "failed", len(failed), "ms", time.Since(started).Milliseconds())
			return res, nil
		case in.DDBStreamBatchInfo != nil:
			records, err := streams.ReadBatch(ctx, streamsClient, *in.DDBStreamBatchInfo)
			if err != nil {
				return nil, redact.Error(err)
			}
			failed := n.Handle(ctx, ddb.StreamChanges(records))
			log.InfoContext(ctx, "replayed a failed stream batch", "records", len(records), "failed", len(failed))
			if len(failed) > 0 {
				return nil, fmt.Errorf("%d organisations' changes failed again; see the log", len(failed))
			}
			return map[string]int{"replayed": len(records)}, nil
		default:
			due, err := n.RetryDue(ctx)
			log.InfoContext(ctx, "retry run", "scheduledTime", in.ScheduledTime, "queues", due, "ms", time.Since(started).Milliseconds())
			return map[string]int{"queues": due}, redact.Error(err)
		}
	})
}

// Command imports serves the roster import routes: the template to fill in,
// the upload URL of a new import, an import's status, and its report.
package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"onboarding/shared/authtoken"
	"onboarding/shared/config"
	"onboarding/shared/ddb"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/importapi"
	"onboarding/shared/importjob"
	"onboarding/shared/objects"
	"onboarding/shared/org"
)

func main() {
	ctx := context.Background()
	log := config.Logger()
	env := &config.Env{}
	table := env.Required("TABLE_NAME")
	bucket := env.Required("BUCKET_NAME")
	issuer := env.Required("TOKEN_ISSUER")
	reportDays := env.Int("REPORT_RETENTION_DAYS", 30, 1, 3650)
	// Where an import's report links point; empty: the domain each request
	// came to (the API names this function, so it cannot name the API).
	publicBase := strings.TrimRight(env.Optional("PUBLIC_BASE_URL", ""), "/")
	// The ingest function's limit: upload URLs are made for no larger file.
	maxMB := env.Int("IMPORT_MAX_MB", 50, 1, 1024)
	keyFile, keyID := env.Optional("SIGNING_KEY_FILE", ""), env.Optional("SIGNING_KEY_ID", "")
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
	store := ddb.New(db, table, time.Now)
	// The deployment's key, which signs the report links (the ingest
	// function makes the summary emails' with it).
	linkKey, err := store.CursorKey(ctx)
	if err != nil {
		config.Fail(log, err)
	}
	router := httpapi.NewRouter(log, authtoken.NewVerifier(issuer, key))
	(&importapi.Routes{Orgs: &org.Service{Store: store, Now: time.Now}, Jobs: store, Objects: objects.FromConfig(cfg, bucket), Now: time.Now,
		Links: importjob.NewReportLinks(linkKey, publicBase, reportDays), PublicBaseURL: publicBase,
		ReportRetention: time.Duration(reportDays) * 24 * time.Hour, MaxBytes: int64(maxMB) << 20}).Register(router)
	lambda.Start(router.Handle)
}

// Command imports serves the roster import routes: the template to fill in,
// the upload URL of a new import, an import's status, and its report.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"onboarding/shared/authtoken"
	"onboarding/shared/config"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/importapi"
	"onboarding/shared/importjob"
	"onboarding/shared/objects"
	"onboarding/shared/org"
	"onboarding/shared/signer"
)

func main() {
	ctx := context.Background()
	log, env := config.Logger(), &config.Env{}
	clients := config.NewClients(env)
	bucket := env.Required("BUCKET_NAME")
	issuer := env.Required("TOKEN_ISSUER")
	reportDays := env.Int("REPORT_RETENTION_DAYS", 30, 1, 3650)
	// Where an import's report links point.
	publicBase := env.PublicBaseURL(config.RequestDomain)
	// The ingest function's limit: upload URLs are made for no larger file.
	maxMB := env.Int("IMPORT_MAX_MB", 50, 1, 1024)
	keyFile, keyID := env.Optional("SIGNING_KEY_FILE", ""), env.Optional("SIGNING_KEY_ID", "")
	config.Check(env.Err())
	_, key, err := signer.Load(ctx, keyFile, kms.NewFromConfig(clients.AWS), keyID)
	config.Check(err)
	store := clients.Store()
	// The deployment's key, which signs the report links (the ingest
	// function makes the summary emails' with it).
	linkKey := config.Must(store.CursorKey(ctx))
	router := httpapi.NewRouter(log, authtoken.NewVerifier(issuer, key))
	(&importapi.Routes{Orgs: &org.Service{Store: store, Now: time.Now}, Jobs: store, Objects: objects.FromConfig(clients.AWS, bucket), Now: time.Now,
		Links: importjob.NewReportLinks(linkKey, publicBase, reportDays), PublicBaseURL: publicBase,
		ReportRetention: time.Duration(reportDays) * 24 * time.Hour, MaxBytes: int64(maxMB) << 20}).Register(router)
	lambda.Start(router.Handle)
}

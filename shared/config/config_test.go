package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/config"
	"onboarding/shared/objects"
)

func setAWS(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-north-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	for _, s := range []string{"", "_DYNAMODB", "_SESV2", "_KMS", "_LAMBDA", "_S3"} {
		t.Setenv("AWS_ENDPOINT_URL"+s, "")
	}
}

// endpoints are the endpoints of the clients the mains build, plainly from
// the configuration.
func endpoints(cfg aws.Config) map[string]string {
	return map[string]string{
		"DYNAMODB": aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint),
		"SESV2":    aws.ToString(sesv2.NewFromConfig(cfg).Options().BaseEndpoint),
		"KMS":      aws.ToString(kms.NewFromConfig(cfg).Options().BaseEndpoint),
		"LAMBDA":   aws.ToString(lambda.NewFromConfig(cfg).Options().BaseEndpoint),
		"S3":       aws.ToString(objects.FromConfig(cfg, "files").Client.Options().BaseEndpoint),
	}
}

// Every client built from the configuration goes where the runner's
// AWS_ENDPOINT_URL_<SERVICE> says, with no option of its own; a service
// the runner names no endpoint for goes to AWS_ENDPOINT_URL, else to AWS.
func TestClientsTakeTheEndpointOverrides(t *testing.T) {
	setAWS(t)
	env := &config.Env{}
	if got := endpoints(config.AWS(env)); got["DYNAMODB"] != "" || got["S3"] != "" {
		t.Fatalf("no override, yet %v", got)
	}
	want := map[string]string{"DYNAMODB": "http://127.0.0.1:8000", "SESV2": "http://127.0.0.1:8005",
		"KMS": "http://127.0.0.1:8010", "LAMBDA": "http://127.0.0.1:3001", "S3": "http://127.0.0.1:9000"}
	for service, url := range want {
		t.Setenv("AWS_ENDPOINT_URL_"+service, url)
	}
	cfg := config.AWS(env)
	if got := endpoints(cfg); !equal(got, want) {
		t.Fatalf("endpoints %v, want %v", got, want)
	}
	if !objects.FromConfig(cfg, "files").Client.Options().UsePathStyle {
		t.Fatal("S3 under an override is not path-style")
	}
	t.Setenv("AWS_ENDPOINT_URL_KMS", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	if got := endpoints(config.AWS(env)); got["KMS"] != "http://127.0.0.1:4566" || got["DYNAMODB"] != want["DYNAMODB"] {
		t.Fatalf("endpoints %v", got)
	}
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Functions with no request need PUBLIC_BASE_URL; the HTTP ones fall back
// to the request's domain when it is empty.
func TestPublicBaseURL(t *testing.T) {
	t.Setenv("PUBLIC_BASE_URL", "")
	env := &config.Env{}
	if got := env.PublicBaseURL(config.RequestDomain); got != "" || env.Err() != nil {
		t.Fatalf("%q %v", got, env.Err())
	}
	env.PublicBaseURL(config.NoFallback)
	if err := env.Err(); err == nil || !strings.Contains(err.Error(), "PUBLIC_BASE_URL is not set") {
		t.Fatalf("missing, yet %v", err)
	}
	t.Setenv("PUBLIC_BASE_URL", " https://onboarding.example/ ")
	for _, f := range []config.BaseURLFallback{config.NoFallback, config.RequestDomain} {
		env := &config.Env{}
		if got := env.PublicBaseURL(f); got != "https://onboarding.example" || env.Err() != nil {
			t.Fatalf("%q %v", got, env.Err())
		}
	}
}

func TestStoreKeepsAuditEntriesAsConfigured(t *testing.T) {
	setAWS(t)
	t.Setenv("TABLE_NAME", "tbl")
	t.Setenv("AUDIT_RETENTION_DAYS", "30")
	env := &config.Env{}
	clients := config.NewClients(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	if got := clients.Store().AuditRetention; got != 30*24*time.Hour {
		t.Fatalf("audit retention %v", got)
	}
	t.Setenv("TABLE_NAME", "")
	t.Setenv("AUDIT_RETENTION_DAYS", "0")
	env = &config.Env{}
	config.NewClients(env)
	if err := env.Err(); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") || !strings.Contains(err.Error(), "AUDIT_RETENTION_DAYS") {
		t.Fatalf("%v", err)
	}
}

// Package testenv connects tests to the real local counterparts of the AWS
// services (DynamoDB Local, the SES v2 emulator) that `make test` starts.
// Integration tests are skipped only under -short; otherwise an emulator that
// is not reachable fails the test, so CI can never pass without running them.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"onboarding/infra/local"
	"onboarding/infra/samtemplate"
)

// Endpoints of the emulators, overridable by environment like the runner's.
func DynamoDBEndpoint() string { return env("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000") }
func SESEndpoint() string      { return env("SES_ENDPOINT", "http://127.0.0.1:8005") }
func KMSEndpoint() string      { return env("KMS_ENDPOINT", "http://127.0.0.1:8010") }

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Integration skips t under -short and otherwise marks it as needing the
// emulators.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the emulators (run without -short, via make test)")
	}
}

// AWSConfig is a config for local emulators: fixed region and dummy keys.
func AWSConfig() aws.Config { return local.AWSConfig() }

// DynamoDBClient returns a client for DynamoDB Local.
func DynamoDBClient() *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(DynamoDBEndpoint())
	})
}

// S3Client returns a client for the runner's S3 at url, signing with the
// account's own (not a function's) credentials.
func S3Client(url string) *s3.Client {
	return s3.NewFromConfig(AWSConfig(), func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(url), true
	})
}

// RepoRoot is the module root (where template.yaml is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Table creates a fresh table from template.yaml in DynamoDB Local and drops
// it when the test ends. It has no stream (see local.Config.NoStream).
func Table(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	Integration(t)
	client := DynamoDBClient()
	name := "test-" + RandomID()
	if err := CreateTable(context.Background(), client, name); err != nil {
		t.Fatalf("DynamoDB Local at %s: %v (start it with `make emulators`)", DynamoDBEndpoint(), err)
	}
	t.Cleanup(func() {
		client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
	})
	return client, name
}

// CreateTable creates the template's table under name (if absent), with TTL
// and without its stream.
func CreateTable(ctx context.Context, client *dynamodb.Client, name string) error {
	tpl, err := samtemplate.Load(filepath.Join(RepoRoot(), "template.yaml"))
	if err != nil {
		return err
	}
	return local.CreateTable(ctx, client, tpl, "Table", name, false)
}

// RandomID returns 8 random hex characters.
func RandomID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Email is one message as the SES v2 emulator stores it.
type Email struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	At          int64 `json:"at"`
	Attachments []struct {
		FileName    string `json:"filename"`
		ContentType string `json:"contentType"`
		Content     string `json:"content"` // base64
	} `json:"attachments"`
}

// Emails returns the messages the SES emulator holds for one recipient.
func Emails(t testing.TB, to string) []Email {
	t.Helper()
	var out []Email
	for _, e := range AllEmails(t) {
		for _, d := range e.Destination.To {
			if d == to {
				out = append(out, e)
			}
		}
	}
	return out
}

// AllEmails returns every message the SES emulator holds.
func AllEmails(t testing.TB) []Email {
	t.Helper()
	res, err := http.Get(SESEndpoint() + "/store")
	if err != nil {
		t.Fatalf("SES emulator at %s: %v (start it with `make emulators`)", SESEndpoint(), err)
	}
	defer res.Body.Close()
	var store struct {
		Emails []Email `json:"emails"`
	}
	if err := json.NewDecoder(res.Body).Decode(&store); err != nil {
		t.Fatalf("decode SES store: %v", err)
	}
	return store.Emails
}

// WaitForEmails polls the SES emulator until n messages for to arrived.
func WaitForEmails(t testing.TB, to string, n int) []Email {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := Emails(t, to)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d emails to %s, have %d", n, to, len(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package objects_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"onboarding/shared/objects"
)

// An upload URL signs the file's size as Content-Length: S3 checks the
// signature, so a PUT of any other length is refused.
func TestUploadURLSignsTheSize(t *testing.T) {
	client := s3.New(s3.Options{Region: "eu-north-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "token"),
		BaseEndpoint: aws.String("https://s3.eu-north-1.amazonaws.com")})
	link, err := objects.New(client, "files").PresignPut(context.Background(), "imports/o1/i1/roster.csv", 12345, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	if got := u.Query().Get("X-Amz-SignedHeaders"); got != "content-length;host" {
		t.Fatalf("signed headers %q in %s", got, link)
	}
	if u.Query().Get("X-Amz-Expires") != "900" {
		t.Fatalf("expiry in %s", link)
	}
}

// Exists finds exactly the key it is given: not a key that only starts
// with it, nor a missing one.
func TestExistsFindsTheKeyOnly(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("files"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	client := s3.New(s3.Options{Region: "eu-north-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint: aws.String(srv.URL), UsePathStyle: true})
	bucket := objects.New(client, "files")
	ctx := context.Background()
	if err := bucket.Put(ctx, "imports/o1/i1/roster.csv.bak", "text/csv", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"imports/o1/i1/roster.csv": false, "imports/o1/i1/roster.csv.bak": true, "imports/o1/i1/roster": false} {
		if got, err := bucket.Exists(ctx, key); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", key, got, err, want)
		}
	}
	if err := bucket.Put(ctx, "imports/o1/i1/roster.csv", "text/csv", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := bucket.Exists(ctx, "imports/o1/i1/roster.csv"); err != nil || !got {
		t.Errorf("once uploaded: %v %v", got, err)
	}
}

package objects_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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

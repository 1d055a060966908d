package local

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"onboarding/infra/samtemplate"
)

// The S3 gateway checks a presigned URL's signature with the secret of the
// function that signed it, as S3 does: a PUT of another length than the one
// signed, or a URL changed in any part, is refused; what was not signed
// (the length of an upload presigned without one) may vary.
func TestPresignedURLsAreVerified(t *testing.T) {
	iam := NewIAM()
	fn := iam.Issue(samtemplate.Function{Name: "ImportsFunction", Policies: []samtemplate.Statement{
		{Effect: "Allow", Actions: []string{"s3:PutObject", "s3:GetObject"}, Resources: []string{"arn:aws:s3:::files/*"}},
	}}, "000000000000")
	reached := 0
	g := &gateway{service: "s3", iam: iam, classify: arns{account: "000000000000"}.classifyS3, deny: denyS3, now: time.Now,
		log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ })}
	srv := httptest.NewServer(g)
	defer srv.Close()
	presigner := func(key, secret string) *s3.PresignClient {
		return s3.NewPresignClient(s3.New(s3.Options{Region: Region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, fn.Token),
			BaseEndpoint: aws.String(srv.URL), UsePathStyle: true}))
	}
	ctx := context.Background()
	put := func(size *int64) string {
		req, err := presigner(fn.AccessKey, fn.SecretKey).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("files"),
			Key: aws.String("imports/o1/i1/roster.csv"), ContentLength: size}, s3.WithPresignExpires(15*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return req.URL
	}
	get, err := presigner(fn.AccessKey, fn.SecretKey).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("files"),
		Key: aws.String("reports/o1/i1/report.csv")}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := presigner(fn.AccessKey, "not the secret").PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("files"),
		Key: aws.String("reports/o1/i1/report.csv")}, s3.WithPresignExpires(5*time.Minute))
	sized, unsized := put(aws.Int64(5)), put(nil)
	cases := []struct {
		name, method, url, body string
		want                    int
	}{
		{"the signed length", "PUT", sized, "12345", 200},
		{"a longer body", "PUT", sized, "123456", 403},
		{"a shorter body", "PUT", sized, "1234", 403},
		{"another key", "PUT", strings.Replace(sized, "roster.csv", "other.csv", 1), "12345", 403},
		{"no length signed", "PUT", unsized, "1234567", 200},
		{"a presigned GET", "GET", get.URL, "", 200},
		{"a GET made longer-lived", "GET", strings.Replace(get.URL, "X-Amz-Expires=300", "X-Amz-Expires=3600", 1), "", 403},
		{"another method", "DELETE", get.URL, "", 403},
		{"a wrong secret", "GET", forged.URL, "", 403},
	}
	for _, tc := range cases {
		before := reached
		req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want || (tc.want == 200) != (reached > before) {
			t.Errorf("%s: %d %s", tc.name, res.StatusCode, body)
		}
		if tc.want == 403 && !strings.Contains(string(body), "SignatureDoesNotMatch") {
			t.Errorf("%s: %s", tc.name, body)
		}
	}
}

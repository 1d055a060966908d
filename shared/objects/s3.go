// Package objects is the S3 adapter: reading uploads, writing reports, and
// presigned URLs for both. Errors mask keys (a file dropped into the bucket
// may be named after a person).
package objects

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"onboarding/shared/redact"
)

// S3 is one bucket.
type S3 struct {
	Client  *s3.Client
	Presign *s3.PresignClient
	Bucket  string
}

// New returns the bucket's adapter.
func New(client *s3.Client, bucket string) *S3 {
	return &S3{Client: client, Presign: s3.NewPresignClient(client), Bucket: bucket}
}

// FromConfig returns the adapter of bucket with a client from cfg
// (config.AWS), path-style where an endpoint override points it elsewhere
// than AWS: the local emulator has no virtual hosts.
func FromConfig(cfg aws.Config, bucket string) *S3 {
	return New(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }), bucket)
}

// Get opens one version of an object ("" for the latest).
func (b *S3) Get(ctx context.Context, key, version string) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: &b.Bucket, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	out, err := b.Client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.Bucket, redact.Text(key), err)
	}
	return out.Body, nil
}

// Exists says whether key holds an object. It lists the key rather than
// reading it: listing needs only s3:ListBucket (and tells a missing key
// from a forbidden one), so a caller that only asks never reads a file.
func (b *S3) Exists(ctx context.Context, key string) (bool, error) {
	out, err := b.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b.Bucket, Prefix: &key, MaxKeys: aws.Int32(1)})
	if err != nil {
		return false, fmt.Errorf("list s3://%s/%s: %w", b.Bucket, redact.Text(key), err)
	}
	// The key itself sorts first among the keys it prefixes.
	return len(out.Contents) > 0 && aws.ToString(out.Contents[0].Key) == key, nil
}

// Put writes an object.
func (b *S3) Put(ctx context.Context, key, contentType string, body []byte) error {
	_, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.Bucket, Key: &key, ContentType: &contentType,
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", b.Bucket, redact.Text(key), err)
	}
	return nil
}

// PresignGet returns a URL that reads key for ttl.
func (b *S3) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := b.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.Bucket, Key: &key}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", redact.Text(key), err)
	}
	return req.URL, nil
}

// PresignPut returns a URL that uploads key, of exactly size bytes, for
// ttl: the size is signed as Content-Length, so S3 refuses any other.
func (b *S3) PresignPut(ctx context.Context, key string, size int64, ttl time.Duration) (string, error) {
	req, err := b.Presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b.Bucket, Key: &key, ContentLength: &size},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign put %s: %w", redact.Text(key), err)
	}
	return req.URL, nil
}

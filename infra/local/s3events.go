package local

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/redact"
)

// uploadTarget is a function notified of objects created in the bucket.
type uploadTarget struct {
	fn             *Function
	prefix, suffix string
}

// s3Notifier sits in front of the S3 emulator and does what S3 event
// notifications do: after an object is created by a PUT, it invokes each
// matching function asynchronously with an ObjectCreated:Put event.
type s3Notifier struct {
	next    http.Handler
	bucket  string
	targets []uploadTarget
	log     *slog.Logger
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (n *s3Notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	size := r.ContentLength
	n.next.ServeHTTP(rec, r)
	q := r.URL.Query()
	if r.Method != http.MethodPut || rec.status != http.StatusOK || q.Has("uploadId") || q.Has("partNumber") ||
		r.Header.Get("X-Amz-Copy-Source") != "" {
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || bucket != n.bucket || key == "" {
		return
	}
	etag := strings.Trim(rec.Header().Get("ETag"), `"`)
	version := rec.Header().Get("X-Amz-Version-Id")
	for _, t := range n.targets {
		if !strings.HasPrefix(key, t.prefix) || !strings.HasSuffix(key, t.suffix) {
			continue
		}
		payload := s3Event(bucket, key, etag, version, size)
		go func(fn *Function) {
			ctx, cancel := context.WithTimeout(context.Background(), fn.cfg.Timeout+time.Minute)
			defer cancel()
			if _, err := fn.Invoke(ctx, payload); err != nil {
				n.log.Error("S3 notification: the function failed", "function", fn.Name(), "key", redact.Text(key), "error", err)
			}
		}(t.fn)
	}
}

// s3Event is an S3 ObjectCreated:Put notification, shaped as S3 sends it
// (the key URL-encoded).
func s3Event(bucket, key, etag, version string, size int64) []byte {
	escaped := strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
	ev := events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: Region, EventTime: time.Now().UTC(),
		EventName: "ObjectCreated:Put",
		S3: events.S3Entity{
			SchemaVersion: "1.0", ConfigurationID: "local",
			Bucket: events.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
			Object: events.S3Object{Key: escaped, Size: size, ETag: etag, VersionID: version, Sequencer: time.Now().Format("20060102150405.000000000")},
		},
	}}}
	b, _ := json.Marshal(ev)
	return b
}

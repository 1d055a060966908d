// Package config is what every function's main needs before it can build a
// handler: environment variables read once (failing fast with every missing
// name at once), the JSON logger, the AWS SDK configuration (which points
// every client at its endpoint override) and the table's store (Clients).
package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"onboarding/shared/redact"
)

// Env reads environment variables and remembers what was wrong.
type Env struct{ problems []string }

// Required returns a variable that must be set.
func (e *Env) Required(name string) string {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		e.problems = append(e.problems, name+" is not set")
	}
	return v
}

// Optional returns a variable, or def when it is unset.
func (e *Env) Optional(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Int returns an integer variable within [min, max], or def when unset.
func (e *Env) Int(name string, def, min, max int) int {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q is not a whole number from %d to %d", name, s, min, max))
		return def
	}
	return n
}

// Days returns a whole number of days within [min, max] (def when unset)
// as a duration: lifetimes and retention periods.
func (e *Env) Days(name string, def, min, max int) time.Duration {
	return time.Duration(e.Int(name, def, min, max)) * 24 * time.Hour
}

// Under is path under base, or "" when base is (no PUBLIC_BASE_URL: the
// handler links under the domain each request came to).
func Under(base, path string) string {
	if base == "" {
		return ""
	}
	return base + path
}

// BaseURLFallback is what a function's links start with when
// PUBLIC_BASE_URL is empty.
type BaseURLFallback int

const (
	// NoFallback: functions that no request starts (ingest, sweep,
	// provision) have no other address to give, so the variable is
	// required (the template sets it to the API's URL when the stack's
	// PublicBaseUrl is empty).
	NoFallback BaseURLFallback = iota
	// RequestDomain: the HTTP functions may leave it empty and link to the
	// domain API Gateway received each request on (the template cannot
	// give them the API's URL: the API names them, a cycle).
	RequestDomain
)

// PublicBaseURL reads PUBLIC_BASE_URL, the public address the links in
// emails and reports start with, without a trailing slash; "" only with
// RequestDomain.
func (e *Env) PublicBaseURL(fallback BaseURLFallback) string {
	if fallback == RequestDomain {
		return strings.TrimRight(e.Optional("PUBLIC_BASE_URL", ""), "/")
	}
	return strings.TrimRight(e.Required("PUBLIC_BASE_URL"), "/")
}

// Err reports every problem found, or nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %s", strings.Join(e.problems, "; "))
}

// Logger returns the JSON logger every function uses, at the level Lambda's
// logging configuration asks for, with email addresses, phone numbers and
// tokens masked in every line (redact.Handler: errors quote keys, request
// data and recipients). It also becomes the default logger, so what the
// Lambda runtime library prints with the log package (an error a handler
// returns, a panic) is masked too, and logged as an error.
func Logger() *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToUpper(os.Getenv("AWS_LAMBDA_LOG_LEVEL")) {
	case "DEBUG", "TRACE":
		level = slog.LevelDebug
	case "WARN":
		level = slog.LevelWarn
	case "ERROR", "FATAL":
		level = slog.LevelError
	}
	log := slog.New(redact.NewHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})))
	slog.SetDefault(log)
	slog.SetLogLoggerLevel(slog.LevelError)
	return log
}

// AWS returns the SDK configuration from the environment Lambda provides:
// AWS_REGION and the execution role's AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. It deliberately skips the
// SDK's default chain (shared config files, SSO, web identity, IMDS), which
// a Lambda never uses and which costs 4 to 5 ms of every cold start. A
// client built from it is pointed at its service's endpoint override, as
// the default chain would point it (see Endpoint), with no option of its
// own.
func AWS(e *Env) aws.Config {
	region := e.Required("AWS_REGION")
	id := e.Required("AWS_ACCESS_KEY_ID")
	secret := e.Required("AWS_SECRET_ACCESS_KEY")
	return aws.Config{
		Region:        region,
		Credentials:   credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
		BaseEndpoint:  endpoint("AWS_ENDPOINT_URL"),
		ConfigSources: []any{overrides{}},
	}
}

// Endpoint is a service's endpoint override, as the SDK's own
// AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL variables give it (the
// local runner points the clients at the emulators this way), or nil.
func Endpoint(service string) *string {
	if v := endpoint("AWS_ENDPOINT_URL_" + strings.ToUpper(service)); v != nil {
		return v
	}
	return endpoint("AWS_ENDPOINT_URL")
}

func endpoint(name string) *string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return &v
	}
	return nil
}

// overrides gives each client its service's AWS_ENDPOINT_URL_<SERVICE>:
// a client asks its configuration's sources for it by the service's SDK id
// ("DynamoDB", "SESv2"), as it asks the default chain's environment source.
type overrides struct{}

func (overrides) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if v := Endpoint(strings.ReplaceAll(sdkID, " ", "_")); v != nil {
		return *v, true, nil
	}
	return "", false, nil
}

// Check exits through Fail, with the logger Logger made, when err is not
// nil; only main calls it (so do Must).
func Check(err error) {
	if err != nil {
		Fail(slog.Default(), err)
	}
}

// Must returns v, or exits as Check does.
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// Fail prints a start-up error and exits; only main calls it.
func Fail(log *slog.Logger, err error) {
	log.Error("cannot start", "error", err.Error())
	os.Exit(1)
}

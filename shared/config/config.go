// Package config is what every function's main needs before it can build a
// handler: environment variables read once (failing fast with every missing
// name at once), the JSON logger, the AWS SDK configuration and the token
// signer.
package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"onboarding/shared/authtoken"
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

// Err reports every problem found, or nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %s", strings.Join(e.problems, "; "))
}

// Logger returns the JSON logger every function uses, at the level Lambda's
// logging configuration asks for.
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
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// AWS loads the SDK configuration from the environment (Lambda's role and
// region; locally the runner's AWS_ENDPOINT_URL_* variables point the
// clients at the emulators).
func AWS(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// Signer returns the token signer: a key file when SIGNING_KEY_FILE is set
// (the local runner), else the KMS key SIGNING_KEY_ID.
func Signer(e *Env, cfg aws.Config) (authtoken.Signer, error) {
	if path := e.Optional("SIGNING_KEY_FILE", ""); path != "" {
		key, err := authtoken.LoadOrCreateKeyFile(path)
		if err != nil {
			return nil, fmt.Errorf("signing key file: %w", err)
		}
		return authtoken.KeySigner{Key: key}, nil
	}
	keyID := e.Required("SIGNING_KEY_ID")
	return &authtoken.KMSSigner{Client: kms.NewFromConfig(cfg), KeyID: keyID}, nil
}

// Fail prints a start-up error and exits; only main calls it.
func Fail(log *slog.Logger, err error) {
	log.Error("cannot start", "error", err.Error())
	os.Exit(1)
}

// Command runner runs the whole service locally on the real bootstrap
// binaries: the HTTP API, the Lambda Invoke API and S3, over DynamoDB Local
// and the SES v2 emulator (which `make dev` starts first). See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"onboarding/infra/local"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "org":
			os.Exit(orgCommand(os.Args[2:]))
		case "sweep":
			os.Exit(sweepCommand(os.Args[2:]))
		}
	}
	home, _ := os.UserHomeDir()
	cache := env("ONBOARDING_CACHE", filepath.Join(home, ".cache", "onboarding"))
	cfg := local.Config{Parameters: map[string]any{}}
	flag.StringVar(&cfg.Template, "template", "template.yaml", "SAM template")
	flag.StringVar(&cfg.BuildDir, "build", "build", "folder with <function>/bootstrap (make build)")
	flag.StringVar(&cfg.StateDir, "state", env("ONBOARDING_STATE", filepath.Join(cache, "state")), "local state (signing key)")
	flag.StringVar(&cfg.Table, "table", env("TABLE_NAME", "onboarding-local"), "DynamoDB table name")
	flag.StringVar(&cfg.APIAddr, "api", "127.0.0.1:"+env("API_PORT", "3000"), "HTTP API address")
	flag.StringVar(&cfg.InvokeAddr, "invoke", "127.0.0.1:"+env("INVOKE_PORT", "3001"), "Lambda Invoke API address")
	flag.StringVar(&cfg.S3Addr, "s3", "127.0.0.1:"+env("S3_PORT", "9000"), "S3 address")
	flag.StringVar(&cfg.DynamoDBEndpoint, "dynamodb", env("DYNAMODB_ENDPOINT", "http://127.0.0.1:"+env("DYNAMODB_PORT", "8000")), "DynamoDB Local endpoint")
	flag.StringVar(&cfg.SESEndpoint, "ses", env("SES_ENDPOINT", "http://127.0.0.1:"+env("SES_PORT", "8005")), "SES v2 emulator endpoint")
	flag.StringVar(&cfg.KMSEndpoint, "kms", env("KMS_ENDPOINT", "http://127.0.0.1:"+env("KMS_PORT", "8010")), "KMS endpoint holding the token signing key (moto); empty: a key file")
	flag.IntVar(&cfg.MaxConcurrency, "concurrency", 10, "processes per function at most")
	flag.DurationVar(&cfg.ScheduleEvery, "schedule-every", envDuration("SCHEDULE_EVERY"), "fire every schedule at this interval instead of the template's rate (e.g. 1m)")
	flag.DurationVar(&cfg.StreamPollEvery, "stream-every", envDuration("STREAM_EVERY"), "how often the stream poller reads an idle shard (default 250ms)")
	publicBase := flag.String("public-base-url", os.Getenv("PUBLIC_BASE_URL"), "public base URL for links (default: the HTTP API's URL)")
	flag.Parse()
	if *publicBase != "" {
		cfg.Parameters["PublicBaseUrl"] = *publicBase
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "runner")
	cfg.FunctionOutput = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stack, err := local.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		os.Exit(1)
	}
	defer stack.Close()
	fmt.Fprintf(os.Stderr, `
The onboarding service is running locally.

  HTTP API          %s        (hosted accept page: %s/accept)
  Lambda Invoke API %s        (aws lambda invoke --endpoint-url %s ...)
  S3                %s        (bucket %s)
  DynamoDB Local    %s  (table %s)
  SES v2 emulator   %s        (open it in a browser to read sent mail)
  IAM               every AWS call a function makes is checked against its role in the template;
                    a denied one is logged here as "IAM: access denied"
%s
Next: create an organisation and its first admin, in another terminal:

  make org NAME="Acme Care" ADMIN=you@example.com

then open the invitation email in the SES emulator and follow its link.
Stop with Ctrl-C.
`, stack.APIURL, stack.APIURL, stack.InvokeURL, stack.InvokeURL, stack.S3URL, stack.Bucket,
		cfg.DynamoDBEndpoint, cfg.Table, cfg.SESEndpoint, schedules(stack))
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "runner: stopping")
}

func envDuration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

// schedules lists the schedules the runner fires and the streams it
// polls, for the banner.
func schedules(stack *local.Stack) string {
	var b strings.Builder
	for _, e := range stack.Scheduler.Entries {
		now := ""
		if e.Function.Name() == "SweepFunction" {
			now = "; now: make sweep"
		}
		fmt.Fprintf(&b, "  Schedule          %s every %s (%s%s)\n", e.Function.Name(), e.Every, e.Schedule.Name, now)
	}
	for _, p := range stack.Pollers {
		every := p.Every
		if every <= 0 {
			every = 250 * time.Millisecond
		}
		fmt.Fprintf(&b, "  Table stream      %s, polled every %s (failed batches: <state>/stream-failures/)\n", p.Function.Name(), every)
	}
	return b.String()
}

package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"onboarding/infra/samtemplate"
)

// Region is the region everything local pretends to be in.
const Region = "eu-north-1"

// Config is how to run the stack locally.
type Config struct {
	Template string // path to template.yaml
	BuildDir string // holds <function>/bootstrap, as `make build` writes them
	StateDir string // signing key and other local state

	Table string // local table name
	// Bucket is the bucket's name when the template gives it none (the
	// template's BucketName wins: the functions name the bucket by it).
	Bucket string

	APIAddr    string // HTTP API, e.g. 127.0.0.1:3000
	InvokeAddr string // Lambda Invoke API, e.g. 127.0.0.1:3001
	S3Addr     string // S3, e.g. 127.0.0.1:9000

	DynamoDBEndpoint string
	SESEndpoint      string
	// KMSEndpoint is a KMS API (moto's, locally) that holds the key access
	// tokens are signed with, as in AWS; each function's use of it is then
	// checked against its role. Empty: the functions sign with a key file
	// in StateDir instead, and no KMS call is made or checked.
	KMSEndpoint string

	// Parameters override template parameter defaults.
	Parameters map[string]any
	// MaxConcurrency per function (default 10).
	MaxConcurrency int
	// NoStream creates the table without its DynamoDB stream. DynamoDB Local
	// keeps every stream record (across tables, for a day) and each write
	// gets slower as they pile up, so tests that consume no stream leave it
	// off.
	NoStream bool
	// ScheduleEvery, when set, fires every schedule at this interval
	// instead of its rate in the template (e.g. every minute in dev).
	ScheduleEvery time.Duration
	// StreamPollEvery is how often the stream poller reads an idle shard
	// (default 250 ms, as Lambda polls four times a second).
	StreamPollEvery time.Duration

	// Now is the clock presigned URLs are checked against (default time.Now).
	Now func() time.Time

	Log            *slog.Logger
	FunctionOutput io.Writer // the functions' own logs (default stderr)
}

// Stack is the running local system.
type Stack struct {
	Functions map[string]*Function
	Scheduler *Scheduler
	Pollers   []*StreamPoller // one per stream event source
	IAM       *IAM            // the functions' roles, checked on every AWS call they make
	// DynamoDBURL and SESURL are the gateways the functions reach the
	// emulators through.
	DynamoDBURL, SESURL, KMSURL string
	Table                       string // the table's name
	Bucket                      string // the bucket's name
	APIURL                      string
	InvokeURL                   string
	S3URL                       string

	servers []*http.Server
	stop    context.CancelFunc
	faults  faults
}

// Start creates the table, starts the S3 emulator and serves the HTTP and
// Invoke APIs over the template's functions.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	tpl, err := samtemplate.Load(cfg.Template)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(AWSConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(cfg.DynamoDBEndpoint) })
	if err := CreateTable(ctx, ddb, tpl, "Table", cfg.Table, !cfg.NoStream); err != nil {
		return nil, fmt.Errorf("create table in DynamoDB Local at %s: %w", cfg.DynamoDBEndpoint, err)
	}
	streamARN := ""
	if !cfg.NoStream {
		desc, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(cfg.Table)})
		if err != nil {
			return nil, err
		}
		streamARN = aws.ToString(desc.Table.LatestStreamArn)
	}

	s := &Stack{Functions: map[string]*Function{}, Table: cfg.Table, faults: faults{rules: map[string][]*faultRule{}}}
	lnAPI, err := listen(cfg.APIAddr)
	if err != nil {
		return nil, err
	}
	s.APIURL = "http://" + lnAPI.Addr().String()
	lnInvoke, err := listen(cfg.InvokeAddr)
	if err != nil {
		return nil, err
	}
	s.InvokeURL = "http://" + lnInvoke.Addr().String()
	params := map[string]any{"PublicBaseUrl": s.APIURL, "Stage": "dev"}
	for k, v := range cfg.Parameters {
		params[k] = v
	}
	signingKey := "local-signing-key"
	if cfg.KMSEndpoint != "" {
		if signingKey, err = ensureSigningKey(ctx, cfg.KMSEndpoint, cfg.StateDir); err != nil {
			return nil, fmt.Errorf("the signing key in KMS at %s: %w", cfg.KMSEndpoint, err)
		}
	}
	rc := samtemplate.Context{
		Parameters: params,
		Refs:       map[string]string{"Table": cfg.Table, "Bucket": cfg.Bucket, "SigningKey": signingKey, "HttpApi": "local"},
		Attrs: map[string]string{
			"Table.Arn": "arn:aws:dynamodb:" + Region + ":000000000000:table/" + cfg.Table, "Bucket.Arn": "arn:aws:s3:::" + cfg.Bucket,
			"SigningKey.Arn": "arn:aws:kms:" + Region + ":000000000000:key/" + signingKey,
		},
		Pseudo: map[string]string{"AWS::Region": Region, "AWS::StackName": "onboarding-local", "AWS::AccountId": "000000000000",
			"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"},
	}
	// The bucket's name, as the template gives it (functions name it so).
	if b, ok := tpl.Resources["Bucket"]; ok && b.Properties["BucketName"] != nil {
		name, err := tpl.Resolve(b.Properties["BucketName"], rc)
		if err != nil {
			return nil, fmt.Errorf("bucket name: %w", err)
		}
		cfg.Bucket = fmt.Sprint(name)
		rc.Refs["Bucket"] = cfg.Bucket
		rc.Attrs["Bucket.Arn"] = "arn:aws:s3:::" + cfg.Bucket
	}
	s.Bucket = cfg.Bucket
	if streamARN != "" {
		rc.Attrs["Table.StreamArn"] = streamARN
	}
	fns, err := tpl.Functions(rc)
	if err != nil {
		return nil, err
	}
	s.IAM = NewIAM()
	// Every AWS call a function makes goes through a gateway that checks it
	// against the function's role (iam.go): DynamoDB and SES in front of
	// their emulators, S3 and the Invoke API in front of the runner's own.
	account := rc.Pseudo["AWS::AccountId"]
	ids := arns{account: account}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	gate := func(service string, classify func(*http.Request, []byte) ([]Call, error), deny func(http.ResponseWriter, Denial), next http.Handler) *gateway {
		return &gateway{service: service, iam: s.IAM, classify: classify, deny: deny, next: next, log: cfg.Log, now: now, faults: &s.faults}
	}
	ddbProxy, err := proxyTo(cfg.DynamoDBEndpoint)
	if err != nil {
		return nil, err
	}
	sesProxy, err := proxyTo(cfg.SESEndpoint)
	if err != nil {
		return nil, err
	}
	ddbGate := gate("dynamodb", ids.classifyDynamoDB, denyJSON("com.amazon.coral.service#", http.StatusBadRequest), ddbProxy)
	ddbGate.forwardAs = "local"
	lnDDB, err := listen("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.serve(lnDDB, ddbGate)
	lnSES, err := listen("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.serve(lnSES, gate("ses", ids.classifySES, denySES, sesProxy))
	s.DynamoDBURL, s.SESURL = "http://"+lnDDB.Addr().String(), "http://"+lnSES.Addr().String()
	if cfg.KMSEndpoint != "" {
		kmsProxy, err := proxyTo(cfg.KMSEndpoint)
		if err != nil {
			return nil, err
		}
		lnKMS, err := listen("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		kmsGate := gate("kms", ids.classifyKMS, denyJSON("", http.StatusBadRequest), kmsProxy)
		kmsGate.forwardAs = "local"
		s.serve(lnKMS, kmsGate)
		s.KMSURL = "http://" + lnKMS.Addr().String()
	}

	// S3: an in-process emulator with the template's bucket.
	lnS3, err := listen(cfg.S3Addr)
	if err != nil {
		return nil, err
	}
	s.S3URL = "http://" + lnS3.Addr().String()
	backend := s3mem.New()
	if err := backend.CreateBucket(cfg.Bucket); err != nil && !errors.Is(err, gofakes3.ErrBucketAlreadyExists) {
		return nil, err
	}
	// Served once the functions it notifies are known.
	notifier := &s3Notifier{next: gofakes3.New(backend, gofakes3.WithAutoBucket(true)).Server(), bucket: cfg.Bucket, log: cfg.Log}

	keyFile := filepath.Join(cfg.StateDir, "signing-key.pem")
	api := &HTTPAPI{Log: cfg.Log, Domain: lnAPI.Addr().String()}
	s.Scheduler = &Scheduler{Log: cfg.Log}
	physical := map[string]string{}
	for _, f := range fns {
		env := f.Environment
		env["AWS_REGION"], env["AWS_DEFAULT_REGION"] = Region, Region
		role := s.IAM.Issue(f, account)
		env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"] = role.AccessKey, role.SecretKey, role.Token
		env["AWS_LAMBDA_FUNCTION_NAME"] = f.PhysicalName
		env["AWS_ENDPOINT_URL_DYNAMODB"] = s.DynamoDBURL
		env["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = s.DynamoDBURL
		env["AWS_ENDPOINT_URL_SESV2"] = s.SESURL
		env["AWS_ENDPOINT_URL_S3"] = s.S3URL
		env["AWS_ENDPOINT_URL_LAMBDA"] = s.InvokeURL
		if s.KMSURL != "" {
			env["AWS_ENDPOINT_URL_KMS"] = s.KMSURL
		} else {
			env["SIGNING_KEY_FILE"] = keyFile
		}
		// The SES emulator has no GetAccount and no limits.
		env["SES_FALLBACK_SEND_RATE"], env["SES_FALLBACK_DAILY_QUOTA"] = "50", "1000000"
		// Partner webhooks may point at this machine.
		env["PARTNER_ALLOW_LOOPBACK"] = "true"
		fn := NewFunction(FunctionConfig{
			Name: f.Name, Binary: filepath.Join(cfg.BuildDir, f.Dir, "bootstrap"), Env: env,
			Timeout: time.Duration(f.TimeoutSec) * time.Second, MemoryMB: f.MemoryMB,
			MaxConcurrency: maxConcurrency(cfg.MaxConcurrency, f.ReservedConcurrency), Output: cfg.FunctionOutput,
		}, cfg.Log)
		if _, err := os.Stat(fn.cfg.Binary); err != nil {
			return nil, fmt.Errorf("%s: %w (run `make build`)", f.Name, err)
		}
		s.Functions[f.Name] = fn
		physical[f.PhysicalName] = f.Name
		for _, r := range f.Routes {
			api.Routes = append(api.Routes, Route{Method: r.Method, Path: r.Path, Function: fn})
		}
		for _, u := range f.Uploads {
			if u.Bucket == "Bucket" {
				notifier.targets = append(notifier.targets, uploadTarget{fn: fn, prefix: u.Prefix, suffix: u.Suffix})
			}
		}
		for _, sc := range f.Schedules {
			every, err := ParseRate(sc.Expression)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			if cfg.ScheduleEvery > 0 {
				every = cfg.ScheduleEvery
			}
			s.Scheduler.Entries = append(s.Scheduler.Entries, Scheduled{Function: fn, Schedule: sc, Every: every})
		}
	}
	s.serve(lnAPI, api)
	s.serve(lnS3, gate("s3", ids.classifyS3, denyS3, notifier))
	s.serve(lnInvoke, gate("lambda", ids.classifyLambda, denyLambda, &InvokeAPI{Functions: s.Functions, Names: physical, Log: cfg.Log}))
	var schedCtx context.Context
	schedCtx, s.stop = context.WithCancel(context.Background())
	s.Scheduler.Run(schedCtx)
	if !cfg.NoStream {
		if err := s.startPollers(ctx, schedCtx, cfg, ddb, fns); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// startPollers starts a stream poller for each function that reads the
// table's stream.
func (s *Stack) startPollers(ctx, runCtx context.Context, cfg Config, ddb *dynamodb.Client, fns []samtemplate.Function) error {
	desc, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(cfg.Table)})
	if err != nil {
		return err
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	client := dynamodbstreams.NewFromConfig(AWSConfig(), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(cfg.DynamoDBEndpoint) })
	for _, f := range fns {
		for _, st := range f.Streams {
			if st.Table != "Table" || arn == "" {
				continue
			}
			p := &StreamPoller{Client: client, StreamArn: arn, Function: s.Functions[f.Name], Timeout: time.Duration(f.TimeoutSec) * time.Second,
				Mapping: st, Every: cfg.StreamPollEvery,
				FailureDir: filepath.Join(cfg.StateDir, "stream-failures"), Log: cfg.Log}
			s.Pollers = append(s.Pollers, p)
			go p.Run(runCtx)
		}
	}
	return nil
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

func (s *Stack) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
}

// Close stops the servers and every function process.
func (s *Stack) Close() {
	if s.stop != nil {
		s.stop()
	}
	for _, srv := range s.servers {
		srv.Close()
	}
	for _, f := range s.Functions {
		f.Close()
	}
}

// AWSConfig is an SDK config for the emulators: fixed region, dummy keys.
func AWSConfig() aws.Config {
	return aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}

// CreateTable creates the template's table under name (if absent) and
// enables TTL on it, as CloudFormation would; without its stream unless
// stream is set (see Config.NoStream).
func CreateTable(ctx context.Context, client *dynamodb.Client, tpl *samtemplate.Template, logicalID, name string, stream bool) error {
	def, err := tpl.Table(logicalID, name)
	if err != nil {
		return err
	}
	if !stream {
		def.Create.StreamSpecification = nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := client.CreateTable(ctx, def.Create); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table: %w", err)
		}
	}
	if def.TTLAttribute != "" {
		_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName: &name,
			TimeToLiveSpecification: &types.TimeToLiveSpecification{
				AttributeName: &def.TTLAttribute, Enabled: aws.Bool(true),
			},
		})
		// Enabling TTL twice is refused; the table already has it then.
		if err != nil && !isTTLAlreadyOn(err) {
			return fmt.Errorf("enable TTL: %w", err)
		}
	}
	return nil
}

func isTTLAlreadyOn(err error) bool {
	var ve interface{ ErrorMessage() string }
	return errors.As(err, &ve) && containsFold(ve.ErrorMessage(), "already enabled")
}

// maxConcurrency is the runner's bound on a function's processes, lowered to
// its reserved concurrency as Lambda would throttle it.
func maxConcurrency(runner, reserved int) int {
	if runner <= 0 {
		runner = 10
	}
	if reserved > 0 && reserved < runner {
		return reserved
	}
	return runner
}

// ensureSigningKey returns the id of the access-token signing key in KMS,
// an ECC_NIST_P256 SIGN_VERIFY key as the template makes it: the one named
// in stateDir if KMS still has it, else a new one.
func ensureSigningKey(ctx context.Context, endpoint, stateDir string) (string, error) {
	client := kms.NewFromConfig(AWSConfig(), func(o *kms.Options) { o.BaseEndpoint = aws.String(endpoint) })
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	file := filepath.Join(stateDir, "kms-signing-key-id")
	if b, err := os.ReadFile(file); err == nil {
		id := strings.TrimSpace(string(b))
		out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
		if err == nil && out.KeyMetadata.Enabled {
			return id, nil
		}
	}
	out, err := client.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify,
		Description: aws.String("access token signing key (local runner)")})
	if err != nil {
		return "", err
	}
	id := aws.ToString(out.KeyMetadata.KeyId)
	return id, os.WriteFile(file, []byte(id), 0o600)
}

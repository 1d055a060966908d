package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"onboarding/infra/local"
	"onboarding/infra/samtemplate"
	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/streams"
)

// fakeFunction answers stream batches as told, and records them.
type fakeFunction struct {
	mu      sync.Mutex
	batches [][]string // SKs of each batch
	answer  func(batch []events.DynamoDBEventRecord) ([]byte, error)
}

func (f *fakeFunction) Name() string { return "NotifyFunction" }

func (f *fakeFunction) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	var sks []string
	for _, r := range ev.Records {
		sks = append(sks, r.Change.Keys["SK"].String())
	}
	f.mu.Lock()
	f.batches = append(f.batches, sks)
	f.mu.Unlock()
	return f.answer(ev.Records)
}

func (f *fakeFunction) seen() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string{}, f.batches...)
}

// streamTable creates a table with its stream, as the template defines it,
// and returns the stream's ARN.
func streamTable(t *testing.T) (*dynamodb.Client, string, string) {
	t.Helper()
	testenv.Integration(t)
	client := testenv.DynamoDBClient()
	tpl, err := samtemplate.Load(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	name := "stream-" + testenv.RandomID()
	if err := local.CreateTable(context.Background(), client, tpl, "Table", name, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	desc, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return client, name, aws.ToString(desc.Table.LatestStreamArn)
}

func put(t *testing.T, c *dynamodb.Client, table, pk, sk string) {
	t.Helper()
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}}); err != nil {
		t.Fatal(err)
	}
}

func mapping() samtemplate.Stream {
	return samtemplate.Stream{BatchSize: 100, StartingPosition: "TRIM_HORIZON", ReportFailures: true, BisectOnError: true,
		MaximumRetryAttempts: 2, Filters: []string{`{"dynamodb":{"Keys":{"SK":{"S":[{"prefix":"MEMBER#"}]}}}}`}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The poller does what the event source mapping does: only records the
// filters let through, in order; a reported failure is retried from that
// record; a batch that keeps failing is split, and what still fails is
// written as an on-failure record, from which the records can be read back
// for a replay.
func TestStreamPollerAsAnEventSourceMapping(t *testing.T) {
	client, table, arn := streamTable(t)
	sc := dynamodbstreams.NewFromConfig(local.AWSConfig(), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(testenv.DynamoDBEndpoint()) })
	for i := range 4 {
		put(t, client, table, "ORG#o1", fmt.Sprintf("MEMBER#u%d", i))
		put(t, client, table, "ORG#o1", fmt.Sprintf("AUDIT#%d", i))
	}
	failedOnce := false
	fn := &fakeFunction{answer: func(batch []events.DynamoDBEventRecord) ([]byte, error) {
		var res events.DynamoDBEventResponse
		for _, r := range batch {
			sk := r.Change.Keys["SK"].String()
			if sk == "MEMBER#u2" && !failedOnce {
				failedOnce = true
				res.BatchItemFailures = append(res.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			}
			if sk == "MEMBER#bad" {
				return nil, fmt.Errorf("cannot handle %s", sk)
			}
		}
		return json.Marshal(res)
	}}
	failures := t.TempDir()
	p := &local.StreamPoller{Client: sc, StreamArn: arn, Function: fn, Timeout: time.Second, Mapping: mapping(),
		Every: 50 * time.Millisecond, FailureDir: failures, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	waitFor(t, "two batches", func() bool { return len(fn.seen()) >= 2 })
	got := fn.seen()
	if !slices.Equal(got[0], []string{"MEMBER#u0", "MEMBER#u1", "MEMBER#u2", "MEMBER#u3"}) || !slices.Equal(got[1], []string{"MEMBER#u2", "MEMBER#u3"}) {
		t.Fatalf("batches %v", got)
	}

	// A record the function cannot handle, between two it can.
	put(t, client, table, "ORG#o2", "MEMBER#ok1")
	put(t, client, table, "ORG#o2", "MEMBER#bad")
	put(t, client, table, "ORG#o2", "MEMBER#ok2")
	var files []os.DirEntry
	waitFor(t, "the on-failure record", func() bool { files, _ = os.ReadDir(failures); return len(files) > 0 })
	b, _ := os.ReadFile(filepath.Join(failures, files[0].Name()))
	var rec struct {
		DDBStreamBatchInfo streams.BatchInfo
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	replayed, err := streams.ReadBatch(context.Background(), sc, rec.DDBStreamBatchInfo)
	if err != nil {
		t.Fatal(err)
	}
	var sks []string
	for _, r := range replayed {
		sks = append(sks, r.Change.Keys["SK"].String())
	}
	if !slices.Equal(sks, []string{"MEMBER#bad"}) {
		t.Fatalf("the given-up batch holds %v, want only the bad record (bisected)", sks)
	}
	// The good records around it were delivered.
	waitFor(t, "the records beside the bad one", func() bool {
		delivered := map[string]bool{}
		for _, b := range fn.seen() {
			if len(b) == 1 {
				delivered[b[0]] = true
			}
		}
		return delivered["MEMBER#ok1"] && delivered["MEMBER#ok2"]
	})
	for _, b := range fn.seen() {
		for _, sk := range b {
			if sk[:6] == "AUDIT#" {
				t.Fatalf("a filtered-out record reached the function: %v", b)
			}
		}
	}
}

// The template's filter criteria let through exactly the items the notify
// function turns into partner work.
func TestNotifyFiltersMatchTheCode(t *testing.T) {
	tpl, err := samtemplate.Load(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions(samtemplate.Context{Refs: map[string]string{"Table": "t", "SigningKey": "k", "Bucket": "b"}, Attrs: map[string]string{},
		Pseudo: map[string]string{"AWS::StackName": "s", "AWS::Region": local.Region, "AWS::AccountId": "0", "AWS::Partition": "aws"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fns {
		for _, st := range f.Streams {
			for _, pattern := range st.Filters {
				var p struct {
					Dynamodb struct {
						Keys struct {
							SK struct {
								S []struct {
									Prefix string `json:"prefix"`
								}
							}
						}
					} `json:"dynamodb"`
				}
				if err := json.Unmarshal([]byte(pattern), &p); err != nil || len(p.Dynamodb.Keys.SK.S) != 1 {
					t.Fatalf("%s: filter %s", f.Name, pattern)
				}
				got = append(got, p.Dynamodb.Keys.SK.S[0].Prefix)
			}
		}
	}
	if !slices.Equal(got, ddb.StreamPrefixes) {
		t.Fatalf("template filters %v, code %v", got, ddb.StreamPrefixes)
	}
}

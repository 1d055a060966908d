package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"onboarding/infra/samtemplate"
	"onboarding/shared/streams"
)

// StreamPoller does what a DynamoDB event source mapping does: it polls
// the table's stream, keeps the records the filter criteria let through,
// and invokes the function with batches, one batch at a time per shard.
// A function error is retried (the batch split in half when bisecting);
// reported item failures are retried from the earliest; a batch that
// still fails after the retries is written to the on-failure directory,
// as Lambda sends it to the on-failure destination.
type StreamPoller struct {
	Client    *dynamodbstreams.Client
	StreamArn string
	Function  Invoker
	Timeout   time.Duration // the function's
	Mapping   samtemplate.Stream
	// Every is how often an idle shard is polled (Lambda: 4 times a second).
	Every time.Duration
	// FailureDir receives the on-failure records of batches given up on.
	FailureDir string
	Log        *slog.Logger
}

// Invoker runs a function with a payload (a *Function, or a test's fake).
type Invoker interface {
	Name() string
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Run polls until ctx ends.
func (p *StreamPoller) Run(ctx context.Context) {
	every := p.Every
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	iterators := map[string]*string{} // shard -> iterator
	done := map[string]bool{}
	read := map[string]string{} // shard -> the last sequence number handed on
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := p.discover(ctx, iterators, done, read); err != nil && ctx.Err() == nil {
			p.Log.Warn("stream: describe failed", "error", err)
		}
		busy := false
		for shard, it := range iterators {
			next, n, last, err := p.poll(ctx, shard, it)
			if ctx.Err() != nil {
				return
			}
			if last != "" {
				read[shard] = last
			}
			if err != nil {
				p.Log.Warn("stream: read failed", "shard", shard, "error", err)
				var trimmed *types.TrimmedDataAccessException
				var expired *types.ExpiredIteratorException
				if errors.As(err, &trimmed) || errors.As(err, &expired) {
					// The iterator is no good any more (DynamoDB Local also
					// says "trimmed" of an iterator taken on an empty shard):
					// take a new one after what was read, as Lambda does.
					delete(iterators, shard)
				}
				continue
			}
			if next == nil {
				delete(iterators, shard)
				done[shard] = true
			} else {
				iterators[shard] = next
			}
			busy = busy || n > 0
		}
		if busy {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// discover starts reading shards it has not seen.
func (p *StreamPoller) discover(ctx context.Context, iterators map[string]*string, done map[string]bool, read map[string]string) error {
	out, err := p.Client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.StreamArn)})
	if err != nil {
		return err
	}
	for _, sh := range out.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		if _, ok := iterators[id]; ok || done[id] {
			continue
		}
		typ := types.ShardIteratorTypeTrimHorizon
		if p.Mapping.StartingPosition == "LATEST" && sh.ParentShardId == nil && len(done) == 0 {
			typ = types.ShardIteratorTypeLatest
		}
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.StreamArn), ShardId: sh.ShardId, ShardIteratorType: typ}
		if last, ok := read[id]; ok {
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(last)
		}
		it, err := p.Client.GetShardIterator(ctx, in)
		if err != nil {
			return err
		}
		iterators[id] = it.ShardIterator
	}
	return nil
}

// poll reads one page of a shard and hands what passes the filters to the
// function. It returns the next iterator (nil: the shard is closed) and the
// sequence number of the last record it read.
func (p *StreamPoller) poll(ctx context.Context, shard string, it *string) (*string, int, string, error) {
	res, err := p.Client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(1000)})
	if err != nil {
		return it, 0, "", err
	}
	var batch []events.DynamoDBEventRecord
	for _, r := range res.Records {
		e, err := streams.Event(r, p.StreamArn)
		if err != nil {
			return it, 0, "", err
		}
		if p.passes(e) {
			batch = append(batch, e)
		}
	}
	size := p.Mapping.BatchSize
	if size <= 0 {
		size = 100
	}
	for start := 0; start < len(batch); start += size {
		p.deliver(ctx, shard, batch[start:min(start+size, len(batch))])
	}
	last := ""
	if n := len(res.Records); n > 0 {
		last = aws.ToString(res.Records[n-1].Dynamodb.SequenceNumber)
	}
	return res.NextShardIterator, len(res.Records), last, nil
}

// passes applies the filter criteria (none: everything passes).
func (p *StreamPoller) passes(e events.DynamoDBEventRecord) bool {
	if len(p.Mapping.Filters) == 0 {
		return true
	}
	b, _ := json.Marshal(e)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	for _, f := range p.Mapping.Filters {
		var pattern map[string]any
		if json.Unmarshal([]byte(f), &pattern) == nil && matches(pattern, doc) {
			return true
		}
	}
	return false
}

// matches is EventBridge-style pattern matching, the subset filter
// criteria use here: nested objects, and arrays of exact values or
// {"prefix": ...}.
func matches(pattern map[string]any, doc map[string]any) bool {
	for k, want := range pattern {
		got, ok := doc[k]
		switch w := want.(type) {
		case map[string]any:
			sub, isMap := got.(map[string]any)
			if !ok || !isMap || !matches(w, sub) {
				return false
			}
		case []any:
			if !ok || !anyMatches(w, got) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func anyMatches(options []any, got any) bool {
	s, isString := got.(string)
	for _, o := range options {
		switch o := o.(type) {
		case map[string]any:
			if pre, ok := o["prefix"].(string); ok && isString && strings.HasPrefix(s, pre) {
				return true
			}
		default:
			if o == got {
				return true
			}
		}
	}
	return false
}

// deliver invokes the function with a batch until it succeeds or the
// retries run out, as the event source mapping does.
func (p *StreamPoller) deliver(ctx context.Context, shard string, batch []events.DynamoDBEventRecord) {
	retries := p.Mapping.MaximumRetryAttempts
	if retries < 0 {
		retries = 10 // Lambda retries until the record expires (a day); locally, enough
	}
	for attempt := 0; len(batch) > 0 && ctx.Err() == nil; attempt++ {
		failedFrom, err := p.invoke(ctx, batch)
		if err == nil && failedFrom < 0 {
			return
		}
		if attempt >= retries {
			p.giveUp(shard, batch)
			return
		}
		switch {
		case err != nil && p.Mapping.BisectOnError && len(batch) > 1:
			half := len(batch) / 2
			p.deliver(ctx, shard, batch[:half])
			batch = batch[half:]
		case err == nil:
			batch = batch[failedFrom:] // from the earliest failed record
		}
		if err != nil {
			p.Log.Warn("stream: the function failed; retrying", "function", p.Function.Name(), "records", len(batch), "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt+1)*200*time.Millisecond, 2*time.Second)):
		}
	}
}

// invoke hands the function a batch: failedFrom is the index of the
// earliest record it reported failed (-1: none).
func (p *StreamPoller) invoke(ctx context.Context, batch []events.DynamoDBEventRecord) (int, error) {
	payload, err := json.Marshal(events.DynamoDBEvent{Records: batch})
	if err != nil {
		return -1, err
	}
	ictx, cancel := context.WithTimeout(ctx, p.Timeout+30*time.Second)
	defer cancel()
	out, err := p.Function.Invoke(ictx, payload)
	if err != nil {
		return -1, err
	}
	if !p.Mapping.ReportFailures {
		return -1, nil
	}
	var res events.DynamoDBEventResponse
	if err := json.Unmarshal(out, &res); err != nil {
		return -1, fmt.Errorf("unreadable batch response: %w", err)
	}
	failedFrom := -1
	for _, f := range res.BatchItemFailures {
		for i, r := range batch {
			if r.Change.SequenceNumber == f.ItemIdentifier && (failedFrom < 0 || i < failedFrom) {
				failedFrom = i
			}
		}
		if f.ItemIdentifier == "" {
			return 0, errors.New("a batch item failure without an identifier fails the whole batch")
		}
	}
	return failedFrom, nil
}

// giveUp writes the on-failure record Lambda would send to the on-failure
// destination (it names the records; they stay in the stream).
func (p *StreamPoller) giveUp(shard string, batch []events.DynamoDBEventRecord) {
	info := streams.BatchInfo{ShardID: shard, StartSequenceNumber: batch[0].Change.SequenceNumber,
		EndSequenceNumber: batch[len(batch)-1].Change.SequenceNumber, StreamArn: p.StreamArn, BatchSize: len(batch)}
	p.Log.Error("stream: batch given up on; its on-failure record is kept for replay", "function", p.Function.Name(),
		"records", len(batch), "first", info.StartSequenceNumber)
	if p.FailureDir == "" {
		return
	}
	b, _ := json.MarshalIndent(map[string]any{"version": "1.0", "timestamp": time.Now().UTC(),
		"requestContext":     map[string]any{"condition": "RetryAttemptsExhausted", "functionArn": p.Function.Name()},
		"DDBStreamBatchInfo": info}, "", "  ")
	_ = os.MkdirAll(p.FailureDir, 0o755)
	_ = os.WriteFile(filepath.Join(p.FailureDir, info.StartSequenceNumber+".json"), b, 0o644)
}

// Command backfill gives invitations written before InviteeIndex existed
// their index key (InviteePK), so that export and erasure find them; with
// -index search, it writes the search entries of members and invitations
// written before those existed, so that q finds them. Each run then gives
// each role of organisations written before roles had holder counters its
// counter (ROLE#<key>; idempotent; optional: a write counts a role missing
// one on first use). Run it once after deploying the version that added the
// index, and once with -index search (README,
// "Backfilling the invitee index", "Custom roles", "Search"):
//
//	go run ./infra/backfill -table onboarding-prod       # credentials and region from the environment
//	go run ./infra/backfill -table onboarding-local -endpoint http://127.0.0.1:8000
//	go run ./infra/backfill -table onboarding-prod -index search
//
// It scans the table in parallel segments (the service's only Scan, and an
// operator's: no request path scans), prints progress every -every items,
// and keeps a checkpoint (each segment's last key) in a file after every
// page: after an interruption or an error the same command with -resume
// carries on from there. Running it again is harmless: only invitations
// without the key are written.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/local"
	"onboarding/shared/ddb"
)

func main() {
	table := flag.String("table", "", "the table's name (the stack's TableName output)")
	endpoint := flag.String("endpoint", "", "DynamoDB endpoint URL (DynamoDB Local: http://127.0.0.1:8000); empty: AWS")
	region := flag.String("region", firstSet(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")), "AWS region")
	segments := flag.Int("segments", 4, "parallel scan segments (1 to 64)")
	pageSize := flag.Int("page", 1000, "items a page reads at most: the work between two checkpoints")
	every := flag.Int("every", 10000, "print progress every this many items scanned")
	cpPath := flag.String("checkpoint", "", "checkpoint file (default build/backfill-<table>.json)")
	resume := flag.Bool("resume", false, "carry on from the checkpoint file")
	index := flag.String("index", "invitee", "what to backfill: invitee (InviteeIndex keys) or search (search entries)")
	flag.Parse()
	if *table == "" || *segments < 1 || *segments > 64 || *pageSize < 1 || *every < 1 || (*index != "invitee" && *index != "search") {
		fmt.Fprintln(os.Stderr, "usage: go run ./infra/backfill -table NAME [-index invitee|search] [-endpoint URL] [-segments 4] [-page 1000] [-every 10000] [-resume]")
		os.Exit(2)
	}
	if *cpPath == "" {
		*cpPath = filepath.Join("build", "backfill-"+*table+".json")
		if *index == "search" {
			*cpPath = filepath.Join("build", "backfill-search-"+*table+".json")
		}
	}
	client, err := newClient(*endpoint, *region)
	if err != nil {
		fmt.Fprintln(os.Stderr, "backfill:", err)
		os.Exit(2)
	}
	cp := newCheckpoint(*table, *segments)
	if *resume {
		if cp, err = loadCheckpoint(*cpPath, *table); err != nil {
			fmt.Fprintln(os.Stderr, "backfill:", err)
			os.Exit(1)
		}
		fmt.Printf("resuming from %s: %s\n", *cpPath, cp.Counts)
	} else if _, err := os.Stat(*cpPath); err == nil {
		fmt.Fprintf(os.Stderr, "backfill: %s holds an unfinished run: add -resume to carry it on, or remove the file to start again\n", *cpPath)
		os.Exit(1)
	}
	b := ddb.NewBackfiller(client, *table)
	b.PageSize = int32(*pageSize)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := newRun(b, cp, *cpPath, *every)
	if *index == "search" {
		r.page = b.SearchEntries
	}
	err = r.all(ctx)
	if err == nil {
		var rc ddb.RoleCounts
		rc, err = b.RoleCounters(ctx)
		fmt.Println(rc)
	}
	switch {
	case err == nil:
		os.Remove(*cpPath)
		fmt.Printf("done: %s\n", cp.Counts)
	case ctx.Err() != nil:
		fmt.Printf("interrupted: %s\n%s\n", cp.Counts, howToGoOn(*cpPath, *resume))
		os.Exit(130)
	default:
		fmt.Fprintf(os.Stderr, "backfill: %v\n%s\n%s\n", err, cp.Counts, howToGoOn(*cpPath, *resume))
		os.Exit(1)
	}
}

// howToGoOn tells how to carry on a run that stopped: from its checkpoint,
// if a page was done.
func howToGoOn(path string, resumed bool) string {
	if _, err := os.Stat(path); err != nil && !resumed {
		return "no page was done: run it again"
	}
	return "carry on with the same command and -resume (checkpoint: " + path + ")"
}

// newClient is a DynamoDB client with credentials from the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: e.g.
// `eval "$(aws configure export-credentials --format env)"`); against an
// endpoint without them, DynamoDB Local's dummy ones.
func newClient(endpoint, region string) (*dynamodb.Client, error) {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	cfg := local.AWSConfig()
	switch {
	case id != "" && secret != "":
		cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
	case endpoint == "":
		return nil, errors.New("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	}
	if region != "" {
		cfg.Region = region
	} else if endpoint == "" {
		return nil, errors.New("no region: set AWS_REGION or -region")
	}
	// A long scan of an on-demand table may be throttled for a while.
	cfg.RetryMaxAttempts = 10
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// run is one run of the backfill over every segment.
type run struct {
	page       func(ctx context.Context, segment, total int, start map[string]types.AttributeValue) (ddb.BackfillPage, error)
	path       string
	every      int
	stop       atomic.Bool // another segment failed
	mu         sync.Mutex  // guards cp and nextReport
	cp         *checkpoint
	nextReport int
}

func newRun(b *ddb.Backfiller, cp *checkpoint, path string, every int) *run {
	return &run{page: b.InviteeIndex, cp: cp, path: path, every: every, nextReport: (cp.Counts.Scanned/every + 1) * every}
}

// all runs the segments not yet done in parallel. The first error stops
// the others after their current page, so that each checkpoint is a page's
// end; an interruption (ctx) stops them at once.
func (r *run) all(ctx context.Context) error {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for seg := range r.cp.Segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.segment(ctx, seg); err != nil {
				once.Do(func() { first = err })
				r.stop.Store(true)
			}
		}()
	}
	wg.Wait()
	return first
}

// segment scans one segment, page by page, from its checkpoint.
func (r *run) segment(ctx context.Context, seg int) error {
	for !r.stop.Load() {
		r.mu.Lock()
		start, done, err := r.cp.position(seg)
		r.mu.Unlock()
		if err != nil || done {
			return err
		}
		page, err := r.page(ctx, seg, r.cp.Segments, start)
		if err != nil {
			return err
		}
		if err := r.advance(seg, page); err != nil {
			return err
		}
	}
	return nil
}

// advance records a page's work and the segment's new position, in the
// checkpoint file too, and prints progress when it is due.
func (r *run) advance(seg int, page ddb.BackfillPage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.cp.advance(seg, page); err != nil {
		return err
	}
	if err := r.cp.save(r.path); err != nil {
		return err
	}
	if r.cp.Counts.Scanned >= r.nextReport {
		fmt.Println(r.cp.Counts)
		for r.nextReport <= r.cp.Counts.Scanned {
			r.nextReport += r.every
		}
	}
	return nil
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

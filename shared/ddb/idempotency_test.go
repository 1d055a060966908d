package ddb_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/idempotency"
)

// claimAt is holder's claim on scope, made at now.
func claimAt(scope, body, holder string, now time.Time) idempotency.Claim {
	return idempotency.Claim{Scope: scope, BodyHash: body, Holder: holder, Now: now,
		Lease: now.Add(idempotency.Lease), Expires: now.Add(idempotency.TTL)}
}

func TestIdempotencyLeaseTakeover(t *testing.T) {
	client, table := testenv.Table(t)
	clk := testenv.NewClock()
	store := ddb.New(client, table, clk.Now)
	ctx := context.Background()
	t0 := clk.Now()

	first := claimAt("s1", "h1", "first", t0)
	if got, err := store.Claim(ctx, first); err != nil || got != nil {
		t.Fatalf("first claim: %+v %v", got, err)
	}
	// The first holder is killed here: it never completes or releases.

	got, err := store.Claim(ctx, claimAt("s1", "h1", "early", t0.Add(idempotency.Lease-time.Second)))
	if err != nil || got == nil || got.Done {
		t.Fatalf("a retry within the lease must see the claim in progress: %+v %v", got, err)
	}
	got, err = store.Claim(ctx, claimAt("s1", "other body", "stranger", t0.Add(2*idempotency.Lease)))
	if err != nil || got == nil || got.BodyHash != "h1" {
		t.Fatalf("another body never takes the key over: %+v %v", got, err)
	}
	second := claimAt("s1", "h1", "second", t0.Add(idempotency.Lease))
	if got, err := store.Claim(ctx, second); err != nil || got != nil {
		t.Fatalf("a retry once the lease has passed must take the key over: %+v %v", got, err)
	}

	// The first holder, had it only stalled, can no longer write or free the key.
	if err := store.Complete(ctx, first, idempotency.StoredResponse{BodyHash: "h1", Done: true, Status: 500, Body: "late"}); err == nil {
		t.Error("the overtaken holder completed the key")
	}
	if err := store.Release(ctx, first); err != nil {
		t.Fatalf("release by the overtaken holder: %v", err)
	}
	if got, err := store.Claim(ctx, claimAt("s1", "h1", "third", t0.Add(idempotency.Lease+time.Second))); err != nil || got == nil || got.Done {
		t.Fatalf("the overtaken holder freed or completed the key: %+v %v", got, err)
	}

	if err := store.Complete(ctx, second, idempotency.StoredResponse{BodyHash: "h1", Done: true, Status: 201, Body: `{"id":"x"}`}); err != nil {
		t.Fatal(err)
	}
	// A completed key replays for the TTL, however long after its lease.
	got, err = store.Claim(ctx, claimAt("s1", "h1", "late", t0.Add(idempotency.TTL-time.Minute)))
	if err != nil || got == nil || !got.Done || got.Status != 201 || got.Body != `{"id":"x"}` {
		t.Fatalf("replay: %+v %v", got, err)
	}
	// After the TTL the key is free, whether or not DynamoDB has deleted it yet.
	if got, err := store.Claim(ctx, claimAt("s1", "new body", "next day", t0.Add(idempotency.TTL+2*time.Minute))); err != nil || got != nil {
		t.Fatalf("a key past its TTL: %+v %v", got, err)
	}
}

func TestIdempotencyTakeoverRace(t *testing.T) {
	client, table := testenv.Table(t)
	clk := testenv.NewClock()
	store := ddb.New(client, table, clk.Now)
	ctx := context.Background()
	t0 := clk.Now()
	later := t0.Add(idempotency.Lease + time.Second)
	for round := 0; round < 10; round++ {
		scope := "race-" + testenv.RandomID()
		if got, err := store.Claim(ctx, claimAt(scope, "h", "dead", t0)); err != nil || got != nil {
			t.Fatalf("claim: %+v %v", got, err)
		}
		var wg sync.WaitGroup
		results := make([]*idempotency.StoredResponse, 2)
		errs := make([]error, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = store.Claim(ctx, claimAt(scope, "h", "taker"+string(rune('a'+i)), later))
			}()
		}
		wg.Wait()
		winners := 0
		for i, r := range results {
			if errs[i] != nil {
				t.Fatalf("round %d: %v", round, errs[i])
			}
			if r == nil {
				winners++
			} else if r.Done {
				t.Fatalf("round %d: the loser saw a completed key", round)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d racing takeovers won, want exactly 1", round, winners)
		}
	}
}

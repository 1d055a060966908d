package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/testenv"
	"onboarding/shared/authtoken"
	"onboarding/shared/ddb"
	"onboarding/shared/httpapi"
	"onboarding/shared/idempotency"
	"onboarding/shared/signer"
)

// keyed is a router over DynamoDB Local whose one POST route runs h, and a
// function that posts body to it under Idempotency-Key "k1".
func keyed(t *testing.T, clk *testenv.Clock, h httpapi.HandlerFunc) func(body string) httpapi.Response {
	client, table := testenv.Table(t)
	key, _ := signer.NewKey()
	iss, _ := authtoken.NewIssuer(context.Background(), signer.Local{Key: key}, "urn:idem", time.Hour, time.Now)
	token, _, _ := iss.Issue(context.Background(), "u1", "u1@example.no", "")
	rt := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:idem", &key.PublicKey)).
		WithIdempotency(ddb.New(client, table, clk.Now), clk.Now)
	rt.Authed("POST /things", h)
	return func(body string) httpapi.Response {
		res, err := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
			RouteKey: "POST /things", RawPath: "/things", Body: body,
			Headers: map[string]string{"authorization": "Bearer " + token, "idempotency-key": "k1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
}

func TestIdempotencyKeyOfAKilledRequest(t *testing.T) {
	clk := testenv.NewClock()
	var runs atomic.Int32
	post := keyed(t, clk, func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		if runs.Add(1) == 1 {
			panic("killed after claiming the key") // as a timeout or crash would leave it
		}
		return httpapi.JSON(http.StatusCreated, map[string]string{"id": "thing-1"})
	})
	if res := post(`{"n":1}`); res.StatusCode != 500 {
		t.Fatalf("the killed request: %d", res.StatusCode)
	}
	clk.Add(idempotency.Lease - time.Second)
	if res := post(`{"n":1}`); res.StatusCode != http.StatusConflict || runs.Load() != 1 {
		t.Fatalf("a retry within the lease: %d (%d runs), want 409 in progress", res.StatusCode, runs.Load())
	}
	clk.Add(time.Second)
	res := post(`{"n":1}`)
	if res.StatusCode != http.StatusCreated || runs.Load() != 2 || res.Headers["Idempotent-Replayed"] != "" {
		t.Fatalf("a retry once the lease has passed: %d %s (%d runs), want 201 from a new run", res.StatusCode, res.Body, runs.Load())
	}
	clk.Add(idempotency.TTL - 2*time.Minute)
	replay := post(`{"n":1}`)
	if replay.StatusCode != http.StatusCreated || replay.Body != res.Body || replay.Headers["Idempotent-Replayed"] != "true" || runs.Load() != 2 {
		t.Fatalf("the stored response must replay for the TTL: %d %s %v (%d runs)", replay.StatusCode, replay.Body, replay.Headers, runs.Load())
	}
	if res := post(`{"n":2}`); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("another body: %d", res.StatusCode)
	}
}

func TestIdempotencyRacingTakeovers(t *testing.T) {
	clk := testenv.NewClock()
	var runs atomic.Int32
	hold := make(chan struct{})
	post := keyed(t, clk, func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		if runs.Add(1) == 1 {
			panic("killed after claiming the key")
		}
		<-hold // the winner runs until the loser has had its answer
		return httpapi.JSON(http.StatusCreated, map[string]string{"id": "thing-1"})
	})
	post(`{}`)
	clk.Add(idempotency.Lease + time.Second)

	answers := make(chan int, 2)
	for range 2 {
		go func() { answers <- post(`{}`).StatusCode }()
	}
	var first int
	select {
	case first = <-answers:
	case <-time.After(10 * time.Second):
		close(hold)
		t.Fatal("both racing retries are running the handler")
	}
	close(hold)
	second := <-answers
	if first != http.StatusConflict || second != http.StatusCreated || runs.Load() != 2 {
		t.Fatalf("racing retries answered %d then %d with %d runs; want 409, 201 and exactly one new run", first, second, runs.Load())
	}
}

// A route whose body holds a password keeps no Idempotency-Key record: the
// record would hold a fast hash of the body, and each request runs.
func TestSecretRoutesKeepNoIdempotencyRecord(t *testing.T) {
	client, table := testenv.Table(t)
	clk := testenv.NewClock()
	key, _ := signer.NewKey()
	iss, _ := authtoken.NewIssuer(context.Background(), signer.Local{Key: key}, "urn:idem", time.Hour, time.Now)
	token, _, _ := iss.Issue(context.Background(), "u1", "u1@example.no", "")
	rt := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:idem", &key.PublicKey)).
		WithIdempotency(ddb.New(client, table, clk.Now), clk.Now)
	var runs atomic.Int32
	rt.AuthedSecret("POST /me/password", func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		runs.Add(1)
		return httpapi.Response{StatusCode: http.StatusNoContent}, nil
	})
	for range 2 {
		res, err := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
			RouteKey: "POST /me/password", RawPath: "/me/password", Body: `{"currentPassword":"a long old one","newPassword":"a long new one"}`,
			Headers: map[string]string{"authorization": "Bearer " + token, "idempotency-key": "k1"},
		})
		if err != nil || res.StatusCode != http.StatusNoContent || res.Headers["Idempotent-Replayed"] != "" {
			t.Fatalf("%d %v %v", res.StatusCode, res.Headers, err)
		}
	}
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 2 || out.Count != 0 {
		t.Fatalf("runs %d, items stored %d: want 2 runs and no record", runs.Load(), out.Count)
	}
}

package ddb_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/ddb"
	"onboarding/shared/fault"
)

// countingClient counts the DynamoDB requests a store makes.
type countingClient struct {
	*dynamodb.Client
	reads, writes, queries atomic.Int32
}

func (c *countingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.reads.Add(1)
	return c.Client.GetItem(ctx, in, o...)
}

func (c *countingClient) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.Client.Query(ctx, in, o...)
}

func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.writes.Add(1)
	return c.Client.UpdateItem(ctx, in, o...)
}

func (c *countingClient) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.writes.Add(1)
	return c.Client.DeleteItem(ctx, in, o...)
}

func (c *countingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.writes.Add(1)
	return c.Client.PutItem(ctx, in, o...)
}

type sidIssuer struct{}

func (sidIssuer) Issue(_ context.Context, userID, _, sid string) (string, time.Duration, error) {
	return "access." + userID + "." + sid, 15 * time.Minute, nil
}

func newSessions(t *testing.T) (*account.Sessions, *ddb.Store, *countingClient, *testenv.Clock) {
	client, table := testenv.Table(t)
	counting := &countingClient{Client: client}
	clk := testenv.NewClock()
	store := ddb.New(counting, table, clk.Now)
	return &account.Sessions{Store: store, Tokens: sidIssuer{}, Idle: 24 * time.Hour, Absolute: 72 * time.Hour, Now: clk.Now}, store, counting, clk
}

// A refresh is one read and one conditional write.
func TestRefreshIsOneReadAndOneWrite(t *testing.T) {
	sessions, _, counting, clk := newSessions(t)
	ctx := context.Background()
	s, err := sessions.Start(ctx, "u1", "kari@example.no", "Firefox")
	if err != nil {
		t.Fatal(err)
	}
	counting.reads.Store(0)
	counting.writes.Store(0)
	clk.Add(time.Minute)
	if _, err := sessions.Refresh(ctx, s.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if r, w := counting.reads.Load(), counting.writes.Load(); r != 1 || w != 1 {
		t.Errorf("a refresh made %d reads and %d writes, want 1 and 1", r, w)
	}
}

// Twenty refreshes at once with the same token: exactly one wins, and its
// new token works afterwards. The rest get 401 without ending the session:
// those whose conditional write lost, and those that read the session only
// after the winner rotated it (within the grace, a retry, not a theft).
// Several rounds, since which loser reads late is up to the scheduler.
func TestRefreshRaceHasOneWinner(t *testing.T) {
	sessions, _, _, _ := newSessions(t)
	ctx := context.Background()
	s, err := sessions.Start(ctx, "u1", "kari@example.no", "Firefox")
	if err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		var wins, lost atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				next, err := sessions.Refresh(ctx, s.RefreshToken)
				switch fault.CodeOf(err) {
				case fault.Unauthorized:
					lost.Add(1)
				default:
					if err != nil {
						t.Error(err)
						return
					}
					wins.Add(1)
					winner.Store(next)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || lost.Load() != 19 {
			t.Fatalf("round %d: %d won, %d lost; want 1 and 19", round, wins.Load(), lost.Load())
		}
		next, err := sessions.Refresh(ctx, winner.Load().(account.Session).RefreshToken)
		if err != nil {
			t.Fatalf("round %d: the winner's new token: %v", round, err)
		}
		s = next
	}
}

// A rotated token used again ends the session: the current token dies too.
func TestReuseAfterRotationRevokesTheFamily(t *testing.T) {
	sessions, store, _, clk := newSessions(t)
	ctx := context.Background()
	first, _ := sessions.Start(ctx, "u1", "kari@example.no", "Firefox")
	other, _ := sessions.Start(ctx, "u1", "kari@example.no", "Safari")
	second, err := sessions.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(account.RefreshGrace - time.Second) // within the grace: a retry ends nothing
	if _, err := sessions.Refresh(ctx, first.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("retry: %v", err)
	}
	if all, _ := store.Sessions(ctx, "u1"); len(all) != 2 {
		t.Fatalf("a retry within the grace ended a session: %d left", len(all))
	}
	clk.Add(time.Second) // past it: a reuse of a rotated token
	if _, err := sessions.Refresh(ctx, first.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := sessions.Refresh(ctx, second.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("the current token after a reuse: %v", err)
	}
	all, _ := store.Sessions(ctx, "u1")
	if len(all) != 1 || !strings.Contains(other.RefreshToken, all[0].ID) {
		t.Fatalf("sessions left: %+v (want only the other device's)", all)
	}
}

func TestSessionExpiry(t *testing.T) {
	sessions, _, _, clk := newSessions(t)
	ctx := context.Background()
	s, _ := sessions.Start(ctx, "u1", "kari@example.no", "Firefox")
	clk.Add(25 * time.Hour) // idle is 24 h
	if _, err := sessions.Refresh(ctx, s.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("idle session refreshed: %v", err)
	}
	s, _ = sessions.Start(ctx, "u1", "kari@example.no", "Firefox")
	for range 3 { // used every 23 h, it dies at the absolute 72 h
		clk.Add(23 * time.Hour)
		next, err := sessions.Refresh(ctx, s.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		s = next
	}
	clk.Add(4 * time.Hour)
	if _, err := sessions.Refresh(ctx, s.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("session past its absolute lifetime refreshed: %v", err)
	}
}

func TestRevokeSessionsKeepsOne(t *testing.T) {
	sessions, store, _, _ := newSessions(t)
	ctx := context.Background()
	var keep string
	for i := range 30 { // more than one batch of deletes
		s, err := sessions.Start(ctx, "u1", "kari@example.no", "Firefox")
		if err != nil {
			t.Fatal(err)
		}
		if i == 7 {
			keep = strings.Split(s.RefreshToken, ".")[1]
		}
	}
	stranger, _ := sessions.Start(ctx, "u2", "ola@example.no", "Firefox")
	if err := store.RevokeSessions(ctx, "u1", keep); err != nil {
		t.Fatal(err)
	}
	all, _ := store.Sessions(ctx, "u1")
	if len(all) != 1 || all[0].ID != keep {
		t.Fatalf("left %d sessions, want only %s", len(all), keep)
	}
	if _, err := sessions.Refresh(ctx, stranger.RefreshToken); err != nil {
		t.Fatalf("another person's session ended too: %v", err)
	}
	if err := store.RevokeSessions(ctx, "u1", ""); err != nil {
		t.Fatal(err)
	}
	if all, _ := store.Sessions(ctx, "u1"); len(all) != 0 {
		t.Fatalf("left %d sessions after revoking all", len(all))
	}
}

// Sign-out needs the current token; another person's session cannot be
// ended through one's own list.
func TestSignOutAndRevoke(t *testing.T) {
	sessions, _, _, _ := newSessions(t)
	ctx := context.Background()
	s, _ := sessions.Start(ctx, "u1", "kari@example.no", strings.Repeat("ü", 300))
	list, err := sessions.List(ctx, "u1", "")
	if err != nil || len(list.Sessions) != 1 || len([]rune(list.Sessions[0].UserAgent)) != account.MaxUserAgent {
		t.Fatalf("list: %+v %v", list, err)
	}
	parts := strings.Split(s.RefreshToken, ".")
	wrong := parts[0] + "." + parts[1] + "." + strings.Repeat("A", 43)
	if err := sessions.SignOut(ctx, wrong); err != nil {
		t.Fatal(err)
	}
	if err := sessions.Revoke(ctx, "u2", parts[1]); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("another person revoked the session: %v", err)
	}
	if _, err := sessions.Refresh(ctx, s.RefreshToken); err != nil {
		t.Fatalf("the session ended by a wrong sign-out or another's revoke: %v", err)
	}
	s, _ = sessions.Start(ctx, "u1", "kari@example.no", "Firefox")
	if err := sessions.SignOut(ctx, s.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := sessions.SignOut(ctx, s.RefreshToken); err != nil {
		t.Fatalf("second sign-out: %v", err)
	}
	if _, err := sessions.Refresh(ctx, s.RefreshToken); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("refresh after sign-out: %v", err)
	}
}

// A forged secret (the ids are in the access token's sid and the export)
// ends nothing; a sign-in beyond the cap ends the session used longest ago.
func TestForgedSecretAndSessionCap(t *testing.T) {
	sessions, store, counting, clk := newSessions(t)
	sessions.MaxSessions = 5
	ctx := context.Background()
	var first account.Session
	for i := range 5 {
		s, err := sessions.Start(ctx, "u1", "kari@example.no", "Firefox")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = s
		}
		clk.Add(time.Minute)
	}
	parts := strings.Split(first.RefreshToken, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", 43)
	if _, err := sessions.Refresh(ctx, forged); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("forged: %v", err)
	}
	first, err := sessions.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("the session after a forged secret: %v", err)
	}
	counting.reads.Store(0)
	counting.writes.Store(0)
	counting.queries.Store(0)
	if _, err := sessions.Start(ctx, "u1", "kari@example.no", "Firefox"); err != nil {
		t.Fatal(err)
	}
	if q, w := counting.queries.Load(), counting.writes.Load(); q != 1 || w != 2 {
		t.Errorf("a sign-in at the cap made %d queries and %d writes, want 1 and 2 (put, end the oldest)", q, w)
	}
	all, _ := store.Sessions(ctx, "u1")
	if len(all) != 5 {
		t.Fatalf("%d sessions, want the cap 5", len(all))
	}
	if _, err := sessions.Refresh(ctx, first.RefreshToken); err != nil {
		t.Fatalf("the last used session was ended by the cap: %v", err)
	}
}

package mail

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"onboarding/shared/invite"
)

type account struct {
	quota *types.SendQuota
	err   error
}

func (a account) GetAccount(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	return &sesv2.GetAccountOutput{SendQuota: a.quota}, a.err
}

func TestPacerKeepsTheRateAndTheDailyQuota(t *testing.T) {
	// 20 a second, 5 left today.
	p := NewPacer(account{quota: &types.SendQuota{MaxSendRate: 20, Max24HourSend: 200, SentLast24Hours: 195}})
	start := time.Now()
	for i := range 5 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if took := time.Since(start); took < 4*50*time.Millisecond {
		t.Fatalf("5 sends at 20/s in %v", took)
	}
	if err := p.Wait(context.Background()); !errors.Is(err, invite.ErrNoSendBudget) {
		t.Fatalf("past the daily quota: %v", err)
	}
}

func TestPacerStopsAtTheDeadline(t *testing.T) {
	p := NewPacer(account{err: errors.New("no GetAccount here")})
	p.FallbackRate, p.FallbackDaily = 2, 100 // one every 500 ms
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); !errors.Is(err, invite.ErrNoSendBudget) {
		t.Fatalf("a slot past the deadline: %v", err)
	}
}

// Each sweep run takes a fresh pacer: the quota a run used up is read again
// (SES's remaining daily sends), and the fallbacks carry over.
func TestFreshPacerReadsTheAccountAgain(t *testing.T) {
	p := &Pacer{Client: account{quota: &types.SendQuota{MaxSendRate: 1000, Max24HourSend: 200, SentLast24Hours: 199}},
		FallbackRate: 3, FallbackDaily: 7}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(context.Background()); !errors.Is(err, invite.ErrNoSendBudget) {
		t.Fatalf("past the daily quota: %v", err)
	}
	fresh := p.Fresh().(*Pacer)
	if fresh == p || fresh.FallbackRate != 3 || fresh.FallbackDaily != 7 || fresh.loaded {
		t.Fatalf("fresh pacer: %+v", fresh)
	}
	if err := fresh.Wait(context.Background()); err != nil {
		t.Fatalf("a new run's first send: %v", err)
	}
}

package mail

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/shared/invite"
)

// AccountClient reads the SES account's sending quota.
type AccountClient interface {
	GetAccount(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)
}

// Pacer spaces emails to the SES account's sending rate and stops at its
// daily quota, as GetAccount reports them when first asked. It is safe for
// concurrent use; one run of the sweep (the only bulk sender) uses one.
type Pacer struct {
	Client AccountClient
	// FallbackRate and FallbackDaily apply when GetAccount cannot be read
	// (the local SES emulator has no such call): by default a new account's
	// sandbox limits, one email a second and 200 a day.
	FallbackRate  float64
	FallbackDaily int

	mu        sync.Mutex
	loaded    bool
	interval  time.Duration
	next      time.Time
	remaining int
}

// NewPacer returns a pacer over an SES client.
func NewPacer(c AccountClient) *Pacer { return &Pacer{Client: c} }

// Fresh returns a new pacer with p's client and fallbacks, which reads the
// account's rate and quota afresh when first asked (one for each sweep run).
func (p *Pacer) Fresh() invite.Pacer {
	return &Pacer{Client: p.Client, FallbackRate: p.FallbackRate, FallbackDaily: p.FallbackDaily}
}

func (p *Pacer) load(ctx context.Context) {
	rate, daily := p.FallbackRate, float64(p.FallbackDaily)
	if rate <= 0 {
		rate = 1
	}
	if daily <= 0 {
		daily = 200
	}
	if out, err := p.Client.GetAccount(ctx, &sesv2.GetAccountInput{}); err == nil && out.SendQuota != nil && out.SendQuota.MaxSendRate > 0 {
		rate = out.SendQuota.MaxSendRate
		daily = out.SendQuota.Max24HourSend - out.SendQuota.SentLast24Hours
		if out.SendQuota.Max24HourSend < 0 { // -1: unlimited
			daily = 1 << 30
		}
	}
	p.interval = time.Duration(float64(time.Second) / rate)
	p.remaining = int(daily)
	p.loaded = true
}

// Wait returns when one more email may go (see invite.Pacer).
func (p *Pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	if !p.loaded {
		p.load(ctx)
	}
	if p.remaining <= 0 {
		p.mu.Unlock()
		return invite.ErrNoSendBudget
	}
	now := time.Now()
	slot := p.next
	if slot.Before(now) {
		slot = now
	}
	if deadline, ok := ctx.Deadline(); ok && slot.After(deadline) {
		p.mu.Unlock()
		return invite.ErrNoSendBudget
	}
	p.next = slot.Add(p.interval)
	p.remaining--
	p.mu.Unlock()
	if d := time.Until(slot); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return invite.ErrNoSendBudget
		case <-t.C:
		}
	}
	return nil
}

package account

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/quota"
)

// A password guess (sign-in, or accepting an invitation with an existing
// account's password) is charged before the password is checked, by
// conditional writes, so parallel guesses cannot slip past a limit; a correct
// guess is given back. It draws on:
//
//   - the throttle of its address from its source (a doubling wait; only that
//     source ever waits on it, so a stranger cannot lock the owner's own
//     source this way);
//   - the address's, the source's and everyone's failure budgets (fixed
//     windows). A source that signed in to the address lately skips these:
//     strangers cannot spend them for the owner.

// Throttle is the failed guesses at one address from one source. It is kept
// whether or not an account has the address, so it reveals nothing.
type Throttle struct {
	Failures      int       `dynamodbav:"failures"`
	LastFailureAt time.Time `dynamodbav:"lastFailureAt"`
	NextAllowedAt time.Time `dynamodbav:"nextAllowedAt"`
	// LastSuccessAt is when this source last gave the address's password.
	LastSuccessAt time.Time `dynamodbav:"lastSuccessAt"`
}

// Throttling policy for one address from one source: the first FreeFailures
// failures cost nothing; each one after that doubles a wait (1 s, 2 s, 4 s,
// ...) up to MaxWait. A quiet hour forgives everything. A source that gave
// the password within KnownSourceFor answers only to this throttle.
const (
	FreeFailures  = 5
	MaxWait       = 15 * time.Minute
	ForgiveWindow = time.Hour
	// KnownSourceFor is long enough to cover a month of someone's usual
	// networks (home, office) and short enough that a shared address
	// someone used once stops being trusted.
	KnownSourceFor = 30 * 24 * time.Hour
)

// Fail returns the throttle after one more failure at now.
func (t Throttle) Fail(now time.Time) Throttle {
	if now.Sub(t.LastFailureAt) > ForgiveWindow {
		t = Throttle{LastSuccessAt: t.LastSuccessAt}
	}
	t.Failures++
	t.LastFailureAt = now
	if over := t.Failures - FreeFailures; over > 0 {
		wait := MaxWait
		if over < 20 {
			wait = min(time.Duration(1<<(over-1))*time.Second, MaxWait)
		}
		t.NextAllowedAt = now.Add(wait)
	}
	return t
}

// Wait is how long until the next guess is allowed (0: now).
func (t Throttle) Wait(now time.Time) time.Duration { return max(t.NextAllowedAt.Sub(now), 0) }

// Known reports whether this source gave the password within KnownSourceFor.
func (t Throttle) Known(now time.Time) bool {
	return !t.LastSuccessAt.IsZero() && now.Sub(t.LastSuccessAt) < KnownSourceFor
}

// Expires is when the record stops mattering: failures forgiven, wait over,
// the source no longer known.
func (t Throttle) Expires() time.Time {
	end := t.LastFailureAt.Add(ForgiveWindow)
	if t.NextAllowedAt.After(end) {
		end = t.NextAllowedAt
	}
	if !t.LastSuccessAt.IsZero() && t.LastSuccessAt.Add(KnownSourceFor).After(end) {
		end = t.LastSuccessAt.Add(KnownSourceFor)
	}
	return end
}

// Limits are the failure budgets guesses from sources that are not known to
// the address draw on, each a fixed window.
type Limits struct {
	AddressFailures int
	AddressWindow   time.Duration
	SourceFailures  int
	SourceWindow    time.Duration
	GlobalFailures  int
	GlobalWindow    time.Duration
}

// DefaultLimits are the budgets in production.
var DefaultLimits = Limits{
	// More than someone who forgot a password tries before resetting it.
	// It caps guessing at one address from any number of sources at 40 an
	// hour, and a stranger who spends it locks the owner's new sources out
	// only until the quarter hour ends (15 min is the most Retry-After
	// says); one source's own doubling wait lets it spend the budget only
	// once per quiet hour.
	AddressFailures: 10, AddressWindow: 15 * time.Minute,
	// One source trying many addresses (credential stuffing) meets no
	// address throttle; 30 a quarter hour still leaves an office behind one
	// NAT room for a typo each from 30 people.
	SourceFailures: 30, SourceWindow: 15 * time.Minute,
	// All failures everywhere: far above honest typing, it caps a botnet at
	// 1000 guesses a minute (about 45 s of hashing a minute) across all
	// accounts; the one-minute window keeps a lock it causes short, and
	// known sources never meet it.
	GlobalFailures: 1000, GlobalWindow: time.Minute,
}

// GuessStore is what throttling guesses needs of storage.
type GuessStore interface {
	// SignInThrottle reads the throttle of email from source (zero if none).
	SignInThrottle(ctx context.Context, email, source string) (Throttle, error)
	// UpdateSignInThrottle applies change to the throttle of email from
	// source atomically (a conditional write, retried against concurrent
	// writers) and returns the throttle written. When change refuses
	// (false), or writers keep colliding, nothing is written and it returns
	// the throttle it last read and false.
	UpdateSignInThrottle(ctx context.Context, email, source string, change func(Throttle) (Throttle, bool)) (Throttle, bool, error)
	// SetSignInThrottle writes the throttle of email from source whatever
	// it holds.
	SetSignInThrottle(ctx context.Context, email, source string, t Throttle) error
	// Take counts one use if fewer than limit were counted in the window;
	// else it returns how long until the window ends.
	Take(ctx context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error)
	// Give returns a use counted by Take at now.
	Give(ctx context.Context, q quota.Name, window time.Duration, now time.Time) error
}

// Guesses throttles password guesses.
type Guesses struct {
	Store  GuessStore
	Limits Limits
	Now    func() time.Time
}

// NewGuesses returns guess throttling with the default limits.
func NewGuesses(store GuessStore, now func() time.Time) *Guesses {
	return &Guesses{Store: store, Limits: DefaultLimits, Now: now}
}

// SourceKey is what a guess's source IP is counted under: an IPv4 address,
// or an IPv6 /64 (one subscriber's network; counting single IPv6 addresses
// would give an attacker billions of sources).
func SourceKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

var errTooManyGuesses = fault.New(fault.TooMany, "too many failed sign-ins; try again later")

func tooMany(wait time.Duration) error {
	e := *errTooManyGuesses
	e.RetryAfter = max(wait, time.Second)
	return &e
}

type budget struct {
	quota  quota.Name
	limit  int
	window time.Duration
}

func (l Limits) budgets(email, source string) []budget {
	return []budget{
		{quota.Name{Kind: quota.SignInAddress, Subject: email}, l.AddressFailures, l.AddressWindow},
		{quota.Name{Kind: quota.SignInSource, Subject: source}, l.SourceFailures, l.SourceWindow},
		{quota.Name{Kind: quota.SignInAll}, l.GlobalFailures, l.GlobalWindow},
	}
}

// Reserve charges one guess at email (normalised) from source IP before its
// password is checked; a refused guess is a 429 with Retry-After and must
// not be checked. A reserved guess counts as failed; call succeeded when the
// password was right, which gives it back and marks the source known.
func (g *Guesses) Reserve(ctx context.Context, email, source string) (succeeded func(context.Context) error, err error) {
	now := g.Now()
	source = SourceKey(source)
	t, err := g.Store.SignInThrottle(ctx, email, source)
	if err != nil {
		return nil, fmt.Errorf("read sign-in throttle: %w", err)
	}
	if wait := t.Wait(now); wait > 0 {
		return nil, tooMany(wait)
	}
	var taken []budget
	giveBack := func(ctx context.Context) error {
		var errs []error
		for _, b := range taken {
			errs = append(errs, g.Store.Give(ctx, b.quota, b.window, now))
		}
		return errors.Join(errs...)
	}
	if !t.Known(now) {
		for _, b := range g.Limits.budgets(email, source) {
			wait, err := g.Store.Take(ctx, b.quota, b.limit, b.window, now)
			if err != nil {
				giveBack(ctx)
				return nil, fmt.Errorf("take sign-in budget: %w", err)
			}
			if wait > 0 {
				giveBack(ctx)
				return nil, tooMany(wait)
			}
			taken = append(taken, b)
		}
	}
	t, ok, err := g.Store.UpdateSignInThrottle(ctx, email, source, func(t Throttle) (Throttle, bool) {
		if t.Wait(now) > 0 {
			return t, false
		}
		return t.Fail(now), true
	})
	if err != nil || !ok {
		giveBack(ctx)
		if err != nil {
			return nil, fmt.Errorf("reserve sign-in guess: %w", err)
		}
		return nil, tooMany(t.Wait(now))
	}
	return func(ctx context.Context) error {
		err := giveBack(ctx)
		if e := g.Store.SetSignInThrottle(ctx, email, source, Throttle{LastSuccessAt: now}); e != nil {
			err = errors.Join(err, e)
		}
		if err != nil {
			return fmt.Errorf("settle sign-in guess: %w", err)
		}
		return nil
	}, nil
}

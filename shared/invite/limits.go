package invite

import (
	"context"
	"fmt"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/org"
	"onboarding/shared/quota"
)

// Quotas counts uses in fixed windows, atomically.
type Quotas interface {
	// Take counts one use if fewer than limit were counted in the window;
	// else it returns how long until the window ends.
	Take(ctx context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error)
	// Give returns a use whose action did not happen.
	Give(ctx context.Context, q quota.Name, window time.Duration, now time.Time) error
	// TakeSliding is Take over a rolling window ending now.
	TakeSliding(ctx context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error)
	// GiveSliding returns a use TakeSliding took at now.
	GiveSliding(ctx context.Context, q quota.Name, now time.Time) error
}

// Guesses reserves a password guess before it is checked (account.Guesses):
// a refused one is a 429; succeeded gives a correct one back.
type Guesses interface {
	Reserve(ctx context.Context, email, source string) (succeeded func(context.Context) error, err error)
}

// The windows of the rate limits in an organisation's settings.
const (
	orgWindow       = time.Hour
	recipientWindow = 24 * time.Hour
)

// rateLimit is one rate limit to pass before sending.
type rateLimit struct {
	name    quota.Name
	limit   int
	window  time.Duration
	what    string
	sliding bool // a rolling window (exact), else a fixed one (no contention)
}

// sendQuotas are the limits an email to email in o must pass: the
// organisation's invitations per hour (when counted) and the recipient's
// emails per day.
func sendQuotas(o org.Organisation, email string, countInvitation bool) []rateLimit {
	limits := o.Settings.RateLimits
	var qs []rateLimit
	if countInvitation && limits.InvitationsPerHour > 0 {
		qs = append(qs, rateLimit{quota.Name{Kind: quota.OrgInvitations, Org: o.ID}, limits.InvitationsPerHour, orgWindow,
			fmt.Sprintf("this organisation may send %d invitations an hour", limits.InvitationsPerHour), false})
	}
	if limits.EmailsPerRecipientPerDay > 0 {
		qs = append(qs, rateLimit{quota.Name{Kind: quota.OrgRecipient, Org: o.ID, Subject: email}, limits.EmailsPerRecipientPerDay, recipientWindow,
			fmt.Sprintf("this person may get %d emails from this organisation in 24 hours", limits.EmailsPerRecipientPerDay), true})
	}
	return qs
}

// take passes every quota or none: when one is exhausted, the uses already
// taken are given back and the caller gets 429 with Retry-After. The
// returned release gives them all back (when the send does not happen).
func (s *Service) take(ctx context.Context, qs []rateLimit) (release func(), err error) {
	if s.Quotas == nil {
		return func() {}, nil
	}
	now := s.Now()
	var taken []rateLimit
	release = func() {
		for _, q := range taken {
			if q.sliding {
				s.Quotas.GiveSliding(ctx, q.name, now)
			} else {
				s.Quotas.Give(ctx, q.name, q.window, now)
			}
		}
	}
	for _, q := range qs {
		take := s.Quotas.Take
		if q.sliding {
			take = s.Quotas.TakeSliding
		}
		wait, err := take(ctx, q.name, q.limit, q.window, now)
		if err != nil {
			release()
			return nil, err
		}
		if wait > 0 {
			release()
			e := fault.New(fault.TooMany, "%s; try again later", q.what)
			e.RetryAfter = wait
			return nil, e
		}
		taken = append(taken, q)
	}
	return release, nil
}

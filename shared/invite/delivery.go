package invite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"onboarding/shared/fault"
)

// The emails about an invitation that a sweep may send again.
const (
	MailInvitation = "invitation"
	MailReminder   = "reminder"
	MailAdded      = "added"
)

// MaxDeliveryAttempts is how many times an email is tried before the
// invitation keeps deliveryStatus "failed" for an admin to act on.
const MaxDeliveryAttempts = 5

// retryDelay is the wait after the n-th failed try: five minutes, then three
// times as long each time (5 min, 15 min, 45 min, 2 h 15 min).
func retryDelay(n int) time.Duration {
	d := 5 * time.Minute
	for i := 1; i < n; i++ {
		d *= 3
	}
	return d
}

// recordSend notes the outcome of trying mail (the DeliveryAttempts-th try):
// sent, or failed with the time of the next try, or failed for good once the
// tries are used up.
func (inv *Invitation) recordSend(mail string, err error, now time.Time) {
	if err == nil {
		inv.DeliveryStatus = DeliverySent
		inv.DeliveryAttempts, inv.RetryMail, inv.NextDeliveryAt = 0, "", nil
		return
	}
	inv.DeliveryStatus = DeliveryFailed
	inv.RetryMail = mail
	inv.NextDeliveryAt = nil
	if inv.DeliveryAttempts < MaxDeliveryAttempts {
		next := now.Add(retryDelay(inv.DeliveryAttempts))
		inv.NextDeliveryAt = &next
	}
}

// deliver emails an invitation with its token and records how that went; a
// failed send leaves deliveryStatus "failed" and a time for the sweep to try
// again.
func (s *Service) deliver(ctx context.Context, inv Invitation, token string) (Invitation, error) {
	inv.DeliveryAttempts = 1
	err := s.Mailer.SendInvitation(ctx, inv, s.link(ctx, token))
	inv.recordSend(MailInvitation, err, s.Now().UTC().Truncate(time.Second))
	return inv, s.record(ctx, inv)
}

// record stores the delivery state of inv. A Conflict means the invitation
// moved on meanwhile (accepted, resent, revoked): its new state stands.
func (s *Service) record(ctx context.Context, inv Invitation) error {
	err := s.Store.RecordDelivery(ctx, inv)
	if err != nil && fault.CodeOf(err) != fault.Conflict {
		return fmt.Errorf("record delivery of invitation %s: %w", inv.ID, err)
	}
	return nil
}

// Pacer keeps bulk email within what the mail service allows (its sending
// rate and daily quota). The sweep, which sends what imports queue, asks it
// before each email.
type Pacer interface {
	// Wait returns when one more email may go, or ErrNoSendBudget when
	// none may before ctx's deadline or within the daily quota.
	Wait(ctx context.Context) error
}

// ErrNoSendBudget says an email must wait for a later run.
var ErrNoSendBudget = errors.New("no email may be sent now: the mail service's rate or daily quota is used up")

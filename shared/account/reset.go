package account

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
	"onboarding/shared/quota"
	"onboarding/shared/redact"
)

// A forgotten password is reset by a link emailed to the account's address.
// The request answers the same (202), in the same time, whether or not an
// account has the address: the same store work either way, then a wait to a
// fixed floor that hides the email's sending.

// ResetLifetime is how long a reset link works: long enough to reach the
// mailbox and act, short enough that an old email in a mailbox opened later
// is useless.
const ResetLifetime = time.Hour

// ResetFloor is the least time a reset request takes. SES answers in tens of
// milliseconds (the local emulator in about 5 ms); the store work is a few
// DynamoDB calls (15 to 40 ms in Lambda). 400 ms stays above the slow tail
// of both together, so the answer's time tells nothing of whether an email
// went out, and a person waits no more than a blink.
const ResetFloor = 400 * time.Millisecond

// ResetToken is what a reset token's hash opens: the account whose password
// it resets, while the account still has Email (the address the link was
// sent to: after a change of address a link in the old mailbox is
// worthless), until ExpiresAt. A request for an address with no account
// stores one with no UserID (the same work), which opens nothing.
type ResetToken struct {
	UserID    string    `dynamodbav:"userId"`
	Email     string    `dynamodbav:"email"`
	ExpiresAt time.Time `dynamodbav:"expiresAt"`
}

// ResetLimits are the budgets reset requests draw on (fixed windows). A
// refused request still answers 202 and sends nothing.
type ResetLimits struct {
	// Requests for one address: a person who did not get the email tries
	// again once or twice; more is someone filling a mailbox.
	AddressRequests int
	AddressWindow   time.Duration
	// Requests from one source: room for an office behind one NAT, none for
	// someone walking a list of addresses.
	SourceRequests int
	SourceWindow   time.Duration
	// The service's own emails to one address a day (quota.AddressEmails).
	DailyEmails int
}

// DefaultResetLimits are the budgets in production.
var DefaultResetLimits = ResetLimits{
	AddressRequests: 3, AddressWindow: time.Hour,
	SourceRequests: 30, SourceWindow: time.Hour,
	DailyEmails: 10,
}

// ResetStore is what password resets need of storage.
type ResetStore interface {
	// ResetAccount returns the account with this email, or nil; it reads
	// the same items whether or not there is one.
	ResetAccount(ctx context.Context, email string) (*Account, error)
	// Account returns the account with this id, or nil.
	Account(ctx context.Context, userID string) (*Account, error)
	// PutResetToken stores t under hash.
	PutResetToken(ctx context.Context, hash string, t ResetToken) error
	// ResetToken returns what hash opens; NotFound when nothing.
	ResetToken(ctx context.Context, hash string) (ResetToken, error)
	// CompleteReset deletes the token (if it is still there, names userID
	// and is unexpired at now) and sets the account's password hash (if it
	// still has email), in one transaction; Gone when the token was used or
	// expired, or the address changed, meanwhile.
	CompleteReset(ctx context.Context, hash, userID, email, passwordHash string, now time.Time) error
	// Take counts one use if fewer than limit were counted in the window;
	// else it returns how long until the window ends.
	Take(ctx context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error)
	// SetSignInThrottle writes the throttle of email from source.
	SetSignInThrottle(ctx context.Context, email, source string, t Throttle) error
}

// ResetMailer emails a reset link in the account's language.
type ResetMailer interface {
	SendPasswordReset(ctx context.Context, a Account, link string) error
}

// PasswordReset requests and confirms password resets.
type PasswordReset struct {
	Store    ResetStore
	Mailer   ResetMailer
	Hasher   Hasher
	Sessions SessionRevoker
	Limits   ResetLimits
	// Floor is the least time Request takes (ResetFloor; 0 in unit tests).
	Floor time.Duration
	Log   *slog.Logger
	Now   func() time.Time
}

// ResetLink is the hosted reset page with the token in the fragment, which
// browsers never send: servers, proxies and link scanners do not see it.
func ResetLink(baseURL, token string) string { return baseURL + "/reset#token=" + token }

var errResetEmail = &fault.Error{Code: fault.Invalid, Message: "the request has invalid fields",
	Fields: []fault.FieldError{{Field: "email", Code: string(fault.Invalid), Message: "give a valid email address"}}}

// Request starts a reset of the password of the account with email, asked
// from source (an IP) and linked to the page at baseURL. It returns nil
// whether or not an account has the address, and when a limit refuses the
// request (then nothing is sent); only a malformed address and failures of
// the store (which happen alike either way) are errors. It takes at least
// Floor.
func (r *PasswordReset) Request(ctx context.Context, email, source, baseURL string) error {
	start := time.Now()
	defer r.pad(ctx, start)
	email, err := clean.Email(email)
	if err != nil {
		return errResetEmail
	}
	now := r.Now()
	limits := []struct {
		q      quota.Name
		limit  int
		window time.Duration
	}{
		{quota.Name{Kind: quota.ResetSource, Subject: SourceKey(source)}, r.Limits.SourceRequests, r.Limits.SourceWindow},
		{quota.Name{Kind: quota.ResetAddress, Subject: email}, r.Limits.AddressRequests, r.Limits.AddressWindow},
		{quota.Name{Kind: quota.AddressEmails, Subject: email}, r.Limits.DailyEmails, 24 * time.Hour},
	}
	for _, l := range limits {
		wait, err := r.Store.Take(ctx, l.q, l.limit, l.window, now)
		if err != nil {
			return fmt.Errorf("take reset budget: %w", err)
		}
		if wait > 0 {
			r.log(ctx, "password reset throttled", "quota", int(l.q.Kind))
			return nil
		}
	}
	a, err := r.Store.ResetAccount(ctx, email)
	if err != nil {
		return fmt.Errorf("find account to reset: %w", err)
	}
	token, hash, err := opaque.New()
	if err != nil {
		return err
	}
	t := ResetToken{ExpiresAt: now.UTC().Truncate(time.Second).Add(ResetLifetime)}
	if a != nil {
		t.UserID, t.Email = a.UserID, a.Email
	}
	if err := r.Store.PutResetToken(ctx, hash, t); err != nil {
		return fmt.Errorf("store reset token: %w", err)
	}
	if a == nil {
		return nil
	}
	// A failed send must not answer differently: it is logged, and the
	// person asks again.
	if err := r.Mailer.SendPasswordReset(ctx, *a, ResetLink(baseURL, token)); err != nil {
		r.log(ctx, "password reset email failed", "userId", a.UserID, "error", redact.Error(err).Error())
	}
	return nil
}

// pad waits until Floor has passed since start (or ctx ends).
func (r *PasswordReset) pad(ctx context.Context, start time.Time) {
	wait := r.Floor - time.Since(start)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (r *PasswordReset) log(ctx context.Context, msg string, args ...any) {
	if r.Log != nil {
		r.Log.InfoContext(ctx, msg, args...)
	}
}

var errResetLinkOver = fault.New(fault.Gone, "this link is not valid any more: it was used or has expired; ask for a new one")

// Confirm sets a new password with a reset token, sent from source (an IP):
// under the same policy as accepting an invitation, once per token, before
// it expires. Every session of the account ends; the source that confirmed
// counts as known to the address, as after a correct password, so a
// stranger who spent the address's failure budget does not lock the owner
// out (other sources' throttles stay: a reset helps no guesser).
func (r *PasswordReset) Confirm(ctx context.Context, token, password, source string) error {
	if !opaque.Valid(token) {
		return errResetLinkOver
	}
	hash := opaque.Hash(token)
	t, err := r.Store.ResetToken(ctx, hash)
	if fault.CodeOf(err) == fault.NotFound {
		return errResetLinkOver
	}
	if err != nil {
		return fmt.Errorf("find reset token: %w", err)
	}
	now := r.Now().UTC()
	if t.UserID == "" || !now.Before(t.ExpiresAt) {
		return errResetLinkOver
	}
	a, err := r.Store.Account(ctx, t.UserID)
	if err != nil {
		return fmt.Errorf("load account %s: %w", t.UserID, err)
	}
	if a == nil || a.Email != t.Email {
		return errResetLinkOver // the account's address changed since the link went out
	}
	if e, ok := fault.As(CheckPassword(password, a.Email)); ok {
		var errs fault.Fields
		errs.Add("password", string(e.Code), e.Message)
		return errs.Err() // the token stays: the person tries another password
	}
	passwordHash, err := r.Hasher.Hash(password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := r.Store.CompleteReset(ctx, hash, a.UserID, a.Email, passwordHash, now); err != nil {
		return fmt.Errorf("reset password of %s: %w", a.UserID, err)
	}
	// Whoever knew the old password may hold a session: every one ends.
	if err := r.Sessions.RevokeSessions(ctx, a.UserID, ""); err != nil {
		return fmt.Errorf("revoke sessions of %s: %w", a.UserID, err)
	}
	if err := r.Store.SetSignInThrottle(ctx, a.Email, SourceKey(source), Throttle{LastSuccessAt: now}); err != nil {
		return fmt.Errorf("mark source known: %w", err)
	}
	return nil
}

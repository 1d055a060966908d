package selfservice

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
	"onboarding/shared/quota"
)

// EmailChangeLifetime is how long the confirmation link works: a day is
// enough to open the new mailbox, and short enough that a forgotten link
// in it is soon worthless.
const EmailChangeLifetime = 24 * time.Hour

// EmailChangeFloor is the least time starting a change takes once the
// password is right, so the answer's time does not tell whether another
// account has the new address (then no link goes out): the same bound as a
// password reset request's, for the same work (budgets, a lookup, a put and
// at most two emails).
const EmailChangeFloor = account.ResetFloor

// The budgets a change draws on. A person changes their address rarely;
// five starts a day leave room for typos. The new address's daily budget is
// the one every email the service itself sends draws on (reset's).
var (
	EmailChangesPerUser = 5
	AddressEmailsPerDay = account.DefaultResetLimits.DailyEmails
)

// EmailChange is a change of address waiting for the new address to
// confirm it. Only the hash of its token is stored. PasswordFingerprint
// binds it to the password the change was started with (passwordFingerprint):
// changing or resetting the password cancels it, so someone who knew the
// old password cannot finish a change the owner was warned of.
type EmailChange struct {
	UserID              string    `dynamodbav:"userId"`
	OldEmail            string    `dynamodbav:"oldEmail"`
	NewEmail            string    `dynamodbav:"newEmail"`
	PasswordFingerprint string    `dynamodbav:"passwordFingerprint"`
	ExpiresAt           time.Time `dynamodbav:"expiresAt"`
}

// passwordFingerprint is the SHA-256 of the account's stored password hash
// (hex): it changes whenever the password does (a fresh salt each time),
// and keeps the hash itself out of another item.
func passwordFingerprint(passwordHash string) string {
	sum := sha256.Sum256([]byte(passwordHash))
	return hex.EncodeToString(sum[:])
}

// EmailChangeRequest is a POST /me/email body.
type EmailChangeRequest struct {
	NewEmail string `json:"newEmail"`
	Password string `json:"password"`
}

// EmailChangeLink is the link the new address gets. As with the other
// links, the token sits in the fragment, so a link scanner that fetches the
// page neither sees nor uses it.
func EmailChangeLink(appURL, token string) string {
	return appURL + "/email-change#token=" + token
}

// StartEmailChange checks the caller's password (throttled like sign-in)
// and the new address, stores the change and emails a link to the new
// address; the old address is told. It says nothing of whether the new
// address has an account: then no link goes out (it could not be
// confirmed), but the same store work is done (a change naming no one) and
// the answer waits to Floor either way. Past the caller's daily budget it
// refuses (TooMany: their own count); past the new address's it answers the
// same as ever and sends nothing. requestURL is the base of the API the
// request came to, used when no AppURL is configured.
func (s *Service) StartEmailChange(ctx context.Context, userID, source, requestURL string, req EmailChangeRequest) error {
	a, err := s.account(ctx, userID)
	if err != nil {
		return err
	}
	newEmail, err := clean.Email(req.NewEmail)
	if err != nil {
		return &fault.Error{Code: fault.Invalid, Message: "the request has invalid fields",
			Fields: []fault.FieldError{{Field: "newEmail", Code: string(fault.Invalid), Message: "not an email address"}}}
	}
	if newEmail == a.Email {
		return &fault.Error{Code: fault.Invalid, Message: "the request has invalid fields",
			Fields: []fault.FieldError{{Field: "newEmail", Code: "unchanged", Message: "this is your address already"}}}
	}
	if err := s.checkPassword(ctx, a, req.Password, source, "password"); err != nil {
		return err
	}
	// The password's check takes its time whatever the address; from here
	// on the work differs, so the clock starts here.
	defer pad(ctx, time.Now(), s.Floor)
	now := s.Now().UTC()
	wait, err := s.Store.Take(ctx, quota.Name{Kind: quota.EmailChangeUser, Subject: userID}, EmailChangesPerUser, 24*time.Hour, now)
	if err != nil {
		return fmt.Errorf("take email change budget: %w", err)
	}
	if wait > 0 {
		return &fault.Error{Code: fault.TooMany, Message: "too many changes of address today; try again later", RetryAfter: wait}
	}
	wait, err = s.Store.Take(ctx, quota.Name{Kind: quota.AddressEmails, Subject: newEmail}, AddressEmailsPerDay, 24*time.Hour, now)
	if err != nil {
		return fmt.Errorf("take address budget: %w", err)
	}
	if wait > 0 {
		return nil // the same answer: nothing here tells of the address
	}
	taken, err := s.Store.AccountByEmail(ctx, newEmail)
	if err != nil {
		return fmt.Errorf("find account: %w", err)
	}
	token, hash, err := opaque.New()
	if err != nil {
		return err
	}
	// For a taken address the change names no one and confirms nothing,
	// and its token goes nowhere.
	c := EmailChange{ExpiresAt: now.Truncate(time.Second).Add(EmailChangeLifetime)}
	if taken == nil {
		c.UserID, c.OldEmail, c.NewEmail, c.PasswordFingerprint = userID, a.Email, newEmail, passwordFingerprint(a.PasswordHash)
	}
	if err := s.Store.PutEmailChange(ctx, hash, c); err != nil {
		return err
	}
	name := strings.TrimSpace(a.FirstName)
	if taken == nil {
		appURL := s.AppURL
		if appURL == "" {
			appURL = requestURL
		}
		if err := s.Mailer.SendEmailChange(ctx, newEmail, a.Language, name, EmailChangeLink(appURL, token)); err != nil {
			return fmt.Errorf("send email change link: %w", err)
		}
	}
	if err := s.Mailer.SendEmailChangeNotice(ctx, a.Email, a.Language, name, newEmail); err != nil {
		return fmt.Errorf("send email change notice: %w", err)
	}
	return nil
}

// pad waits until floor has passed since start (or ctx ends).
func pad(ctx context.Context, start time.Time, floor time.Duration) {
	wait := floor - time.Since(start)
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

var errUnknownEmailChange = fault.New(fault.NotFound, "this link is not valid (any more); ask for the change again")

// ConfirmEmailChange makes the change a link's token opens: the account
// and every membership move to the new address, in one transaction with
// the email guards, so an address someone else took meanwhile refuses
// (Conflict). A change whose account's password changed since it was
// started is cancelled (Gone). Then every session of the account ends: the
// devices signed in under the old address sign in again with the new one.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) error {
	if !opaque.Valid(token) {
		return errUnknownEmailChange
	}
	hash := opaque.Hash(token)
	c, err := s.Store.EmailChange(ctx, hash)
	if fault.CodeOf(err) == fault.NotFound {
		return errUnknownEmailChange
	}
	if err != nil {
		return fmt.Errorf("find email change: %w", err)
	}
	now := s.Now().UTC().Truncate(time.Second)
	if c.UserID == "" {
		return errUnknownEmailChange
	}
	if !now.Before(c.ExpiresAt) {
		return fault.New(fault.Gone, "this link has expired; ask for the change again")
	}
	a, err := s.Store.Account(ctx, c.UserID)
	if err != nil {
		return fmt.Errorf("load account %s: %w", c.UserID, err)
	}
	if a == nil {
		return errUnknownEmailChange
	}
	if subtle.ConstantTimeCompare([]byte(passwordFingerprint(a.PasswordHash)), []byte(c.PasswordFingerprint)) != 1 {
		return fault.New(fault.Gone, "the change was cancelled: the password changed; ask for the change again")
	}
	ms, err := s.Store.Memberships(ctx, c.UserID)
	if err != nil {
		return fmt.Errorf("load memberships of %s: %w", c.UserID, err)
	}
	for i := range ms {
		ms[i].Email = c.NewEmail
	}
	// The store checks the hash again in its transaction: a password
	// changed from now on cancels the change as well.
	if err := s.Store.ChangeEmail(ctx, hash, c, a.PasswordHash, ms, now); err != nil {
		if fault.CodeOf(err) == fault.NotFound {
			return errUnknownEmailChange
		}
		return err
	}
	// After the change, best effort: an invitation left under the old
	// address is missed by export and erasure, but the change stands.
	if err := s.Store.MoveInvitations(ctx, c.OldEmail, c.NewEmail); err != nil {
		slog.ErrorContext(ctx, "move invitations to the new address", "userId", c.UserID, "error", err)
	}
	return s.revoke(ctx, c.UserID, "")
}

package selfservice

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"onboarding/shared/clean"
	"onboarding/shared/fault"
)

// EmailChangeLifetime is how long the confirmation link works: a day is
// enough to open the new mailbox, and short enough that a forgotten link
// in it is soon worthless.
const EmailChangeLifetime = 24 * time.Hour

// EmailChange is a change of address waiting for the new address to
// confirm it. Only the hash of its token is stored.
type EmailChange struct {
	UserID    string    `dynamodbav:"userId"`
	OldEmail  string    `dynamodbav:"oldEmail"`
	NewEmail  string    `dynamodbav:"newEmail"`
	ExpiresAt time.Time `dynamodbav:"expiresAt"`
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

// newToken returns a 256-bit token and its SHA-256 hash (hex).
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("read token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// validTokenShape keeps junk from reaching the store.
func validTokenShape(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// StartEmailChange checks the caller's password (throttled like sign-in)
// and the new address, stores the change and emails a link to the new
// address; the old address is told. It says nothing of whether the new
// address has an account: then no link goes out (it could not be
// confirmed), and the answer is the same. requestURL is the base of the API
// the request came to, used when no AppURL is configured.
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
	taken, err := s.Store.AccountByEmail(ctx, newEmail)
	if err != nil {
		return fmt.Errorf("find account: %w", err)
	}
	name := strings.TrimSpace(a.FirstName)
	if taken == nil {
		token, hash, err := newToken()
		if err != nil {
			return err
		}
		c := EmailChange{UserID: userID, OldEmail: a.Email, NewEmail: newEmail,
			ExpiresAt: s.Now().UTC().Truncate(time.Second).Add(EmailChangeLifetime)}
		if err := s.Store.PutEmailChange(ctx, hash, c); err != nil {
			return err
		}
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

var errUnknownEmailChange = fault.New(fault.NotFound, "this link is not valid (any more); ask for the change again")

// ConfirmEmailChange makes the change a link's token opens: the account
// and every membership move to the new address, in one transaction with
// the email guards, so an address someone else took meanwhile refuses
// (Conflict). Then every session of the account ends: the devices signed
// in under the old address sign in again with the new one.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) error {
	if !validTokenShape(token) {
		return errUnknownEmailChange
	}
	hash := hashToken(token)
	c, err := s.Store.EmailChange(ctx, hash)
	if fault.CodeOf(err) == fault.NotFound {
		return errUnknownEmailChange
	}
	if err != nil {
		return fmt.Errorf("find email change: %w", err)
	}
	now := s.Now().UTC().Truncate(time.Second)
	if !now.Before(c.ExpiresAt) {
		return fault.New(fault.Gone, "this link has expired; ask for the change again")
	}
	ms, err := s.Store.Memberships(ctx, c.UserID)
	if err != nil {
		return fmt.Errorf("load memberships of %s: %w", c.UserID, err)
	}
	for i := range ms {
		ms[i].Email = c.NewEmail
	}
	if err := s.Store.ChangeEmail(ctx, hash, c, ms, now); err != nil {
		if fault.CodeOf(err) == fault.NotFound {
			return errUnknownEmailChange
		}
		return err
	}
	return s.revoke(ctx, c.UserID, "")
}

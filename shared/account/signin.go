package account

import (
	"context"
	"fmt"
	"sync"
	"time"

	"onboarding/shared/fault"
)

// Throttle is the failed sign-in record of one email address. It is kept per
// address, whether or not an account exists, so the throttle itself does not
// reveal which addresses have accounts.
type Throttle struct {
	Failures      int       `dynamodbav:"failures"`
	LastFailureAt time.Time `dynamodbav:"lastFailureAt"`
	NextAllowedAt time.Time `dynamodbav:"nextAllowedAt"`
}

// Throttling policy: the first FreeFailures failures cost nothing; each one
// after that doubles a wait (1 s, 2 s, 4 s, ...) up to MaxWait. A quiet hour
// forgives everything.
const (
	FreeFailures  = 5
	MaxWait       = 15 * time.Minute
	ForgiveWindow = time.Hour
)

// Fail returns the throttle after one more failure at now.
func (t Throttle) Fail(now time.Time) Throttle {
	if now.Sub(t.LastFailureAt) > ForgiveWindow {
		t = Throttle{}
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

// Credentials are what sign-in needs of an account.
type Credentials struct {
	UserID       string
	Email        string
	PasswordHash string
}

// SignInStore loads and records what sign-in needs.
type SignInStore interface {
	// SignInState returns the account's credentials (nil when no account has
	// this email) and the address's throttle.
	SignInState(ctx context.Context, email string) (*Credentials, Throttle, error)
	RecordSignInFailure(ctx context.Context, email string, t Throttle) error
	ClearSignInFailures(ctx context.Context, email string) error
}

// TokenIssuer issues access tokens for a signed-in account.
type TokenIssuer interface {
	Issue(ctx context.Context, userID, email string) (token string, lifetime time.Duration, err error)
}

// Session is the result of a successful sign-in.
type Session struct {
	AccessToken string `json:"accessToken"`
	TokenType   string `json:"tokenType"`
	ExpiresIn   int    `json:"expiresIn"`
}

// SignIn checks passwords and issues tokens.
type SignIn struct {
	Store  SignInStore
	Hasher Hasher
	Tokens TokenIssuer
	Now    func() time.Time

	decoyOnce sync.Once
	decoy     string
}

// owaspDecoy is an argon2id hash, with the OWASP parameters, of a password
// nobody can type. Sign-in verifies it when no account has the email, so a
// wrong email costs the same time as a wrong password. It is a constant so
// that cold starts do not pay for a hash.
const owaspDecoy = "$argon2id$v=19$m=19456,t=2,p=1$F99CS49jnN+9NyhdY/+j/Q$9TE6Z8gKvzQEf9qeMIuMpbPpLarkv3XesQF0m+dHUgM"

// NewSignIn returns a sign-in service.
func NewSignIn(store SignInStore, hasher Hasher, tokens TokenIssuer, now func() time.Time) *SignIn {
	return &SignIn{Store: store, Hasher: hasher, Tokens: tokens, Now: now}
}

// decoyHash returns a hash with the hasher's own parameters: the constant
// for OWASP, else one made once.
func (s *SignIn) decoyHash() string {
	s.decoyOnce.Do(func() {
		if s.Hasher.Params == OWASP {
			s.decoy = owaspDecoy
			return
		}
		s.decoy, _ = s.Hasher.Hash("decoy: this matches no password anyone can type\x00")
	})
	return s.decoy
}

var errBadCredentials = fault.New(fault.Unauthorized, "the email or password is wrong")

// SignIn verifies email and password and returns a session. A wrong email and
// a wrong password give the same error.
func (s *SignIn) SignIn(ctx context.Context, email, password string) (Session, error) {
	email, err := NormalizeEmail(email)
	if err != nil || password == "" || len(password) > 4*MaxPasswordLen {
		return Session{}, errBadCredentials
	}
	creds, throttle, err := s.Store.SignInState(ctx, email)
	if err != nil {
		return Session{}, fmt.Errorf("sign-in state: %w", err)
	}
	now := s.Now()
	if wait := throttle.NextAllowedAt.Sub(now); wait > 0 {
		e := fault.New(fault.TooMany, "too many failed sign-ins; try again later")
		e.RetryAfter = wait
		return Session{}, e
	}
	hash := s.decoyHash()
	if creds != nil {
		hash = creds.PasswordHash
	}
	ok, err := s.Hasher.Verify(hash, password)
	if err != nil {
		return Session{}, fmt.Errorf("verify password: %w", err)
	}
	if !ok || creds == nil {
		if err := s.Store.RecordSignInFailure(ctx, email, throttle.Fail(now)); err != nil {
			return Session{}, fmt.Errorf("record sign-in failure: %w", err)
		}
		return Session{}, errBadCredentials
	}
	if throttle.Failures > 0 {
		if err := s.Store.ClearSignInFailures(ctx, email); err != nil {
			return Session{}, fmt.Errorf("clear sign-in failures: %w", err)
		}
	}
	token, lifetime, err := s.Tokens.Issue(ctx, creds.UserID, creds.Email)
	if err != nil {
		return Session{}, fmt.Errorf("issue token: %w", err)
	}
	return Session{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(lifetime.Seconds())}, nil
}

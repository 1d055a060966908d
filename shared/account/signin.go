package account

import (
	"context"
	"fmt"
	"sync"
	"time"

	"onboarding/shared/clean"
	"onboarding/shared/fault"
)

// Credentials are what sign-in needs of an account.
type Credentials struct {
	UserID       string
	Email        string
	PasswordHash string
}

// SignInStore loads and records what sign-in needs.
type SignInStore interface {
	GuessStore
	// Credentials returns the account's credentials, or nil when no account
	// has this email.
	Credentials(ctx context.Context, email string) (*Credentials, error)
}

// TokenIssuer issues access tokens for a signed-in account.
type TokenIssuer interface {
	Issue(ctx context.Context, userID, email, sessionID string) (token string, lifetime time.Duration, err error)
}

// Session is the result of a successful sign-in.
type Session struct {
	AccessToken string `json:"accessToken"`
	TokenType   string `json:"tokenType"`
	ExpiresIn   int    `json:"expiresIn"`
	// RefreshToken is absent when sign-in opens no session (Sessions nil).
	RefreshToken string `json:"refreshToken,omitempty"`
}

// SignIn checks passwords and issues tokens.
type SignIn struct {
	Store   SignInStore
	Hasher  Hasher
	Tokens  TokenIssuer
	Guesses *Guesses
	// Sessions, when set, opens a session at each sign-in, so that the
	// answer carries a refresh token too.
	Sessions *Sessions

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
	return &SignIn{Store: store, Hasher: hasher, Tokens: tokens, Guesses: NewGuesses(store, now)}
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

// SignIn verifies email and password, sent from source (the caller's IP)
// with userAgent (its User-Agent header), and returns a session. A wrong email and a wrong password give the same
// error; a guess over a limit is refused (429) before any password is checked.
func (s *SignIn) SignIn(ctx context.Context, email, password, source, userAgent string) (Session, error) {
	email, err := clean.Email(email)
	if err != nil || password == "" || len(password) > 4*MaxPasswordLen {
		return Session{}, errBadCredentials
	}
	succeeded, err := s.Guesses.Reserve(ctx, email, source)
	if err != nil {
		return Session{}, err
	}
	creds, err := s.Store.Credentials(ctx, email)
	if err != nil {
		return Session{}, fmt.Errorf("sign-in credentials: %w", err)
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
		return Session{}, errBadCredentials // the reserved guess stays counted
	}
	if err := succeeded(ctx); err != nil {
		return Session{}, err
	}
	if s.Sessions != nil {
		return s.startSession(ctx, creds, userAgent)
	}
	token, lifetime, err := s.Tokens.Issue(ctx, creds.UserID, creds.Email, "")
	if err != nil {
		return Session{}, fmt.Errorf("issue token: %w", err)
	}
	return Session{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(lifetime.Seconds())}, nil
}

// startSession opens a session, then reads the account again: a password
// reset or change, an email change or an erasure that wrote the account
// after this sign-in read it, and revoked the sessions before this one was
// stored, would otherwise leave it live. The store reads are strongly
// consistent, so either the revoke's Query sees the session or this read
// sees the change; on a change the session ends and the sign-in fails.
func (s *SignIn) startSession(ctx context.Context, creds *Credentials, userAgent string) (Session, error) {
	session, err := s.Sessions.Start(ctx, creds.UserID, creds.Email, userAgent)
	if err != nil {
		return Session{}, err
	}
	again, err := s.Store.Credentials(ctx, creds.Email)
	if err != nil {
		return Session{}, fmt.Errorf("sign-in credentials again: %w", err)
	}
	if again != nil && again.UserID == creds.UserID && again.PasswordHash == creds.PasswordHash {
		return session, nil
	}
	_, id, _, _ := parseRefreshToken(session.RefreshToken)
	if _, err := s.Sessions.Store.DeleteSession(ctx, creds.UserID, id, ""); err != nil {
		return Session{}, fmt.Errorf("end a session opened during a password change: %w", err)
	}
	return Session{}, errBadCredentials
}

package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/opaque"
)

// Session lifetimes unless the template sets others: a session unused for
// Idle ends, and none outlives Absolute however often it is refreshed.
const (
	DefaultSessionIdle     = 30 * 24 * time.Hour
	DefaultSessionAbsolute = 90 * 24 * time.Hour
	// RefreshGrace is how long after a rotation the spent token is taken
	// for a client's concurrent or retried refresh rather than a reuse.
	RefreshGrace = 30 * time.Second
	// DefaultMaxSessions is how many live sessions a person may have.
	DefaultMaxSessions = 50
	// MaxUserAgent is how much of a User-Agent header a session keeps.
	MaxUserAgent = 200
)

// StoredSession is a session (a refresh token family) as the store keeps
// it: the hash of its current secret, never the token.
type StoredSession struct {
	UserID string `dynamodbav:"userId"`
	ID     string `dynamodbav:"sessionId"`
	// Email is the address the access tokens name; an email change revokes
	// the sessions, so it does not go stale.
	Email string `dynamodbav:"email"`
	Hash  string `dynamodbav:"hash"`
	// PrevHash is the hash of the secret the last refresh spent, and
	// RotatedAt when: a refresh tells a retry of the spent token (within
	// RefreshGrace) from a reuse, and either from a forged secret.
	PrevHash  string    `dynamodbav:"prevHash"`
	RotatedAt time.Time `dynamodbav:"rotatedAt"`
	UserAgent string    `dynamodbav:"userAgent"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	// LastUsedAt is the last sign-in or refresh.
	LastUsedAt    time.Time `dynamodbav:"lastUsedAt"`
	IdleExpiresAt time.Time `dynamodbav:"idleExpiresAt"`
	ExpiresAt     time.Time `dynamodbav:"expiresAt"`
}

// SessionStore keeps sessions. Refreshing one costs one read (Session) and
// one conditional write (RotateSession).
type SessionStore interface {
	SessionRevoker
	PutSession(ctx context.Context, s StoredSession) error
	// Session returns the session, or nil when there is none.
	Session(ctx context.Context, userID, id string) (*StoredSession, error)
	// RotateSession writes s's hash, previous hash, rotation time, last use
	// and idle expiry if the stored
	// hash is still oldHash and the session has not expired at now; else it
	// fails with fault.Conflict.
	RotateSession(ctx context.Context, s StoredSession, oldHash string, now time.Time) error
	// DeleteSession deletes the session if it exists and, when hash is not
	// "", its current hash is hash; it reports whether it deleted one.
	DeleteSession(ctx context.Context, userID, id, hash string) (bool, error)
	// Sessions returns all the user's sessions, ended ones included.
	Sessions(ctx context.Context, userID string) ([]StoredSession, error)
}

// Sessions starts, refreshes and ends sessions. A refresh token is
// "<user>.<session>.<secret>": the ids let a refresh read its session by
// key, the 256-bit secret is stored only as its SHA-256 and is replaced on
// every refresh.
type Sessions struct {
	Store          SessionStore
	Tokens         TokenIssuer
	Idle, Absolute time.Duration
	// MaxSessions caps a person's sessions (DefaultMaxSessions when 0).
	MaxSessions int
	Now         func() time.Time
}

// SessionView is one of a person's sessions as GET /me/sessions shows it.
type SessionView struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt"`
	UserAgent  string    `json:"userAgent"`
	// Current is the session the caller's access token was issued in.
	Current bool `json:"current"`
}

// SessionList is a person's live sessions, the last used first.
type SessionList struct {
	Sessions []SessionView `json:"sessions"`
}

var errSessionEnded = fault.New(fault.Unauthorized, "the session has ended: sign in again")

func (s *Sessions) now() time.Time { return s.Now().UTC().Truncate(time.Second) }

// Start opens a session for a person who has just proven who they are, and
// returns its first access and refresh tokens. Beyond MaxSessions it ends
// the person's sessions used longest ago (see trim).
func (s *Sessions) Start(ctx context.Context, userID, email, userAgent string) (Session, error) {
	now := s.now()
	secret, hash, err := opaque.New()
	if err != nil {
		return Session{}, err
	}
	st := StoredSession{UserID: userID, ID: newSessionID(), Email: email, Hash: hash,
		UserAgent: trimUserAgent(userAgent), CreatedAt: now, LastUsedAt: now,
		IdleExpiresAt: now.Add(s.idle()), ExpiresAt: now.Add(s.absolute())}
	st.IdleExpiresAt = minTime(st.IdleExpiresAt, st.ExpiresAt)
	if err := s.Store.PutSession(ctx, st); err != nil {
		return Session{}, fmt.Errorf("start session: %w", err)
	}
	if err := s.trim(ctx, st); err != nil {
		return Session{}, err
	}
	return s.issue(ctx, st, secret)
}

// trim ends the user's sessions beyond MaxSessions, ended ones first, then
// the least recently used, never the new one: someone with the password
// cannot pile up sessions that a revoke-all (password change, reset,
// erasure) could not finish deleting in time. It runs after the put, so
// that of concurrent sign-ins the last to read sees them all.
func (s *Sessions) trim(ctx context.Context, added StoredSession) error {
	all, err := s.Store.Sessions(ctx, added.UserID)
	if err != nil {
		return fmt.Errorf("count sessions: %w", err)
	}
	limit := s.MaxSessions
	if limit <= 0 {
		limit = DefaultMaxSessions
	}
	if len(all) <= limit {
		return nil
	}
	now := s.now()
	ended := func(st StoredSession) bool { return !now.Before(st.IdleExpiresAt) || !now.Before(st.ExpiresAt) }
	sort.SliceStable(all, func(i, j int) bool {
		if ei, ej := ended(all[i]), ended(all[j]); ei != ej {
			return ei
		}
		return all[i].LastUsedAt.Before(all[j].LastUsedAt)
	})
	for _, st := range all[:len(all)-limit] {
		if st.ID == added.ID {
			continue
		}
		if _, err := s.Store.DeleteSession(ctx, st.UserID, st.ID, ""); err != nil {
			return fmt.Errorf("end the oldest session: %w", err)
		}
	}
	return nil
}

// Refresh trades a refresh token for a new access token and a new refresh
// token. The secret is one of:
//   - the session's current one: it is rotated (a conditional write; of
//     refreshes racing with it one wins, the others get 401 and end nothing);
//   - the one the last refresh spent, within RefreshGrace of that: a client's
//     concurrent or retried refresh; 401, and the winner's new token goes on;
//   - the spent one after the grace: a rotated token used again, so someone
//     holds a copy; the whole session ends and whoever holds its current
//     token, the person or a thief, must sign in again;
//   - neither: 401 and nothing ends. Only the ids are known to whoever sent
//     it (they are in the access token's sid and the export), which proves
//     nothing about the session's holder.
func (s *Sessions) Refresh(ctx context.Context, refreshToken string) (Session, error) {
	userID, id, secret, ok := parseRefreshToken(refreshToken)
	if !ok {
		return Session{}, errSessionEnded
	}
	st, err := s.Store.Session(ctx, userID, id)
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	if st == nil {
		return Session{}, errSessionEnded
	}
	now := s.now()
	presented := opaque.Hash(secret)
	switch {
	case sameHash(presented, st.Hash):
	case st.PrevHash != "" && sameHash(presented, st.PrevHash):
		if now.Before(st.RotatedAt.Add(RefreshGrace)) {
			return Session{}, fmt.Errorf("refresh token spent moments ago (a retry): %w", errSessionEnded)
		}
		if _, err := s.Store.DeleteSession(ctx, userID, id, ""); err != nil {
			return Session{}, fmt.Errorf("revoke reused session: %w", err)
		}
		return Session{}, fmt.Errorf("refresh token reused: session revoked: %w", errSessionEnded)
	default:
		return Session{}, fmt.Errorf("not a secret of this session: %w", errSessionEnded)
	}
	if !now.Before(st.IdleExpiresAt) || !now.Before(st.ExpiresAt) {
		return Session{}, errSessionEnded
	}
	next := *st
	newSecret, newHash, err := opaque.New()
	if err != nil {
		return Session{}, err
	}
	next.Hash, next.PrevHash, next.RotatedAt, next.LastUsedAt = newHash, st.Hash, now, now
	next.IdleExpiresAt = minTime(now.Add(s.idle()), st.ExpiresAt)
	if err := s.Store.RotateSession(ctx, next, st.Hash, now); err != nil {
		if fault.CodeOf(err) == fault.Conflict {
			return Session{}, fmt.Errorf("refresh lost a race: %w", errSessionEnded)
		}
		return Session{}, fmt.Errorf("rotate session: %w", err)
	}
	return s.issue(ctx, next, newSecret)
}

// SignOut ends the session of a refresh token. Signing out twice, or with
// a token that is no longer current, succeeds and ends nothing more: only
// the current token can end a session this way.
func (s *Sessions) SignOut(ctx context.Context, refreshToken string) error {
	userID, id, secret, ok := parseRefreshToken(refreshToken)
	if !ok {
		return nil
	}
	if _, err := s.Store.DeleteSession(ctx, userID, id, opaque.Hash(secret)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// List returns the caller's live sessions; current is the session of the
// caller's access token.
func (s *Sessions) List(ctx context.Context, userID, current string) (SessionList, error) {
	all, err := s.Store.Sessions(ctx, userID)
	if err != nil {
		return SessionList{}, fmt.Errorf("list sessions: %w", err)
	}
	now := s.now()
	out := SessionList{Sessions: []SessionView{}}
	for _, st := range all {
		if !now.Before(st.IdleExpiresAt) || !now.Before(st.ExpiresAt) {
			continue // ended; the TTL has yet to remove it
		}
		out.Sessions = append(out.Sessions, SessionView{ID: st.ID, CreatedAt: st.CreatedAt, LastUsedAt: st.LastUsedAt,
			UserAgent: st.UserAgent, Current: st.ID == current})
	}
	sort.SliceStable(out.Sessions, func(i, j int) bool { return out.Sessions[i].LastUsedAt.After(out.Sessions[j].LastUsedAt) })
	return out, nil
}

// Revoke ends one of the caller's sessions. Another person's session is
// not found: the store looks only among the caller's.
func (s *Sessions) Revoke(ctx context.Context, userID, id string) error {
	if !idShape.MatchString(id) {
		return fault.New(fault.NotFound, "no such session")
	}
	deleted, err := s.Store.DeleteSession(ctx, userID, id, "")
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if !deleted {
		return fault.New(fault.NotFound, "no such session")
	}
	return nil
}

func (s *Sessions) issue(ctx context.Context, st StoredSession, secret string) (Session, error) {
	token, lifetime, err := s.Tokens.Issue(ctx, st.UserID, st.Email, st.ID)
	if err != nil {
		return Session{}, fmt.Errorf("issue token: %w", err)
	}
	return Session{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(lifetime.Seconds()),
		RefreshToken: st.UserID + "." + st.ID + "." + secret}, nil
}

func (s *Sessions) idle() time.Duration {
	if s.Idle > 0 {
		return s.Idle
	}
	return DefaultSessionIdle
}

func (s *Sessions) absolute() time.Duration {
	if s.Absolute > 0 {
		return s.Absolute
	}
	return DefaultSessionAbsolute
}

// idShape is what a user or session id may look like (they go into keys).
var idShape = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// parseRefreshToken splits a refresh token; ok is false for anything that
// cannot be one, so junk never reaches the store.
func parseRefreshToken(token string) (userID, id, secret string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || !idShape.MatchString(parts[0]) || !idShape.MatchString(parts[1]) || len(parts[2]) != 43 {
		return "", "", "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func sameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func newSessionID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the runtime guarantees it does not
	}
	return hex.EncodeToString(b)
}

// trimUserAgent keeps the first MaxUserAgent characters of a header.
func trimUserAgent(ua string) string {
	ua = strings.TrimSpace(ua)
	if r := []rune(ua); len(r) > MaxUserAgent {
		ua = string(r[:MaxUserAgent])
	}
	return ua
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

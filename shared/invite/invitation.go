// Package invite is the invitation lifecycle: an admin invites a person, the
// person previews and accepts, and the invitation ends accepted, revoked or
// expired. The rules live here; storage and mail are interfaces the adapters
// satisfy.
package invite

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"onboarding/shared/org"
	"time"
)

// Status is where an invitation is in its life.
type Status string

const (
	Pending  Status = "pending"
	Accepted Status = "accepted"
	Revoked  Status = "revoked"
	Expired  Status = "expired"
)

// Delivery statuses of the invitation email.
const (
	DeliveryQueued = "queued"
	DeliverySent   = "sent"
	DeliveryFailed = "failed"
)

// Invitation is an offer of membership with a role, scoped to units.
type Invitation struct {
	ID             string            `json:"invitationId" dynamodbav:"invitationId"`
	OrgID          string            `json:"orgId" dynamodbav:"orgId"`
	OrgName        string            `json:"-" dynamodbav:"orgName"`
	Email          string            `json:"email" dynamodbav:"email"`
	FirstName      string            `json:"firstName" dynamodbav:"firstName"`
	LastName       string            `json:"lastName" dynamodbav:"lastName"`
	Salutation     string            `json:"salutation" dynamodbav:"salutation"`
	Phone          string            `json:"phone" dynamodbav:"phone"`
	Language       string            `json:"language" dynamodbav:"language"`
	Role           string            `json:"role" dynamodbav:"role"`
	Units          []string          `json:"units" dynamodbav:"units"`
	Attributes     map[string]string `json:"attributes" dynamodbav:"attributes"`
	Message        string            `json:"-" dynamodbav:"message"`
	Status         Status            `json:"status" dynamodbav:"status"`
	DeliveryStatus string            `json:"deliveryStatus" dynamodbav:"deliveryStatus"`
	InvitedBy      string            `json:"invitedBy" dynamodbav:"invitedBy"`
	InviterName    string            `json:"-" dynamodbav:"inviterName"`
	CreatedAt      time.Time         `json:"createdAt" dynamodbav:"createdAt"`
	ExpiresAt      time.Time         `json:"expiresAt" dynamodbav:"expiresAt"`
	AcceptedAt     *time.Time        `json:"acceptedAt" dynamodbav:"acceptedAt,omitempty"`
	// TokenHash is the SHA-256 of the live token; the token itself is never stored.
	TokenHash string `json:"-" dynamodbav:"tokenHash"`
	// UserID is the account that accepted.
	UserID string `json:"-" dynamodbav:"userId,omitempty"`
	// Resends are the times of the latest resends (at most the last
	// MaxResendsPerDay), for the resend limit.
	Resends []time.Time `json:"-" dynamodbav:"resends,omitempty"`
	// RevokedAt is when an admin revoked the invitation.
	RevokedAt *time.Time `json:"revokedAt,omitempty" dynamodbav:"revokedAt,omitempty"`
	// Templates are the organisation's email overrides, carried to the
	// mailer with the invitation (never stored with it).
	Templates org.EmailTemplates `json:"-" dynamodbav:"-"`
}

// StatusAt is the invitation's status as seen at now: a pending invitation
// past its expiry is expired even before any sweep has marked it.
func (inv Invitation) StatusAt(now time.Time) Status {
	if inv.Status == Pending && !now.Before(inv.ExpiresAt) {
		return Expired
	}
	return inv.Status
}

// NewToken returns a fresh 256-bit token (base64url, 43 characters) and the
// hash under which it is stored.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("read token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns the hex SHA-256 of a token. A 256-bit random token needs
// no salt or slow hash: it cannot be guessed, only stolen, and the hash keeps
// a leaked table from yielding live links.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// validTokenShape reports whether s could be a token at all, so junk never
// reaches the store.
func validTokenShape(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// NewSortableID returns an identifier that sorts by creation time: 48 bits
// of Unix milliseconds, then 80 random bits, in hex. Invitations use it, so
// that listing them by key lists them by age.
func NewSortableID(now time.Time) string {
	b := make([]byte, 16)
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b)
}

// NewID returns a random 128-bit identifier, URL-safe.
func NewID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the runtime guarantees it does not
	}
	return hex.EncodeToString(b)
}

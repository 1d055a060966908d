// Package invite is the invitation lifecycle: an admin invites a person, the
// person previews and accepts, and the invitation ends accepted, revoked or
// expired. The rules live here; storage and mail are interfaces the adapters
// satisfy.
package invite

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"onboarding/shared/monitor"
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
	ID             string         `json:"invitationId" dynamodbav:"invitationId"`
	OrgID          string         `json:"orgId" dynamodbav:"orgId"`
	OrgName        string         `json:"-" dynamodbav:"orgName"`
	Email          string         `json:"email" dynamodbav:"email"`
	FirstName      string         `json:"firstName" dynamodbav:"firstName"`
	LastName       string         `json:"lastName" dynamodbav:"lastName"`
	Salutation     string         `json:"salutation" dynamodbav:"salutation"`
	Phone          string         `json:"phone" dynamodbav:"phone"`
	Language       string         `json:"language" dynamodbav:"language"`
	Role           string         `json:"role" dynamodbav:"role"`
	Units          []string       `json:"units" dynamodbav:"units"`
	Attributes     org.Attributes `json:"attributes" dynamodbav:"attributes"`
	Message        string         `json:"-" dynamodbav:"message"`
	Status         Status         `json:"status" dynamodbav:"status"`
	DeliveryStatus string         `json:"deliveryStatus" dynamodbav:"deliveryStatus"`
	InvitedBy      string         `json:"invitedBy" dynamodbav:"invitedBy"`
	InviterName    string         `json:"-" dynamodbav:"inviterName"`
	CreatedAt      time.Time      `json:"createdAt" dynamodbav:"createdAt"`
	ExpiresAt      time.Time      `json:"expiresAt" dynamodbav:"expiresAt"`
	AcceptedAt     *time.Time     `json:"acceptedAt" dynamodbav:"acceptedAt,omitempty"`
	// TokenHash is the SHA-256 of the live token; the token itself is never stored.
	TokenHash string `json:"-" dynamodbav:"tokenHash"`
	// UserID is the account that accepted.
	UserID string `json:"-" dynamodbav:"userId,omitempty"`
	// Resends are the times of the latest resends (at most the last
	// MaxResendsPerDay), for the resend limit.
	Resends []time.Time `json:"-" dynamodbav:"resends,omitempty"`
	// RevokedAt is when an admin revoked the invitation.
	RevokedAt *time.Time `json:"revokedAt,omitempty" dynamodbav:"revokedAt,omitempty"`
	// ExpiredAt is when a sweep marked the invitation expired.
	ExpiredAt *time.Time `json:"expiredAt,omitempty" dynamodbav:"expiredAt,omitempty"`

	// RemindAt is when the invitee is reminded, if the organisation sends
	// reminders and the window allows one; a resend sets it afresh.
	RemindAt *time.Time `json:"remindAt,omitempty" dynamodbav:"remindAt,omitempty"`
	// RemindedAt is when the reminder of this window went out.
	RemindedAt *time.Time `json:"remindedAt,omitempty" dynamodbav:"remindedAt,omitempty"`
	// ReminderTokenHash is the hash of the token the reminder carried; it
	// opens the invitation as the original one does.
	ReminderTokenHash string `json:"-" dynamodbav:"reminderTokenHash,omitempty"`
	// DeliveryAttempts counts the tries of the email being retried (zero once
	// it is sent).
	DeliveryAttempts int `json:"deliveryAttempts" dynamodbav:"deliveryAttempts"`
	// RetryMail is the email a sweep tries again: MailInvitation,
	// MailReminder or MailAdded.
	RetryMail string `json:"-" dynamodbav:"retryMail,omitempty"`
	// NextDeliveryAt is when that email is tried again; nil when nothing is
	// to be retried (sent, or given up: deliveryStatus stays "failed").
	NextDeliveryAt *time.Time `json:"nextDeliveryAt,omitempty" dynamodbav:"nextDeliveryAt,omitempty"`
	// LeaveTokenHash is the SHA-256 of the token in the leave link of the
	// "added" email (an existing account added at once), and LeaveExpiresAt
	// when that link stops working. Each send of that email has a new one.
	LeaveTokenHash string     `json:"-" dynamodbav:"leaveTokenHash,omitempty"`
	LeaveExpiresAt *time.Time `json:"-" dynamodbav:"leaveExpiresAt,omitempty"`
	// Profile is the monitoring profile a roster gave the invitee; it
	// becomes the member's profile on acceptance. Never shown in responses.
	Profile *monitor.Profile `json:"-" dynamodbav:"profile,omitempty"`
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

// NextDue is when a sweep next has something to do with the invitation: its
// expiry, its reminder or a retry of a failed email, whichever comes first.
// ok is false when nothing is due ever again. The store indexes invitations
// by this time, so a sweep reads only what is due.
func (inv Invitation) NextDue() (due time.Time, ok bool) {
	consider := func(t *time.Time) {
		if t != nil && (due.IsZero() || t.Before(due)) {
			due = *t
		}
	}
	consider(inv.NextDeliveryAt)
	if inv.Status == Pending {
		consider(&inv.ExpiresAt)
		if inv.RemindedAt == nil {
			consider(inv.RemindAt)
		}
	}
	return due, !due.IsZero()
}

// Opens reports whether a token hash opens the invitation: the live token of
// the invitation email or the one of its reminder.
func (inv Invitation) Opens(hash string) bool {
	return hash != "" && (hash == inv.TokenHash || hash == inv.ReminderTokenHash)
}

// remindAt is when an invitation expiring at expiresAt is reminded: the
// organisation's number of days before, if that is still ahead of now.
func remindAt(o org.Organisation, expiresAt, now time.Time) *time.Time {
	days := o.Settings.ReminderDaysBeforeExpiry
	if days <= 0 {
		return nil
	}
	t := expiresAt.Add(-time.Duration(days) * 24 * time.Hour)
	if !t.After(now) {
		return nil
	}
	return &t
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

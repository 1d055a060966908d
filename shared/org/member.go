package org

import (
	"time"

	"onboarding/shared/access"
)

// Member is a person's membership of one organisation.
type Member struct {
	UserID    string    `json:"userId" dynamodbav:"userId"`
	OrgID     string    `json:"orgId" dynamodbav:"orgId"`
	OrgName   string    `json:"orgName,omitempty" dynamodbav:"orgName"`
	Email     string    `json:"email" dynamodbav:"email"`
	FirstName string    `json:"firstName" dynamodbav:"firstName"`
	LastName  string    `json:"lastName" dynamodbav:"lastName"`
	Phone     string    `json:"phone,omitempty" dynamodbav:"phone,omitempty"`
	Role      string    `json:"role" dynamodbav:"role"`
	Units     []string  `json:"units" dynamodbav:"units"`
	JoinedAt  time.Time `json:"joinedAt" dynamodbav:"joinedAt"`
	// InvitationID is the invitation that made this membership. A leave
	// link names it, so that it ends this membership and no later one.
	InvitationID string `json:"-" dynamodbav:"invitationId,omitempty"`
	// TermsVersion is the version of the organisation's terms the member
	// accepted, and when ("" and nil: none yet, as for someone added at
	// once with their account).
	TermsVersion    string     `json:"termsVersion,omitempty" dynamodbav:"termsVersion,omitempty"`
	TermsAcceptedAt *time.Time `json:"termsAcceptedAt,omitempty" dynamodbav:"termsAcceptedAt,omitempty"`
	// TermsStatus is filled for the member's own view (GET /me), never stored.
	TermsStatus *TermsStatus `json:"terms,omitempty" dynamodbav:"-"`
}

// IsOrgWideAdmin reports whether m holds the owner role and is not limited
// to units: the last-admin guard counts these by the owner's key, which no
// change of display names moves.
func (m Member) IsOrgWideAdmin() bool { return m.Role == access.Owner && len(m.Units) == 0 }

// Recipient is a member to email, in their language: the store finds them
// (an organisation's admins), the mailer writes to them.
type Recipient struct {
	Email, Language, Name string
}

// Package account holds a person's sign-in identity: the normalized email,
// the names, the password hash and the terms they accepted. One account may
// belong to many organisations (see org.Member).
package account

import (
	"context"
	"time"
)

// Account is a person who can sign in.
type Account struct {
	UserID          string    `json:"userId" dynamodbav:"userId"`
	Email           string    `json:"email" dynamodbav:"email"`
	FirstName       string    `json:"firstName" dynamodbav:"firstName"`
	LastName        string    `json:"lastName" dynamodbav:"lastName"`
	Phone           string    `json:"phone,omitempty" dynamodbav:"phone,omitempty"`
	Language        string    `json:"language" dynamodbav:"language"`
	PasswordHash    string    `json:"-" dynamodbav:"passwordHash"`
	TermsVersion    string    `json:"termsVersion" dynamodbav:"termsVersion"`
	TermsAcceptedAt time.Time `json:"termsAcceptedAt" dynamodbav:"termsAcceptedAt"`
	CreatedAt       time.Time `json:"createdAt" dynamodbav:"createdAt"`
}

// SessionRevoker ends a person's sessions (their refresh tokens): every one
// but keep, or all when keep is "". A password change or reset, an email
// change and erasure call it; the access tokens already out stay valid for
// their few minutes.
type SessionRevoker interface {
	RevokeSessions(ctx context.Context, userID, keep string) error
}

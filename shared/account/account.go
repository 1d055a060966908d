// Package account holds a person's sign-in identity: the normalized email,
// the names, the password hash and the terms they accepted. One account may
// belong to many organisations (see org.Member).
package account

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"onboarding/shared/fault"
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

// NormalizeEmail trims and lower-cases an address and checks that it is a
// bare address (no display name) of sane length.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", fault.New(fault.Invalid, "an email address is required")
	}
	if len(s) > 254 {
		return "", fault.New(fault.Invalid, "the email address is too long")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", fault.New(fault.Invalid, "not a valid email address")
	}
	return s, nil
}

// CleanName trims a personal name and checks its length and characters.
// required=false lets an empty value through.
func CleanName(s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", fault.New(fault.Invalid, "required")
		}
		return "", nil
	}
	if !utf8.ValidString(s) {
		return "", fault.New(fault.Invalid, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", fault.New(fault.Invalid, "at most %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200d' {
			return "", fault.New(fault.Invalid, "contains control characters")
		}
	}
	return s, nil
}

// CleanMessage trims free text (a personal note) and checks its length and
// characters; line breaks and tabs are allowed.
func CleanMessage(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", fault.New(fault.Invalid, "not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return "", fault.New(fault.Invalid, "at most %d characters", max)
	}
	for _, r := range s {
		if r != '\n' && r != '\r' && r != '\t' && unicode.IsControl(r) {
			return "", fault.New(fault.Invalid, "contains control characters")
		}
	}
	return s, nil
}

package org

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"onboarding/shared/fault"
)

// Unit is a team, clinic or client group that scopes members and admins.
type Unit struct {
	ID        string    `json:"unitId" dynamodbav:"unitId"`
	Name      string    `json:"name" dynamodbav:"name"`
	CreatedAt time.Time `json:"createdAt" dynamodbav:"createdAt"`
	// Joins counts the writes that put an invitation or a member in the
	// unit. A delete is conditional on it being as read before the unit was
	// found empty, so nothing can join a unit while it is being deleted.
	Joins int64 `json:"-" dynamodbav:"joins,omitempty"`
}

// CleanUnitName trims a unit name and checks it: 1 to 100 characters, no
// control characters.
func CleanUnitName(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", fault.New(fault.Invalid, "required")
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100 {
		return "", fault.New(fault.Invalid, "at most 100 characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", fault.New(fault.Invalid, "contains control characters")
		}
	}
	return s, nil
}

// NameKey is the form under which unit names must be unique: case and
// spacing do not make two names different.
func NameKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

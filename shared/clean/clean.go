// Package clean trims, normalises and checks what people type: email
// addresses, names (and other one-line values) and free text. Its errors
// are fault.Invalid with a message fit to show next to the field.
package clean

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"onboarding/shared/fault"
)

// Email trims and lower-cases an address and checks that it is a bare
// address (no display name) of sane length.
func Email(s string) (string, error) {
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

// Name trims a personal name (or another one-line value: a safe word, a
// licence plate) and checks its length and characters. required=false
// lets an empty value through.
func Name(s string, max int, required bool) (string, error) {
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

// Message trims free text (a personal note) and checks its length and
// characters; line breaks and tabs are allowed.
func Message(s string, max int) (string, error) {
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

// Package fault is the service's error vocabulary. Domain code returns a
// *fault.Error carrying a Code; the HTTP boundary maps codes to statuses once,
// and only the Message (written for callers) ever leaves the service.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error by what the caller can do about it.
type Code string

const (
	Invalid      Code = "invalid"      // the request is wrong: fix the input
	Malformed    Code = "malformed"    // the request could not be read at all
	TooLarge     Code = "too_large"    // the request body is over the limit
	Unauthorized Code = "unauthorized" // who you are is unknown or unproven
	Forbidden    Code = "forbidden"    // who you are may not do this
	NotFound     Code = "not_found"    // nothing there (or nothing you may see)
	Conflict     Code = "conflict"     // the state forbids it: it exists already, or changed
	Gone         Code = "gone"         // it existed but is over (expired)
	TooMany      Code = "too_many"     // slow down: see RetryAfter
	Internal     Code = "internal"     // our fault; the detail stays in the logs
	Unavailable  Code = "unavailable"  // a dependency failed; try again later
)

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is an error a caller may see.
type Error struct {
	Code       Code
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	// Extra holds safe, caller-facing details (for example the id of the
	// invitation a conflict is about).
	Extra map[string]any
	// Language is the language Message and the fields' messages are in,
	// when the caller's was chosen (the answer's Content-Language).
	Language string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Code, e.Message)
	for i, f := range e.Fields {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		msg += sep + f.Field + ": " + f.Message
	}
	return msg
}

// New returns an error with a code and a caller-facing message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e carrying one more caller-facing detail.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extra = map[string]any{}
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[key] = value
	return &c
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Fields collects field errors; its Err is nil while it is empty.
type Fields []FieldError

// Add records a field error.
func (f *Fields) Add(field, code, message string) {
	*f = append(*f, FieldError{Field: field, Code: code, Message: message})
}

// Err returns an Invalid error listing the fields, or nil if there are none.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "the request has invalid fields", Fields: f}
}

// BadCursor is the answer to a list cursor that is not one the list gave out
// unchanged (edited, from another list or organisation): a 400 naming it.
func BadCursor() *Error {
	return &Error{Code: Malformed, Message: "the cursor is not one this list gave out",
		Fields: []FieldError{{Field: "cursor", Code: string(Malformed), Message: "pass back a nextCursor unchanged, to the list that gave it"}}}
}

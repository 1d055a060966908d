package org

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"onboarding/shared/fault"
)

// Custom field types.
const (
	FieldText   = "text"
	FieldNumber = "number"
	FieldDate   = "date" // YYYY-MM-DD
	FieldSelect = "select"
)

// CustomField is an organisation's own invitation field, such as a cost
// centre, validated on every invitation's attributes.
type CustomField struct {
	Key           string   `json:"key" dynamodbav:"key"`
	Label         string   `json:"label" dynamodbav:"label"`
	Type          string   `json:"type" dynamodbav:"type"`
	Required      bool     `json:"required" dynamodbav:"required"`
	AllowedValues []string `json:"allowedValues,omitempty" dynamodbav:"allowedValues,omitempty"`
}

var fieldKey = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,39}$`)

// Limits on custom fields.
const (
	MaxCustomFields  = 30
	MaxAttributeLen  = 500
	maxAllowedValues = 200
)

// CheckCustomFields validates a field definition list, naming each problem.
func CheckCustomFields(fields []CustomField, errs *fault.Fields) {
	if len(fields) > MaxCustomFields {
		errs.Add("customFields", string(fault.Invalid), fmt.Sprintf("at most %d fields", MaxCustomFields))
		return
	}
	seen := map[string]bool{}
	for i, f := range fields {
		at := fmt.Sprintf("customFields[%d]", i)
		if !fieldKey.MatchString(f.Key) {
			errs.Add(at+".key", string(fault.Invalid), "a letter, then letters, digits or _; at most 40")
		} else if seen[f.Key] {
			errs.Add(at+".key", string(fault.Invalid), "used twice")
		}
		seen[f.Key] = true
		if strings.TrimSpace(f.Label) == "" || utf8.RuneCountInString(f.Label) > 100 {
			errs.Add(at+".label", string(fault.Invalid), "1 to 100 characters")
		}
		switch f.Type {
		case FieldText, FieldNumber, FieldDate:
			if len(f.AllowedValues) > 0 {
				errs.Add(at+".allowedValues", string(fault.Invalid), "only for type select")
			}
		case FieldSelect:
			if len(f.AllowedValues) == 0 || len(f.AllowedValues) > maxAllowedValues {
				errs.Add(at+".allowedValues", string(fault.Invalid), fmt.Sprintf("1 to %d values", maxAllowedValues))
			}
		default:
			errs.Add(at+".type", string(fault.Invalid), "one of text, number, date, select")
		}
	}
}

// CheckAttributes validates an invitation's attributes against the
// organisation's custom fields: every required field present, each value of
// its type, no unknown keys. It returns the cleaned attributes.
func (s Settings) CheckAttributes(attrs map[string]string, errs *fault.Fields) map[string]string {
	out := map[string]string{}
	known := map[string]bool{}
	for _, f := range s.CustomFields {
		known[f.Key] = true
		v := strings.TrimSpace(attrs[f.Key])
		at := "attributes." + f.Key
		if v == "" {
			if f.Required {
				errs.Add(at, "required", f.Label+" is required")
			}
			continue
		}
		if utf8.RuneCountInString(v) > MaxAttributeLen || !utf8.ValidString(v) {
			errs.Add(at, string(fault.Invalid), fmt.Sprintf("at most %d characters", MaxAttributeLen))
			continue
		}
		switch f.Type {
		case FieldNumber:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				errs.Add(at, string(fault.Invalid), "a number")
				continue
			}
		case FieldDate:
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				errs.Add(at, string(fault.Invalid), "a date, YYYY-MM-DD")
				continue
			}
		case FieldSelect:
			if !slices.Contains(f.AllowedValues, v) {
				errs.Add(at, string(fault.Invalid), "one of the allowed values")
				continue
			}
		}
		out[f.Key] = v
	}
	for k := range attrs {
		if !known[k] {
			errs.Add("attributes."+k, string(fault.Invalid), "not a field of this organisation")
		}
	}
	return out
}

package org

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"onboarding/shared/fault"
	"onboarding/shared/formula"
)

// Custom field types.
const (
	FieldText        = "text"
	FieldNumber      = "number"
	FieldDate        = "date" // YYYY-MM-DD
	FieldSelect      = "select"
	FieldMultiselect = "multiselect" // a set of allowed values
)

// FieldTypes lists the custom field types, as the API names them.
var FieldTypes = []string{FieldText, FieldNumber, FieldDate, FieldSelect, FieldMultiselect}

// ValueSeparator separates a multi-select field's values where a value is
// one string: a roster cell, or an attribute given as a string. Allowed
// values may not contain it.
const ValueSeparator = ";"

// CustomField is an organisation's own invitation field, such as a cost
// centre, validated on every invitation's attributes and roster row.
type CustomField struct {
	Key           string   `json:"key" dynamodbav:"key"`
	Label         string   `json:"label" dynamodbav:"label"`
	Type          string   `json:"type" dynamodbav:"type"`
	Required      bool     `json:"required" dynamodbav:"required"`
	AllowedValues []string `json:"allowedValues,omitempty" dynamodbav:"allowedValues,omitempty"`
	// Min and Max bound a number field (either may be absent).
	Min *float64 `json:"min,omitempty" dynamodbav:"min,omitempty"`
	Max *float64 `json:"max,omitempty" dynamodbav:"max,omitempty"`
	// Integer makes a number field take whole numbers only (credits, not
	// hours).
	Integer bool `json:"integer,omitempty" dynamodbav:"integer,omitempty"`
	// RequiredWhen makes the field required when another field has a value.
	RequiredWhen *Condition `json:"requiredWhen,omitempty" dynamodbav:"requiredWhen,omitempty"`
}

// Condition holds when another field's value equals Equals, or, for a
// multi-select field, when its values include Equals.
type Condition struct {
	Field  string `json:"field" dynamodbav:"field"`
	Equals string `json:"equals" dynamodbav:"equals"`
}

// Attributes are the values of an organisation's custom fields, by key: a
// string for each field, a list of strings for a multi-select one. A value
// stored as a string under a field later made multi-select reads as a set
// of its ";"-separated values.
type Attributes map[string]any

var fieldKey = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,39}$`)

// Limits on custom fields.
const (
	MaxCustomFields  = 30
	MaxAttributeLen  = 500
	maxAllowedValues = 200
)

// CheckCustomFields validates a field definition list, naming each
// problem: types, bounds, allowed values, and that each requiredWhen names
// another field of the list, a value it can have, and no cycle.
func CheckCustomFields(fields []CustomField, errs *fault.Fields) {
	if len(fields) > MaxCustomFields {
		errs.Add("customFields", string(fault.Invalid), fmt.Sprintf("at most %d fields", MaxCustomFields))
		return
	}
	seen, labels := map[string]bool{}, map[string]bool{}
	for i, f := range fields {
		at := fmt.Sprintf("customFields[%d]", i)
		// A roster column is read as the field its header names.
		if l := strings.ToLower(strings.TrimSpace(f.Label)); labels[l] {
			errs.Add(at+".label", string(fault.Invalid), "used twice")
		} else {
			labels[l] = true
		}
		if !fieldKey.MatchString(f.Key) {
			errs.Add(at+".key", string(fault.Invalid), "a letter, then letters, digits or _; at most 40")
		} else if seen[f.Key] {
			errs.Add(at+".key", string(fault.Invalid), "used twice")
		}
		seen[f.Key] = true
		if strings.TrimSpace(f.Label) == "" || utf8.RuneCountInString(f.Label) > 100 {
			errs.Add(at+".label", string(fault.Invalid), "1 to 100 characters")
		} else if formula.Neutralize(f.Label) != f.Label {
			// The label heads a column of the roster template, which
			// spreadsheet programs open.
			errs.Add(at+".label", string(fault.Invalid), "may not start with = + - @, a tab or a return (a spreadsheet would run it)")
		}
		switch f.Type {
		case FieldText, FieldNumber, FieldDate:
			if len(f.AllowedValues) > 0 {
				errs.Add(at+".allowedValues", string(fault.Invalid), "only for types select and multiselect")
			}
		case FieldSelect, FieldMultiselect:
			if len(f.AllowedValues) == 0 || len(f.AllowedValues) > maxAllowedValues {
				errs.Add(at+".allowedValues", string(fault.Invalid), fmt.Sprintf("1 to %d values", maxAllowedValues))
			}
			for _, v := range f.AllowedValues {
				if strings.TrimSpace(v) != v || v == "" || utf8.RuneCountInString(v) > MaxAttributeLen {
					errs.Add(at+".allowedValues", string(fault.Invalid), fmt.Sprintf("each value 1 to %d characters, without surrounding space", MaxAttributeLen))
					break
				}
				if f.Type == FieldMultiselect && strings.Contains(v, ValueSeparator) {
					errs.Add(at+".allowedValues", string(fault.Invalid), "a multiselect value may not contain "+ValueSeparator+" (it separates values in rosters)")
					break
				}
			}
		default:
			errs.Add(at+".type", string(fault.Invalid), "one of "+strings.Join(FieldTypes, ", "))
		}
		if f.Type != FieldNumber && (f.Min != nil || f.Max != nil || f.Integer) {
			errs.Add(at, string(fault.Invalid), "min, max and integer are only for type number")
		}
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			errs.Add(at+".max", string(fault.Invalid), "at least min")
		}
	}
	byKey := map[string]CustomField{}
	for _, f := range fields {
		byKey[f.Key] = f
	}
	for i, f := range fields {
		c := f.RequiredWhen
		if c == nil {
			continue
		}
		at := fmt.Sprintf("customFields[%d].requiredWhen", i)
		other, ok := byKey[c.Field]
		switch {
		case f.Required:
			errs.Add(at, string(fault.Invalid), "the field is always required: drop required or requiredWhen")
		case !ok:
			errs.Add(at+".field", string(fault.Invalid), fmt.Sprintf("no field %q", c.Field))
		case c.Field == f.Key:
			errs.Add(at+".field", string(fault.Invalid), "a field cannot depend on itself")
		case cycle(byKey, f.Key):
			errs.Add(at+".field", string(fault.Invalid), "a cycle: "+strings.Join(chain(byKey, f.Key), " requires "))
		default:
			_, _, problem := checkValue(other, c.Equals)
			oneValue := other.Type != FieldMultiselect || slices.Contains(other.AllowedValues, c.Equals)
			if problem != nil || !oneValue || strings.TrimSpace(c.Equals) == "" {
				errs.Add(at+".equals", string(fault.Invalid), fmt.Sprintf("not a value %s can have", c.Field))
			}
		}
	}
}

// chain follows requiredWhen from key, stopping at the first field met twice.
func chain(byKey map[string]CustomField, key string) []string {
	var out []string
	for k := key; k != "" && !slices.Contains(out, k); {
		out = append(out, k)
		f, ok := byKey[k]
		if !ok || f.RequiredWhen == nil {
			break
		}
		k = f.RequiredWhen.Field
	}
	return out
}

// cycle reports whether following requiredWhen from key comes back to it.
func cycle(byKey map[string]CustomField, key string) bool {
	c := chain(byKey, key)
	last, ok := byKey[c[len(c)-1]]
	return ok && last.RequiredWhen != nil && last.RequiredWhen.Field == key
}

// CheckAttributes validates attributes against the organisation's custom
// fields and returns them cleaned. See CheckValues.
func (s Settings) CheckAttributes(attrs Attributes, errs *fault.Fields) Attributes {
	return CheckValues(s.CustomFields, attrs, errs)
}

// CheckValues validates custom field values, as the API, rosters and the
// roster template's instructions have them: each value of its type and
// within its bounds, every required field present, every field whose
// requiredWhen holds present, no unknown keys. Errors are under
// "attributes.<key>". It returns the cleaned values: strings, and for a
// multi-select field its values as a list in the allowed values' order.
func CheckValues(fields []CustomField, attrs Attributes, errs *fault.Fields) Attributes {
	out, problems := CheckValuesSaid(fields, attrs)
	for _, p := range problems {
		errs.Add("attributes."+p.Field, p.Code, p.Message)
	}
	return out
}

// A ValueProblem is one problem of custom field values: Message in English
// (the API's), and Key and Args saying it again for a report in the
// reader's language, naming fields by their labels.
type ValueProblem struct {
	Field   string // the field's key
	Code    string
	Message string
	Key     string
	Args    map[string]string
}

// said is a value problem, by its key (tests find the keys here by this
// call's form).
func said(code, key string, args map[string]string, message string) *ValueProblem {
	return &ValueProblem{Code: code, Key: key, Args: args, Message: message}
}

// CheckValuesSaid is CheckValues with each problem said by key as well.
func CheckValuesSaid(fields []CustomField, attrs Attributes) (Attributes, []ValueProblem) {
	var problems []ValueProblem
	add := func(key string, p *ValueProblem) {
		p.Field = key
		problems = append(problems, *p)
	}
	out := Attributes{}
	known := map[string]bool{}
	for _, f := range fields {
		known[f.Key] = true
		v, ok, p := checkValue(f, attrs[f.Key])
		if ok {
			out[f.Key] = v
		} else if p != nil {
			add(f.Key, p)
		}
	}
	for _, f := range fields {
		if _, present := out[f.Key]; present || !empty(attrs[f.Key]) {
			continue // present, or wrong and named already
		}
		if f.Required {
			add(f.Key, said("required", "required", nil, f.Key+" is required"))
		} else if c := f.RequiredWhen; c != nil && Holds(fields, out, *c) {
			add(f.Key, requiredWhen(fields, f))
		}
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(k, said(string(fault.Invalid), "field.unknown", nil, "not a field of this organisation"))
	}
	return out, problems
}

// RequiredWhenMessage says when f is required: "therapistDescription is
// required when services includes therapy".
func RequiredWhenMessage(fields []CustomField, f CustomField) string {
	return requiredWhen(fields, f).Message
}

// requiredWhen says when f is required, naming the fields by key in
// English and by label for the report.
func requiredWhen(fields []CustomField, f CustomField) *ValueProblem {
	c := f.RequiredWhen
	verb, label := "is", c.Field
	for _, o := range fields {
		if o.Key == c.Field {
			label = o.Label
			if o.Type == FieldMultiselect {
				verb = "includes"
			}
		}
	}
	args := map[string]string{"Field": label, "Value": c.Equals}
	msg := fmt.Sprintf("%s is required when %s %s %s", f.Key, c.Field, verb, c.Equals)
	if verb == "includes" {
		return said("required", "field.requiredWhenIncludes", args, msg)
	}
	return said("required", "field.requiredWhen", args, msg)
}

// Holds reports whether a condition holds for cleaned values.
func Holds(fields []CustomField, values Attributes, c Condition) bool {
	v, ok := values[c.Field]
	if !ok {
		return false
	}
	for _, f := range fields {
		if f.Key != c.Field {
			continue
		}
		if f.Type == FieldMultiselect {
			return slices.Contains(AsList(v), c.Equals)
		}
		if f.Type == FieldNumber {
			a, err1 := strconv.ParseFloat(fmt.Sprint(v), 64)
			b, err2 := strconv.ParseFloat(c.Equals, 64)
			return err1 == nil && err2 == nil && a == b
		}
	}
	return fmt.Sprint(v) == c.Equals
}

// AsList reads a value as a list of strings: a list as it is, a string as
// its ";"-separated values.
func AsList(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		for _, p := range strings.Split(v, ValueSeparator) {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	case []string:
		out = v
	case []any:
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	case []string:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// checkValue checks one value of f. An empty value is not checked (ok is
// false, and no problem): whether it may be empty is the caller's question.
func checkValue(f CustomField, raw any) (any, bool, *ValueProblem) {
	invalid := func(key string, args map[string]string, message string) (any, bool, *ValueProblem) {
		return nil, false, said(string(fault.Invalid), key, args, message)
	}
	if empty(raw) {
		return nil, false, nil
	}
	if f.Type == FieldMultiselect {
		given := AsList(raw)
		if len(given) == 0 {
			return invalid("field.list", nil, "a list of strings, values of the allowed ones")
		}
		var out []string
		for _, a := range f.AllowedValues {
			if slices.Contains(given, a) {
				out = append(out, a)
			}
		}
		for _, g := range given {
			if !slices.Contains(f.AllowedValues, g) {
				return invalid("field.notAllowed", map[string]string{"Value": cutValue(g)}, fmt.Sprintf("%q is not one of the allowed values", cutValue(g)))
			}
		}
		return out, true, nil
	}
	var v string
	switch r := raw.(type) {
	case string:
		v = strings.TrimSpace(r)
	case float64:
		if f.Type != FieldNumber {
			return invalid("field.string", nil, "a string")
		}
		v = strconv.FormatFloat(r, 'f', -1, 64)
	default:
		return invalid("field.string", nil, "a string")
	}
	if utf8.RuneCountInString(v) > MaxAttributeLen || !utf8.ValidString(v) {
		return invalid("tooLong", map[string]string{"Max": strconv.Itoa(MaxAttributeLen)}, fmt.Sprintf("at most %d characters", MaxAttributeLen))
	}
	switch f.Type {
	case FieldNumber:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return invalid("field.number", nil, "a number")
		}
		if p := bounds(f, n); p != nil {
			return nil, false, p
		}
	case FieldDate:
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return invalid("date.invalid", nil, "a date, YYYY-MM-DD")
		}
	case FieldSelect:
		if !slices.Contains(f.AllowedValues, v) {
			return invalid("field.notAllowed", map[string]string{"Value": cutValue(v)}, "one of the allowed values")
		}
	}
	return v, true, nil
}

func bounds(f CustomField, n float64) *ValueProblem {
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	invalid := string(fault.Invalid)
	switch {
	case f.Integer && n != math.Trunc(n):
		return said(invalid, "field.whole", nil, "a whole number")
	case f.Min != nil && f.Max != nil && (n < *f.Min || n > *f.Max):
		return said(invalid, "field.range", map[string]string{"Min": num(*f.Min), "Max": num(*f.Max)}, fmt.Sprintf("from %s to %s", num(*f.Min), num(*f.Max)))
	case f.Min != nil && n < *f.Min:
		return said(invalid, "field.atLeast", map[string]string{"Min": num(*f.Min)}, "at least "+num(*f.Min))
	case f.Max != nil && n > *f.Max:
		return said(invalid, "atMost", map[string]string{"Max": num(*f.Max)}, "at most "+num(*f.Max))
	}
	return nil
}

func cutValue(s string) string {
	if r := []rune(s); len(r) > 50 {
		return string(r[:50]) + "…"
	}
	return s
}

// SameAttributes reports whether a and b hold the same values, however
// their lists were decoded.
func SameAttributes(a, b Attributes) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			return false
		}
		if _, isString := v.(string); isString {
			if s, ok := w.(string); !ok || s != v {
				return false
			}
			continue
		}
		if !slices.Equal(AsList(v), AsList(w)) {
			return false
		}
	}
	return true
}

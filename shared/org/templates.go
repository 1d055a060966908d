package org

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"onboarding/shared/fault"
)

// EmailTemplate replaces an email's subject and body text in one language.
// Both are plain text with placeholders of the built-in email's fields
// ({{.OrgName}}, {{.InviterName}}, {{.Name}}, {{.Role}}, {{.ExpiresAt}}, ...)
// and nothing else: no conditions, loops or calls (see Render). Blank lines
// separate paragraphs. The action button (the acceptance link) is always
// kept.
type EmailTemplate struct {
	Subject string `json:"subject" dynamodbav:"subject"`
	Body    string `json:"body" dynamodbav:"body"`
}

// EmailTemplates are an organisation's overrides: email kind -> language -> template.
type EmailTemplates map[string]map[string]EmailTemplate

// The emails an organisation may override, and the fields each may use
// (with sample values).
var EmailKinds = map[string]map[string]any{
	"invitation": {"OrgName": "Org", "InviterName": "Ada", "Name": "Kari", "Role": "member", "ExpiresAt": "2026-12-23"},
	"reminder":   {"OrgName": "Org", "InviterName": "Ada", "Name": "Kari", "Role": "member", "ExpiresAt": "2026-12-23"},
	"added":      {"OrgName": "Org", "InviterName": "Ada", "Name": "Kari", "Role": "member", "ExpiresAt": "2026-12-23"},
	"expired":    {"OrgName": "Org", "Name": "Ada", "Count": 3},
	"import":     {"OrgName": "Org", "Name": "Ada", "FileName": "roster.xlsx", "Created": 1, "Updated": 2, "Removed": 3, "Errors": 4},
}

// MaxRenderedBytes caps one part (subject or body) of an email filled in
// from an organisation's template. The built-in emails are a few KiB; 64 KiB
// is room for any letter a person would write, and keeps one send's work,
// memory and message small whatever the data. Validation refuses a template
// that could fill in longer; rendering refuses a longer result.
const MaxRenderedBytes = 64 << 10

// maxFieldBytes is what validation assumes one placeholder fills in at most:
// every field is a name, a date or a count, and the longest the service
// accepts (a salutation, first and last name: 230 characters) is under 1 KiB
// in UTF-8.
const maxFieldBytes = 1 << 10

// templateKeywords are text/template's actions, refused by name so that an
// admin learns what is not allowed.
var templateKeywords = map[string]bool{"if": true, "else": true, "end": true, "range": true, "with": true,
	"template": true, "block": true, "define": true, "break": true, "continue": true, "nil": true}

// piece is literal text, or the field a placeholder names.
type piece struct{ text, field string }

// parseTemplate reads an organisation's template: literal text and
// {{.Field}} placeholders of the fields known says exist (spaces inside the
// braces and text/template's trim markers, {{- and -}}, are kept for the
// templates written before). Anything else between {{ and }} (conditions,
// loops, function calls, pipelines, variables, comments) is refused: tenant
// text is never run by a template engine, so it cannot loop or call.
func parseTemplate(src string, known func(string) bool, fields []string) ([]piece, error) {
	var out []piece
	text := func(s string) {
		if s != "" {
			out = append(out, piece{text: s})
		}
	}
	for {
		open := strings.Index(src, "{{")
		if open < 0 {
			text(src)
			return out, nil
		}
		before, rest := src[:open], src[open+2:]
		if len(rest) > 1 && rest[0] == '-' && isTrimSpace(rest[1]) {
			before, rest = strings.TrimRight(before, trimSpace), rest[1:]
		}
		text(before)
		end := strings.Index(rest, "}}")
		if end < 0 {
			return nil, fmt.Errorf("a {{ is not closed with }}")
		}
		inner, after := rest[:end], rest[end+2:]
		if n := len(inner); n > 1 && inner[n-1] == '-' && isTrimSpace(inner[n-2]) {
			inner, after = inner[:n-1], strings.TrimLeft(after, trimSpace)
		}
		field, err := placeholder(strings.Trim(inner, trimSpace), known, fields)
		if err != nil {
			return nil, err
		}
		out = append(out, piece{field: field})
		src = after
	}
}

// trimSpace is the white space text/template's trim markers remove.
const trimSpace = " \t\r\n"

func isTrimSpace(c byte) bool { return strings.IndexByte(trimSpace, c) >= 0 }

// placeholder returns the field named by the inside of {{ }}, or says why
// it is not a placeholder of this email.
func placeholder(a string, known func(string) bool, fields []string) (string, error) {
	use := "a template holds only text and the placeholders " + strings.Join(fields, ", ")
	if name, ok := strings.CutPrefix(a, "."); ok && isIdentifier(name) {
		if !known(name) {
			return "", fmt.Errorf("{{.%s}} is not a field of this email; %s", name, use)
		}
		return name, nil
	}
	word, _, _ := strings.Cut(a, " ")
	word = shorten(word)
	switch {
	case strings.HasPrefix(a, "/*"):
		return "", fmt.Errorf("comments ({{/* */}}) are not allowed; %s", use)
	case templateKeywords[word]:
		return "", fmt.Errorf("{{%s}} is not allowed; %s", word, use)
	case strings.Contains(a, "|"):
		return "", fmt.Errorf("pipelines (|) are not allowed; %s", use)
	case strings.HasPrefix(a, "$"):
		return "", fmt.Errorf("variables ({{%s}}) are not allowed; %s", word, use)
	case a != "" && isIdentifier(word):
		return "", fmt.Errorf("function calls ({{%s}}) are not allowed; %s", word, use)
	case strings.HasPrefix(a, "."):
		return "", fmt.Errorf("{{%s}} is not a field name; %s", shorten(a), use)
	default:
		return "", fmt.Errorf("{{%s}} is not a placeholder; %s", shorten(a), use)
	}
}

// shorten keeps an error message short whatever a template holds.
func shorten(s string) string {
	if r := []rune(s); len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}

func isIdentifier(s string) bool {
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return s != ""
}

// placeholders lists fields as {{.Field}}, sorted.
func placeholders(fields map[string]any) []string {
	out := make([]string, 0, len(fields))
	for f := range fields {
		out = append(out, "{{."+f+"}}")
	}
	sort.Strings(out)
	return out
}

// Render fills an organisation's template with data: each {{.Field}} is
// replaced by its value, as text (the HTML layout escapes the result). A
// field data lacks, anything that is not a placeholder, and a result over
// MaxRenderedBytes are errors, so a template stored before these checks
// fails its email instead of running.
func Render(src string, data map[string]any) (string, error) {
	known := func(f string) bool { _, ok := data[f]; return ok }
	pieces, err := parseTemplate(src, known, placeholders(data))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range pieces {
		s := p.text
		if p.field != "" {
			s = fmt.Sprint(data[p.field])
		}
		if b.Len()+len(s) > MaxRenderedBytes {
			return "", fmt.Errorf("longer than %d KiB once filled in", MaxRenderedBytes>>10)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// checkTemplate says what is wrong with one part of an organisation's
// template for an email with fields, if anything: not plain text and
// placeholders, or possibly longer than MaxRenderedBytes once filled in.
func checkTemplate(src string, fields map[string]any) error {
	known := func(f string) bool { _, ok := fields[f]; return ok }
	pieces, err := parseTemplate(src, known, placeholders(fields))
	if err != nil {
		return err
	}
	size := 0
	for _, p := range pieces {
		size += len(p.text)
		if p.field != "" {
			size += maxFieldBytes
		}
	}
	if size > MaxRenderedBytes {
		return fmt.Errorf("it could be longer than %d KiB once filled in: use fewer placeholders", MaxRenderedBytes>>10)
	}
	return nil
}

// CheckEmailTemplates validates overrides against the known kinds, the
// languages the service writes, and the fields each email has.
func CheckEmailTemplates(ts EmailTemplates, languages []string, errs *fault.Fields) {
	known := map[string]bool{}
	for _, l := range languages {
		known[l] = true
	}
	for kind, byLang := range ts {
		fields, ok := EmailKinds[kind]
		if !ok {
			errs.Add("emailTemplates."+kind, string(fault.Invalid), "not an email kind: invitation, reminder, added, expired, import")
			continue
		}
		for lang, t := range byLang {
			at := "emailTemplates." + kind + "." + lang
			if !known[lang] {
				errs.Add(at, string(fault.Invalid), "not a language the service writes: "+strings.Join(languages, ", "))
				continue
			}
			if strings.TrimSpace(t.Subject) == "" || utf8.RuneCountInString(t.Subject) > 200 {
				errs.Add(at+".subject", string(fault.Invalid), "1 to 200 characters")
			} else if err := checkTemplate(t.Subject, fields); err != nil {
				errs.Add(at+".subject", string(fault.Invalid), fmt.Sprintf("not a valid template: %v", err))
			}
			if strings.TrimSpace(t.Body) == "" || utf8.RuneCountInString(t.Body) > 5000 {
				errs.Add(at+".body", string(fault.Invalid), "1 to 5000 characters")
			} else if err := checkTemplate(t.Body, fields); err != nil {
				errs.Add(at+".body", string(fault.Invalid), fmt.Sprintf("not a valid template: %v", err))
			}
		}
	}
}

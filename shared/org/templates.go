package org

import (
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"

	"onboarding/shared/fault"
)

// EmailTemplate replaces an email's subject and body text in one language.
// The body is plain text with the same fields as the built-in email
// ({{.OrgName}}, {{.InviterName}}, {{.Name}}, {{.Role}}, {{.ExpiresAt}}, ...);
// blank lines separate paragraphs. The action button (the acceptance link)
// is always kept.
type EmailTemplate struct {
	Subject string `json:"subject" dynamodbav:"subject"`
	Body    string `json:"body" dynamodbav:"body"`
}

// EmailTemplates are an organisation's overrides: email kind -> language -> template.
type EmailTemplates map[string]map[string]EmailTemplate

// The emails an organisation may override, and the fields each may use.
var EmailKinds = map[string]map[string]any{
	"invitation": {"OrgName": "Org", "InviterName": "Ada", "Name": "Kari", "Role": "member", "ExpiresAt": "2026-12-23"},
	"reminder":   {"OrgName": "Org", "InviterName": "Ada", "Name": "Kari", "Role": "member", "ExpiresAt": "2026-12-23"},
	"added":      {"OrgName": "Org", "InviterName": "Ada", "Name": "Kari", "Role": "member", "ExpiresAt": "2026-12-23"},
	"expired":    {"OrgName": "Org", "Name": "Ada", "Count": 3},
	"import":     {"OrgName": "Org", "Name": "Ada", "FileName": "roster.xlsx", "Created": 1, "Updated": 2, "Removed": 3, "Errors": 4},
}

// Render fills a template string with data; a field the email does not
// have is an error.
func Render(src string, data map[string]any) (string, error) {
	t, err := template.New("override").Option("missingkey=error").Parse(src)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// CheckEmailTemplates validates overrides against the known kinds, the
// languages the service writes, and the fields each email has.
func CheckEmailTemplates(ts EmailTemplates, languages []string, errs *fault.Fields) {
	known := map[string]bool{}
	for _, l := range languages {
		known[l] = true
	}
	for kind, byLang := range ts {
		sample, ok := EmailKinds[kind]
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
			} else if _, err := Render(t.Subject, sample); err != nil {
				errs.Add(at+".subject", string(fault.Invalid), fmt.Sprintf("not a valid template: %v", err))
			}
			if strings.TrimSpace(t.Body) == "" || utf8.RuneCountInString(t.Body) > 5000 {
				errs.Add(at+".body", string(fault.Invalid), "1 to 5000 characters")
			} else if _, err := Render(t.Body, sample); err != nil {
				errs.Add(at+".body", string(fault.Invalid), fmt.Sprintf("not a valid template: %v", err))
			}
		}
	}
}

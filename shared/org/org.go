// Package org holds an organisation and its settings.
package org

import (
	"strings"
	"time"

	"golang.org/x/text/language"

	"onboarding/shared/access"
	"onboarding/shared/fault"
)

// Defaults for a new organisation's settings.
const (
	DefaultLifetimeDays = 30
	MinLifetimeDays     = 1
	MaxLifetimeDays     = 90
	DefaultLanguage     = "en"
	DefaultPhoneRegion  = "NO"
	DefaultReminderDays = 3
)

// Settings are the knobs an organisation's admins turn.
type Settings struct {
	InvitationLifetimeDays   int           `json:"invitationLifetimeDays" dynamodbav:"invitationLifetimeDays"`
	DefaultLanguage          string        `json:"defaultLanguage" dynamodbav:"defaultLanguage"`
	DefaultPhoneRegion       string        `json:"defaultPhoneRegion" dynamodbav:"defaultPhoneRegion"`
	ReminderDaysBeforeExpiry int           `json:"reminderDaysBeforeExpiry" dynamodbav:"reminderDaysBeforeExpiry"`
	CustomFields             []CustomField `json:"customFields" dynamodbav:"customFields"`
	RateLimits               RateLimits    `json:"rateLimits" dynamodbav:"rateLimits"`
	// EmailTemplates override emails per kind and language.
	EmailTemplates EmailTemplates `json:"emailTemplates" dynamodbav:"emailTemplates"`
	// ExistingAccounts is what inviting an email that has an account does:
	// ExistingAccountsAdd or ExistingAccountsInvite.
	ExistingAccounts string `json:"existingAccounts" dynamodbav:"existingAccounts"`
	// TermsURL and TermsVersion are the organisation's own terms: the
	// acceptance page links to them, acceptance records the version, and a
	// new version makes consent due ("": the deployment's terms only).
	TermsURL     string `json:"termsUrl" dynamodbav:"termsUrl,omitempty"`
	TermsVersion string `json:"termsVersion" dynamodbav:"termsVersion,omitempty"`
}

// What inviting someone who already has an account does.
const (
	// ExistingAccountsAdd adds them at once and tells them by email, with a
	// link to leave again (as the Video Call product does).
	ExistingAccountsAdd = "add"
	// ExistingAccountsInvite sends them an ordinary invitation, which they
	// accept by signing in with their account's password.
	ExistingAccountsInvite = "invite"
)

// AddsExistingAccounts reports whether someone who has an account is added
// at once rather than invited.
func (s Settings) AddsExistingAccounts() bool { return s.ExistingAccounts != ExistingAccountsInvite }

// RateLimits bound how much mail an organisation sends.
type RateLimits struct {
	InvitationsPerHour       int `json:"invitationsPerHour" dynamodbav:"invitationsPerHour"`
	EmailsPerRecipientPerDay int `json:"emailsPerRecipientPerDay" dynamodbav:"emailsPerRecipientPerDay"`
}

// Organisation is a tenant.
type Organisation struct {
	ID       string       `json:"orgId" dynamodbav:"orgId"`
	Name     string       `json:"name" dynamodbav:"name"`
	Settings Settings     `json:"settings" dynamodbav:"settings"`
	Roles    access.Roles `json:"roles" dynamodbav:"roles"`
	// RolesVersion counts the changes of Roles (PUT /orgs/{orgId}/roles
	// names the one it was made from); 0 before the first.
	RolesVersion int       `json:"-" dynamodbav:"rolesVersion,omitempty"`
	CreatedAt    time.Time `json:"createdAt" dynamodbav:"createdAt"`
	// OrgWideAdmins counts the members who are admins not limited to units;
	// the store keeps it in step with every membership change, and refuses a
	// change that would take it to zero.
	OrgWideAdmins int `json:"-" dynamodbav:"orgWideAdmins"`
}

// Lifetime is how long a new invitation stays valid.
func (o Organisation) Lifetime() time.Duration {
	days := o.Settings.InvitationLifetimeDays
	if days <= 0 {
		days = DefaultLifetimeDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// DateOrder is how the organisation writes dates with slashes: "mdy"
// (month first) in the United States, "" (day first) elsewhere.
func (o Organisation) DateOrder() string {
	if o.Settings.DefaultPhoneRegion == "US" {
		return "mdy"
	}
	return ""
}

// NewSettings returns the defaults, with the lifetime from deployment config.
func NewSettings(lifetimeDays int) Settings {
	if lifetimeDays < MinLifetimeDays || lifetimeDays > MaxLifetimeDays {
		lifetimeDays = DefaultLifetimeDays
	}
	return Settings{
		InvitationLifetimeDays:   lifetimeDays,
		DefaultLanguage:          DefaultLanguage,
		DefaultPhoneRegion:       DefaultPhoneRegion,
		ReminderDaysBeforeExpiry: DefaultReminderDays,
		CustomFields:             []CustomField{},
		EmailTemplates:           EmailTemplates{},
		RateLimits:               RateLimits{InvitationsPerHour: 500, EmailsPerRecipientPerDay: 5},
		ExistingAccounts:         ExistingAccountsAdd,
	}
}

// NormalizeLanguage returns the canonical BCP 47 tag for s, or an error.
func NormalizeLanguage(s string) (string, error) {
	tag, err := language.Parse(strings.TrimSpace(s))
	if err != nil || tag == language.Und {
		return "", fault.New(fault.Invalid, "unknown language %q", s)
	}
	return tag.String(), nil
}

// NormalizeRegion returns an upper-case ISO 3166 region code, or an error.
func NormalizeRegion(s string) (string, error) {
	r, err := language.ParseRegion(strings.TrimSpace(s))
	if err != nil || !r.IsCountry() {
		return "", fault.New(fault.Invalid, "unknown region %q", s)
	}
	return r.String(), nil
}

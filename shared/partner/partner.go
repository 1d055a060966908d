// Package partner tells an organisation's monitoring partners (24/7 alarm
// receiving centres) about every monitored worker who is added, changed or
// leaves: by signed webhook (Standard Webhooks) and by email with a CSV.
package partner

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/org"
	"onboarding/shared/webhook"
)

// Partner is a monitoring partner an organisation has connected.
type Partner struct {
	OrgID   string        `json:"orgId" dynamodbav:"orgId"`
	ID      string        `json:"partnerId" dynamodbav:"partnerId"`
	Name    string        `json:"name" dynamodbav:"name"`
	Webhook *Webhook      `json:"webhook,omitempty" dynamodbav:"webhook,omitempty"`
	Email   *EmailChannel `json:"email,omitempty" dynamodbav:"email,omitempty"`
	Units   []string      `json:"units" dynamodbav:"units"`         // covered units; empty: every monitored worker
	AddedOn string        `json:"addedOn" dynamodbav:"addedOn"`     // AddedOnAccept or AddedOnInvite
	Version int           `json:"version" dynamodbav:"version"`     // counts changes
	Created time.Time     `json:"createdAt" dynamodbav:"createdAt"` // RFC 3339 UTC
	// Generation tells this partner from an earlier one of the same id
	// (deleted, then connected again): what that one was told and what it
	// had waiting are not this one's.
	Generation string    `json:"-" dynamodbav:"generation"`
	Updated    time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
}

// When a worker is added for the partner.
const (
	AddedOnAccept = "accepted" // when they accept their invitation (the default)
	AddedOnInvite = "invited"  // as soon as they are invited: the organisation registers workers before they accept
)

// Webhook is a partner's HTTPS endpoint.
type Webhook struct {
	URL     string   `json:"url" dynamodbav:"url"`
	Secrets []Secret `json:"-" dynamodbav:"secrets"` // newest first
	// DisabledAt is set when the endpoint answered 410 Gone: nothing is
	// sent until an admin saves the partner again.
	DisabledAt     *time.Time `json:"disabledAt,omitempty" dynamodbav:"disabledAt,omitempty"`
	DisabledReason string     `json:"disabledReason,omitempty" dynamodbav:"disabledReason,omitempty"`
}

// Secret is a webhook signing secret in the Standard Webhooks format
// ("whsec_" and the base64 of the key). A rotated-out secret signs too until
// it expires, so receivers can switch over without losing a message.
type Secret struct {
	Value     string     `json:"-" dynamodbav:"value"`
	CreatedAt time.Time  `json:"createdAt" dynamodbav:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty" dynamodbav:"expiresAt,omitempty"`
}

// EmailChannel sends each batch of changes as a CSV attachment.
type EmailChannel struct {
	Addresses []string `json:"addresses" dynamodbav:"addresses"`
	Language  string   `json:"language" dynamodbav:"language"`
}

// Channels a delivery goes through.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

// Channels lists the partner's active channels.
func (p Partner) Channels() []string {
	var cs []string
	if p.Webhook != nil {
		cs = append(cs, ChannelWebhook)
	}
	if p.Email != nil && len(p.Email.Addresses) > 0 {
		cs = append(cs, ChannelEmail)
	}
	return cs
}

// Covers reports whether a worker in units is the partner's.
func (p Partner) Covers(units []string) bool {
	if len(p.Units) == 0 {
		return true
	}
	for _, u := range units {
		if slices.Contains(p.Units, u) {
			return true
		}
	}
	return false
}

// LiveSecrets are the secrets that sign at t, newest first.
func (w Webhook) LiveSecrets(t time.Time) []string {
	var out []string
	for _, s := range w.Secrets {
		if s.ExpiresAt == nil || t.Before(*s.ExpiresAt) {
			out = append(out, s.Value)
		}
	}
	return out
}

// Config is what an admin sets on a partner (PUT).
type Config struct {
	Name    string `json:"name"`
	Webhook *struct {
		URL string `json:"url"`
	} `json:"webhook"`
	Email *struct {
		Addresses []string `json:"addresses"`
		Language  string   `json:"language"`
	} `json:"email"`
	Units   []string `json:"units"`
	AddedOn string   `json:"addedOn"`
	// RotateSecret replaces the webhook secret; the old one keeps signing
	// for SecretGraceHours (default 24, 0 ends it at once).
	RotateSecret     bool `json:"rotateSecret"`
	SecretGraceHours *int `json:"secretGraceHours"`
	// Version, when given, must be the version read (optimistic locking).
	Version *int `json:"version"`
}

// DefaultSecretGrace is how long a rotated-out secret keeps signing.
const DefaultSecretGrace = 24 * time.Hour

var partnerIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CheckID checks a partner id chosen by the organisation (the last part of
// its URL): lower-case letters, digits and hyphens.
func CheckID(id string) error {
	if !partnerIDPattern.MatchString(id) {
		return fault.New(fault.Invalid, "a partner id is 1 to 63 lower-case letters, digits and hyphens")
	}
	return nil
}

// Rules are what checking a configuration needs to know.
type Rules struct {
	// AllowLoopback admits http://localhost webhooks (the local runner).
	AllowLoopback bool
	// Unit reports whether a unit exists in the organisation.
	Unit func(id string) bool
}

// Apply checks c and makes it the configuration of p (nil: a new
// partner). It returns the new secret when one was generated (a new webhook,
// or a rotation); the caller shows it once.
func Apply(p *Partner, c Config, r Rules, now time.Time) (Partner, string, error) {
	var errs fault.Fields
	out := Partner{}
	if p != nil {
		out = *p
	}
	name, err := clean.Name(c.Name, 100, true)
	if err != nil {
		errs.Add("name", string(fault.Invalid), "required, at most 100 characters")
	}
	out.Name = name
	out.AddedOn = AddedOnAccept
	switch c.AddedOn {
	case "", AddedOnAccept:
	case AddedOnInvite:
		out.AddedOn = AddedOnInvite
	default:
		errs.Add("addedOn", string(fault.Invalid), `"accepted" or "invited"`)
	}
	out.Units = []string{}
	for i, u := range c.Units {
		if r.Unit != nil && !r.Unit(u) {
			errs.Add(fmt.Sprintf("units[%d]", i), string(fault.Invalid), "no such unit: "+u)
			continue
		}
		if !slices.Contains(out.Units, u) {
			out.Units = append(out.Units, u)
		}
	}
	secret := ""
	if c.Webhook == nil {
		out.Webhook = nil
	} else if err := webhook.CheckURL(c.Webhook.URL, r.AllowLoopback); err != nil {
		errs.Add("webhook.url", string(fault.Invalid), err.Error())
	} else {
		w := Webhook{URL: c.Webhook.URL}
		if p != nil && p.Webhook != nil {
			w.Secrets = p.Webhook.Secrets // a disabled endpoint comes back on when saved
		}
		if len(w.Secrets) == 0 || c.RotateSecret {
			if secret, err = webhook.NewSecret(); err != nil {
				return Partner{}, "", err
			}
			grace := DefaultSecretGrace
			if c.SecretGraceHours != nil {
				if *c.SecretGraceHours < 0 || *c.SecretGraceHours > 24*7 {
					errs.Add("secretGraceHours", string(fault.Invalid), "0 to 168")
				}
				grace = time.Duration(*c.SecretGraceHours) * time.Hour
			}
			var kept []Secret
			for _, s := range w.Secrets {
				end := now.Add(grace)
				if s.ExpiresAt != nil && s.ExpiresAt.Before(end) {
					end = *s.ExpiresAt
				}
				if end.After(now) {
					kept = append(kept, Secret{Value: s.Value, CreatedAt: s.CreatedAt, ExpiresAt: &end})
				}
			}
			w.Secrets = append([]Secret{{Value: secret, CreatedAt: now}}, kept...)
		}
		out.Webhook = &w
	}
	if c.Email == nil || len(c.Email.Addresses) == 0 {
		out.Email = nil
	} else {
		// No language: the organisation's default language, when sent.
		e := EmailChannel{}
		if len(c.Email.Addresses) > 10 {
			errs.Add("email.addresses", string(fault.Invalid), "at most 10")
		}
		for i, a := range c.Email.Addresses {
			n, err := clean.Email(a)
			if err != nil {
				errs.Add(fmt.Sprintf("email.addresses[%d]", i), string(fault.Invalid), "not an email address")
				continue
			}
			e.Addresses = append(e.Addresses, n)
		}
		if strings.TrimSpace(c.Email.Language) != "" {
			if e.Language, err = org.NormalizeLanguage(c.Email.Language); err != nil {
				errs.Add("email.language", string(fault.Invalid), "not a language")
			}
		}
		out.Email = &e
	}
	if out.Webhook == nil && out.Email == nil && errs.Err() == nil {
		errs.Add("webhook", string(fault.Invalid), "a partner needs a webhook or email addresses")
	}
	if err := errs.Err(); err != nil {
		return Partner{}, "", err
	}
	if p == nil {
		out.Created = now
		out.Generation = NewID(now, 0)
	}
	out.Version++
	out.Updated = now
	return out, secret, nil
}

// View is a partner as the API shows it: secrets never, but when each was
// made and when a rotated-out one stops signing.
type View struct {
	Partner
	Secrets []Secret `json:"secrets,omitempty"`
	// Secret is the new webhook secret, shown once: in the answer to the
	// PUT that created it.
	Secret string `json:"secret,omitempty"`
}

// ViewOf shows p, with a secret just generated.
func ViewOf(p Partner, newSecret string) View {
	v := View{Partner: p, Secret: newSecret}
	if p.Webhook != nil {
		v.Secrets = p.Webhook.Secrets
	}
	return v
}

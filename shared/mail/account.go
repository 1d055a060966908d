package mail

import (
	"context"
	"strings"

	"onboarding/shared/selfservice"
)

// ComposeEmailChange renders the confirmation link a new address gets, in
// the account's language.
func (c *Catalogue) ComposeEmailChange(to, language, name, link string) (Message, error) {
	lang := c.Match(language)
	data := map[string]any{"Name": name, "Hours": int(selfservice.EmailChangeLifetime.Hours())}
	tr := c.translator(lang, data)
	l := layout{
		Lang: lang, Dir: tr.T("direction"), Subject: tr.T("emailChange.subject"),
		Paragraphs: []string{greeting(tr, data), tr.T("emailChange.intro")},
		ActionURL:  link, ActionLabel: tr.T("emailChange.action"), Fallback: tr.T("fallback"),
		After:  []string{tr.T("emailChange.expiry")},
		Footer: tr.T("emailChange.footer"),
	}
	return c.finish(tr, to, l, "email change")
}

// ComposeEmailChangeNotice renders the notice the old address gets. It
// names the new address masked: enough for the owner to recognise it, not
// the whole address to whoever reads an old mailbox.
func (c *Catalogue) ComposeEmailChangeNotice(to, language, name, newEmail string) (Message, error) {
	lang := c.Match(language)
	data := map[string]any{"Name": name, "NewEmail": MaskEmail(newEmail)}
	tr := c.translator(lang, data)
	l := layout{
		Lang: lang, Dir: tr.T("direction"), Subject: tr.T("emailChanged.subject"),
		Paragraphs: []string{greeting(tr, data), tr.T("emailChanged.intro"), tr.T("emailChanged.ifNotYou")},
		Footer:     tr.T("emailChanged.footer"),
	}
	return c.finish(tr, to, l, "email change notice")
}

// MaskEmail keeps an address's first character and its domain.
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "***"
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}

// SendEmailChange renders and sends the confirmation link.
func (m AccountMailer) SendEmailChange(ctx context.Context, to, language, name, link string) error {
	msg, err := m.Catalogue.ComposeEmailChange(to, language, name, link)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

// SendEmailChangeNotice renders and sends the notice to the old address.
func (m AccountMailer) SendEmailChangeNotice(ctx context.Context, to, language, name, newEmail string) error {
	msg, err := m.Catalogue.ComposeEmailChangeNotice(to, language, name, newEmail)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

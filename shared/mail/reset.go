package mail

import (
	"context"
	"strings"

	acct "onboarding/shared/account"
)

// AccountMailer emails a person about their own account: a password reset
// (account.ResetMailer; the package is imported as acct, as the package's
// tests have a type named account), an email change (selfservice.Mailer).
// Its fields are an InvitationMailer's, so one converts to the other
// (mail.AccountMailer(invitationMailer)).
type AccountMailer struct {
	Catalogue *Catalogue
	Sender    Sender
}

// NewAccountMailer loads the catalogue and sends through SES as from, with
// an optional configuration set.
func NewAccountMailer(client SESClient, from, configurationSet string) (AccountMailer, error) {
	c, err := LoadCatalogue()
	if err != nil {
		return AccountMailer{}, err
	}
	return AccountMailer{Catalogue: c, Sender: SES{Client: client, From: from, ConfigurationSet: configurationSet}}, nil
}

// ComposePasswordReset renders the email with a password reset link, in the
// account's language. It names no organisation: the account is the
// person's own, whichever organisations they belong to.
func (c *Catalogue) ComposePasswordReset(a acct.Account, link string) (Message, error) {
	lang := c.Match(a.Language)
	data := map[string]any{"Name": strings.TrimSpace(a.FirstName + " " + a.LastName)}
	tr := c.translator(lang, data)
	l := layout{
		Lang: lang, Dir: tr.T("direction"), Subject: tr.T("reset.subject"),
		Paragraphs: []string{greeting(tr, data), tr.T("reset.intro")},
		ActionURL:  link, ActionLabel: tr.T("reset.action"), Fallback: tr.T("fallback"),
		After:  []string{tr.T("reset.expiry")},
		Footer: tr.T("reset.footer"),
	}
	return c.finish(tr, a.Email, l, "password reset")
}

// SendPasswordReset renders and sends the password reset email.
func (m AccountMailer) SendPasswordReset(ctx context.Context, a acct.Account, link string) error {
	msg, err := m.Catalogue.ComposePasswordReset(a, link)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

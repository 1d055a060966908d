package mail

import (
	"context"
	"fmt"
	"strings"
	"time"

	"onboarding/shared/invite"
)

// InvitationMailer emails invitations; it satisfies invite.Mailer.
type InvitationMailer struct {
	Catalogue *Catalogue
	Sender    Sender
}

// NewInvitationMailer loads the catalogue and sends through SES as from,
// with an optional configuration set.
func NewInvitationMailer(client SESClient, from, configurationSet string) (InvitationMailer, error) {
	c, err := LoadCatalogue()
	if err != nil {
		return InvitationMailer{}, err
	}
	return InvitationMailer{Catalogue: c, Sender: SES{Client: client, From: from, ConfigurationSet: configurationSet}}, nil
}

// ComposeInvitation renders an invitation email in the invitee's language.
func (c *Catalogue) ComposeInvitation(inv invite.Invitation, link string) (Message, error) {
	lang := c.Match(inv.Language)
	inviter := inv.InviterName
	data := map[string]any{"OrgName": inv.OrgName}
	if inviter == "" {
		var err error
		if inviter, err = c.T(lang, "system.inviter", data); err != nil {
			return Message{}, err
		}
	}
	name := strings.TrimSpace(strings.Join([]string{inv.Salutation, inv.FirstName, inv.LastName}, " "))
	data = map[string]any{
		"OrgName": inv.OrgName, "InviterName": inviter, "Name": name, "Role": inv.Role,
		"ExpiresAt": inv.ExpiresAt.UTC().Format(time.DateOnly),
	}
	tr := c.translator(lang, data)
	greeting := tr.T("greeting.anonymous")
	if name != "" {
		greeting = tr.T("invitation.greeting")
	}
	l := layout{
		Lang: lang, Dir: tr.T("direction"), Subject: tr.T("invitation.subject"),
		Paragraphs:  []string{greeting, tr.T("invitation.intro")},
		ActionURL:   link,
		ActionLabel: tr.T("invitation.action"),
		Fallback:    tr.T("invitation.fallback"),
		After:       []string{tr.T("invitation.expiry")},
		Footer:      tr.T("footer"),
	}
	if inv.Message != "" {
		l.Paragraphs = append(l.Paragraphs, tr.T("invitation.message"))
		l.Quote = inv.Message
	}
	if tr.err != nil {
		return Message{}, fmt.Errorf("compose invitation: %w", tr.err)
	}
	return c.render(inv.Email, l)
}

// SendInvitation renders and sends an invitation.
func (m InvitationMailer) SendInvitation(ctx context.Context, inv invite.Invitation, link string) error {
	msg, err := m.Catalogue.ComposeInvitation(inv, link)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

// ComposeAdded renders the email to someone with an account who was added to
// an organisation, in their language (else the invitation's, else English).
func (c *Catalogue) ComposeAdded(inv invite.Invitation, language, link string) (Message, error) {
	lang := c.Match(language, inv.Language)
	inviter := inv.InviterName
	if inviter == "" {
		inviter = inv.OrgName
	}
	name := strings.TrimSpace(strings.Join([]string{inv.Salutation, inv.FirstName, inv.LastName}, " "))
	tr := c.translator(lang, map[string]any{"OrgName": inv.OrgName, "InviterName": inviter, "Name": name, "Role": inv.Role})
	greeting := tr.T("greeting.anonymous")
	if name != "" {
		greeting = tr.T("invitation.greeting")
	}
	l := layout{
		Lang: lang, Dir: tr.T("direction"), Subject: tr.T("added.subject"),
		Paragraphs: []string{greeting, tr.T("added.intro")},
		ActionURL:  link, ActionLabel: tr.T("added.action"), Fallback: tr.T("invitation.fallback"),
		Footer: tr.T("added.footer"),
	}
	if tr.err != nil {
		return Message{}, fmt.Errorf("compose added: %w", tr.err)
	}
	return c.render(inv.Email, l)
}

// SendAdded renders and sends the added-to-organisation email.
func (m InvitationMailer) SendAdded(ctx context.Context, inv invite.Invitation, language, link string) error {
	msg, err := m.Catalogue.ComposeAdded(inv, language, link)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

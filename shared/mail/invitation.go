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

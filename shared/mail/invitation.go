package mail

import (
	"context"
	"fmt"
	"strings"

	"onboarding/shared/importjob"
	"onboarding/shared/invite"
	"onboarding/shared/locale"
	"onboarding/shared/org"
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

// invitationData is what the invitee-facing strings may use.
func (c *Catalogue) invitationData(lang string, inv invite.Invitation) map[string]any {
	data := map[string]any{"OrgName": inv.OrgName}
	inviter := inv.InviterName
	if inviter == "" {
		inviter, _ = c.T(lang, "system.inviter", data)
	}
	data["InviterName"] = inviter
	data["Name"] = strings.TrimSpace(strings.Join([]string{inv.Salutation, inv.FirstName, inv.LastName}, " "))
	data["Role"] = c.RoleName(lang, inv.Role)
	data["ExpiresAt"] = locale.Date(inv.ExpiresAt.UTC(), c.dateTag(lang, inv.Language))
	return data
}

// dateTag is the tag whose date form a reader of lang gets: the first
// preference that is that language (so en-US keeps its region, and with
// it month-first dates), else lang itself.
func (c *Catalogue) dateTag(lang string, prefs ...string) string {
	for _, p := range prefs {
		if p != "" && c.Match(p) == lang {
			return p
		}
	}
	return lang
}

// RoleName is a role's name in lang: the default roles are translated, an
// organisation's own roles are shown as named.
func (c *Catalogue) RoleName(lang, role string) string {
	if s, err := c.T(lang, "role."+role, nil); err == nil {
		return s
	}
	return role
}

func greeting(tr *translator, data map[string]any) string {
	if name, _ := data["Name"].(string); name != "" {
		return tr.T("greeting.named")
	}
	return tr.T("greeting.anonymous")
}

// inviteeEmail names the catalogue strings of one email to an invitee.
type inviteeEmail struct {
	kind, subject, intro, action, footer string
}

var (
	invitationEmail = inviteeEmail{"invitation", "invitation.subject", "invitation.intro", "invitation.action", "footer"}
	reminderEmail   = inviteeEmail{"reminder", "reminder.subject", "reminder.intro", "invitation.action", "footer"}
	addedEmail      = inviteeEmail{"added", "added.subject", "added.intro", "added.action", "added.footer"}
)

// composeForInvitee renders an email to an invitee in lang: greeting and
// intro, the action button, the footer, then the organisation's override.
// extend adds what one email has beyond that.
func (c *Catalogue) composeForInvitee(e inviteeEmail, inv invite.Invitation, lang, link string, extend func(*translator, *layout)) (Message, error) {
	data := c.invitationData(lang, inv)
	tr := c.translator(lang, data)
	l := layout{
		Lang: lang, Dir: tr.T("direction"), Subject: tr.T(e.subject),
		Paragraphs: []string{greeting(tr, data), tr.T(e.intro)},
		ActionURL:  link, ActionLabel: tr.T(e.action), Fallback: tr.T("fallback"),
		Footer: tr.T(e.footer),
	}
	if extend != nil {
		extend(tr, &l)
	}
	if err := applyOverride(inv.Templates, e.kind, lang, data, &l); err != nil {
		return Message{}, err
	}
	return c.finish(tr, inv.Email, l, e.kind)
}

// ComposeInvitation renders an invitation email in the invitee's language.
func (c *Catalogue) ComposeInvitation(inv invite.Invitation, link string) (Message, error) {
	return c.composeForInvitee(invitationEmail, inv, c.Match(inv.Language), link, func(tr *translator, l *layout) {
		l.After = []string{tr.T("invitation.expiry")}
		if inv.Message != "" {
			l.Paragraphs = append(l.Paragraphs, tr.T("invitation.message"))
			l.Quote = inv.Message
		}
	})
}

// ComposeReminder renders the reminder sent before an invitation expires.
func (c *Catalogue) ComposeReminder(inv invite.Invitation, link string) (Message, error) {
	return c.composeForInvitee(reminderEmail, inv, c.Match(inv.Language), link, nil)
}

// ComposeAdded renders the email to someone with an account who was added to
// an organisation, in their language (else the invitation's, else English),
// with the link that takes them out again (kept under an organisation's own
// text, as the action button is).
func (c *Catalogue) ComposeAdded(inv invite.Invitation, language, link, leaveLink string) (Message, error) {
	lang := c.Match(language, inv.Language)
	return c.composeForInvitee(addedEmail, inv, lang, link, func(tr *translator, l *layout) {
		leave := c.translator(lang, map[string]any{"OrgName": inv.OrgName, "LeaveDays": int(invite.LeaveLifetime.Hours() / 24)})
		l.SecondaryText, l.SecondaryLabel, l.SecondaryURL = leave.T("added.leave"), leave.T("added.leaveAction"), leaveLink
		if leave.err != nil {
			tr.err = leave.err
		}
	})
}

// ExpiredDigest is one admin's list of invitations that expired in a sweep.
type ExpiredDigest struct {
	To, Language, AdminName, OrgName string
	Invitations                      []invite.Invitation
	// Total is how many expired, when more than Invitations lists.
	Total     int
	Link      string // the admin app's invitation list
	Templates org.EmailTemplates
}

// ComposeExpiredDigest renders the digest an inviting admin gets.
func (c *Catalogue) ComposeExpiredDigest(d ExpiredDigest) (Message, error) {
	lang := c.Match(d.Language)
	count := max(d.Total, len(d.Invitations))
	data := map[string]any{"OrgName": d.OrgName, "Name": d.AdminName, "Count": count}
	tr := c.translator(lang, data)
	var lines []string
	for _, inv := range d.Invitations {
		who := strings.TrimSpace(inv.FirstName + " " + inv.LastName)
		if who == "" {
			who = inv.Email
		} else {
			who += " <" + inv.Email + ">"
		}
		lines = append(lines, who+" ("+c.RoleName(lang, inv.Role)+", "+locale.Date(inv.ExpiresAt.UTC(), c.dateTag(lang, d.Language))+")")
	}
	if more := count - len(d.Invitations); more > 0 {
		lines = append(lines, fmt.Sprintf("… (+%d)", more))
	}
	l := layout{
		Lang: lang, Dir: tr.T("direction"), Subject: tr.T("expired.subject"),
		Paragraphs: append([]string{greeting(tr, data), tr.T("expired.intro")}, lines...),
		ActionURL:  d.Link, ActionLabel: tr.T("expired.action"), Fallback: tr.T("fallback"),
		Footer: tr.T("admin.footer"),
	}
	if _, ok := d.Templates["expired"][lang]; ok {
		if err := applyOverride(d.Templates, "expired", lang, data, &l); err != nil {
			return Message{}, err
		}
		l.Paragraphs = append(l.Paragraphs, lines...) // the list itself always shows
	}
	return c.finish(tr, d.To, l, "expired digest")
}

// ImportSummary is the outcome of a spreadsheet import, for its uploader.
type ImportSummary struct {
	To, Language, Name, OrgName, FileName string
	Created, Updated, Removed, Errors     int
	ReportURL                             string
	// ReportDays is how long ReportURL works; the email says so.
	ReportDays int
	Templates  org.EmailTemplates
	// Problem says why the whole file could not be imported, if so (in
	// English); ProblemKey and ProblemArgs say it in the uploader's
	// language ("file." + ProblemKey in the locale catalogue), when set.
	Problem     string
	ProblemKey  string
	ProblemArgs map[string]string
	// Stalled: the import was given up because its runs kept stopping; the
	// email says so in its language (in place of Problem).
	Stalled bool
}

// ComposeImportSummary renders the summary an uploader gets.
func (c *Catalogue) ComposeImportSummary(s ImportSummary) (Message, error) {
	lang := c.Match(s.Language)
	data := map[string]any{"OrgName": s.OrgName, "Name": s.Name, "FileName": s.FileName,
		"Created": s.Created, "Updated": s.Updated, "Removed": s.Removed, "Errors": s.Errors}
	tr := c.translator(lang, data)
	l := layout{
		Lang: lang, Dir: tr.T("direction"), Subject: tr.T("import.subject"),
		Paragraphs: []string{greeting(tr, data), tr.T("import.intro")},
		ActionURL:  s.ReportURL, ActionLabel: tr.T("import.action"), Fallback: tr.T("fallback"),
		Footer: tr.T("admin.footer"),
	}
	if err := applyOverride(s.Templates, "import", lang, data, &l); err != nil {
		return Message{}, err
	}
	switch {
	case s.Stalled:
		l.Paragraphs = append(l.Paragraphs, tr.T("import.stalled"))
	case s.ProblemKey != "":
		p, err := reader(s.Language)
		if err != nil {
			return Message{}, err
		}
		l.Paragraphs = append(l.Paragraphs, p.Text("file."+s.ProblemKey, s.ProblemArgs))
	case s.Problem != "":
		l.Paragraphs = append(l.Paragraphs, s.Problem)
	}
	if s.ReportURL == "" {
		l.ActionURL, l.ActionLabel = "", ""
	} else if s.ReportDays > 0 {
		// After the button, so it stays under an organisation's own text.
		days := c.translator(lang, map[string]any{"ReportDays": s.ReportDays})
		l.After = []string{days.T("import.reportDays")}
		if days.err != nil {
			tr.err = days.err
		}
	}
	return c.finish(tr, s.To, l, "import summary")
}

// applyOverride replaces the subject and body paragraphs with the
// organisation's template for this email and language, if it has one. The
// action button and footer stay.
func applyOverride(ts org.EmailTemplates, kind, lang string, data map[string]any, l *layout) error {
	t, ok := ts[kind][lang]
	if !ok {
		return nil
	}
	subject, err := org.Render(t.Subject, data)
	if err != nil {
		return fmt.Errorf("%s template override (%s) subject: %w", kind, lang, err)
	}
	body, err := org.Render(t.Body, data)
	if err != nil {
		return fmt.Errorf("%s template override (%s) body: %w", kind, lang, err)
	}
	l.Subject = strings.TrimSpace(subject)
	l.Paragraphs, l.Quote = nil, ""
	for _, p := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			l.Paragraphs = append(l.Paragraphs, p)
		}
	}
	return nil
}

func (c *Catalogue) finish(tr *translator, to string, l layout, kind string) (Message, error) {
	if tr.err != nil {
		return Message{}, fmt.Errorf("compose %s: %w", kind, tr.err)
	}
	return c.render(to, l)
}

// SendInvitation renders and sends an invitation.
func (m InvitationMailer) SendInvitation(ctx context.Context, inv invite.Invitation, link string) error {
	msg, err := m.Catalogue.ComposeInvitation(inv, link)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

// SendAdded renders and sends the added-to-organisation email.
func (m InvitationMailer) SendAdded(ctx context.Context, inv invite.Invitation, language, link, leaveLink string) error {
	msg, err := m.Catalogue.ComposeAdded(inv, language, link, leaveLink)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

// SendReminder renders and sends the reminder before an invitation expires.
func (m InvitationMailer) SendReminder(ctx context.Context, inv invite.Invitation, link string) error {
	msg, err := m.Catalogue.ComposeReminder(inv, link)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

// SendExpiredDigest renders and sends an admin's list of expired invitations.
func (m InvitationMailer) SendExpiredDigest(ctx context.Context, n invite.ExpiredNotice) error {
	msg, err := m.Catalogue.ComposeExpiredDigest(ExpiredDigest{
		To: n.To, Language: n.Language, AdminName: n.AdminName, OrgName: n.Org.Name,
		Invitations: n.Invitations, Total: n.Total, Link: n.Link, Templates: n.Org.Settings.EmailTemplates,
	})
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

// SendImportSummary renders and sends an import's summary to its uploader.
func (m InvitationMailer) SendImportSummary(ctx context.Context, s importjob.Summary) error {
	msg, err := m.Catalogue.ComposeImportSummary(ImportSummary{
		To: s.To, Language: s.Language, Name: s.Name, OrgName: s.OrgName, FileName: s.FileName,
		Created: s.Counts.Created, Updated: s.Counts.Updated, Removed: s.Counts.Removed, Errors: s.Counts.Errors,
		ReportURL: s.ReportURL, ReportDays: s.ReportDays, Problem: s.Failed, ProblemKey: s.FailedKey, ProblemArgs: s.FailedArgs,
		Stalled: s.Stalled,
	})
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

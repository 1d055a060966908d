package mail

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"onboarding/shared/formula"
	"onboarding/shared/locale"
	"onboarding/shared/org"
	"onboarding/shared/partner"
)

// PartnerDirectory finds what partner emails need to say.
type PartnerDirectory interface {
	// OrgNameAndLanguage returns the organisation's name and default
	// language (a partner's emails are in it unless the partner has one).
	OrgNameAndLanguage(ctx context.Context, orgID string) (name, language string, err error)
	// OrgAdmins returns the organisation's name and its organisation-wide
	// admins.
	OrgAdmins(ctx context.Context, orgID string) (string, []org.Recipient, error)
}

// PartnerMailer sends partners their changes as CSV and tells admins about
// a webhook that is gone; it satisfies partner.Mailer.
type PartnerMailer struct {
	Catalogue *Catalogue
	Sender    Sender
	Directory PartnerDirectory
}

// ComposePartnerChanges renders the email of one delivery for a partner,
// with the changes attached as CSV.
func (c *Catalogue) ComposePartnerChanges(p partner.Partner, o PartnerOrg, d partner.Delivery) (Message, error) {
	return c.composeForPartner(p, o, d, "partner.subject", "partner.intro", "changes-")
}

// PartnerOrg is what a partner's email says of the organisation: its
// name, and its default language (the partner's own, if set, wins).
type PartnerOrg struct{ Name, Language string }

// ComposePartnerRoster renders the full current roster for a partner, as
// CSV.
func (c *Catalogue) ComposePartnerRoster(p partner.Partner, o PartnerOrg, d partner.Delivery) (Message, error) {
	return c.composeForPartner(p, o, d, "partner.roster.subject", "partner.roster.intro", "roster-")
}

func (c *Catalogue) composeForPartner(p partner.Partner, o PartnerOrg, d partner.Delivery, subject, intro, file string) (Message, error) {
	orgName := o.Name
	lang := c.Match(p.Email.Language, o.Language)
	counts := map[string]int{}
	for _, e := range d.Events {
		counts[e.Type]++
	}
	data := map[string]any{"OrgName": orgName, "Name": p.Name, "Count": len(d.Events),
		"Added": counts[partner.WorkerAdded], "Updated": counts[partner.WorkerUpdated], "Removed": counts[partner.WorkerRemoved]}
	tr := c.translator(lang, data)
	l := layout{Lang: lang, Dir: tr.T("direction"), Subject: tr.T(subject),
		Paragraphs: []string{greeting(tr, data), tr.T(intro)}, Footer: tr.T("partner.footer")}
	m, err := c.finish(tr, p.Email.Addresses[0], l, "partner changes")
	if err != nil {
		return Message{}, err
	}
	m.Cc = p.Email.Addresses[1:]
	printer, err := reader(p.Email.Language, o.Language)
	if err != nil {
		return Message{}, err
	}
	body, err := ChangesCSV(d.Events, printer)
	if err != nil {
		return Message{}, err
	}
	m.Attachments = []Attachment{{Name: file + d.ID + ".csv", ContentType: "text/csv; charset=utf-8", Data: body}}
	return m, nil
}

// ChangesColumns are the partner CSV's columns, in order, by their
// machine names: the order never changes with the language (only the
// header row's labels do), and the last column, timeUtc, keeps the event's
// time in RFC 3339 for tools (time is the reader's local form).
func ChangesColumns() []string {
	cols := []string{"event", "eventId", "time", "changedFields", "workerId", "externalId", "email", "firstName", "lastName",
		"mobile", "language", "status", "units"}
	for i := 1; i <= 5; i++ {
		cols = append(cols, fmt.Sprintf("escalation%dName", i), fmt.Sprintf("escalation%dPhone", i))
	}
	for i := 1; i <= 3; i++ {
		cols = append(cols, fmt.Sprintf("outOfHours%dName", i), fmt.Sprintf("outOfHours%dPhone", i))
	}
	return append(cols, "rota", "rotaFrom", "safeWord", "licencePlate", "otherInformation", "version", "timeUtc")
}

// changesLabels is the header row in p's language.
func changesLabels(p locale.Printer) []string {
	var h []string
	label := func(key string) { h = append(h, p.Text("csv."+key, nil)) }
	numbered := func(key string, n int) { h = append(h, p.Text("csv."+key, map[string]string{"N": strconv.Itoa(n)})) }
	for _, k := range []string{"event", "eventId", "time", "changedFields", "workerId", "externalId", "email", "firstName", "lastName",
		"mobile", "language", "status", "units"} {
		label(k)
	}
	for i := 1; i <= 5; i++ {
		numbered("escalationName", i)
		numbered("escalationPhone", i)
	}
	for i := 1; i <= 3; i++ {
		numbered("outOfHoursName", i)
		numbered("outOfHoursPhone", i)
	}
	for _, k := range []string{"rota", "rotaFrom", "safeWord", "licencePlate", "otherInformation", "version"} {
		label(k)
	}
	return append(h, "timeUtc")
}

// reader is the printer for a partner's CSV: its own language, else the
// organisation's default.
func reader(prefs ...string) (locale.Printer, error) {
	c, err := locale.Messages()
	if err != nil {
		return locale.Printer{}, err
	}
	return c.For(prefs...), nil
}

// ChangesCSV writes events as CSV (UTF-8 with a BOM, so spreadsheet
// programs read the letters right), one row per event, for a person
// reading p's language: the header row's labels, the time and the rota's
// date in its forms; the columns are ChangesColumns, always in that order.
// Cells that a spreadsheet would run as formulas are neutralised
// (formula.Neutralize).
func ChangesCSV(events []partner.Event, p locale.Printer) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	if err := w.Write(changesLabels(p)); err != nil {
		return nil, err
	}
	for _, e := range events {
		wk := e.Worker
		mobile := ""
		if len(wk.PhoneNumbers) > 0 {
			mobile = wk.PhoneNumbers[0].Value
		}
		row := []string{e.Type, e.ID, p.DateTime(e.Timestamp), strings.Join(e.ChangedFields, " "),
			wk.ID, wk.ExternalID, wk.UserName, wk.Name.GivenName, wk.Name.FamilyName, mobile, wk.PreferredLanguage}
		x := wk.Monitoring
		if x == nil {
			x = &partner.Monitoring{}
		}
		row = append(row, x.Status, strings.Join(x.Units, " "))
		for i := 0; i < 5; i++ {
			if i < len(x.EscalationContacts) {
				row = append(row, x.EscalationContacts[i].Name, x.EscalationContacts[i].Phone)
			} else {
				row = append(row, "", "")
			}
		}
		for i := 0; i < 3; i++ {
			if i < len(x.OutOfHoursContacts) {
				row = append(row, x.OutOfHoursContacts[i].Name, x.OutOfHoursContacts[i].Phone)
			} else {
				row = append(row, "", "")
			}
		}
		rota, from := "", ""
		if x.Rota != nil {
			rota, from = x.Rota.Reference, x.Rota.EffectiveDate
			if d, err := time.Parse(time.DateOnly, from); err == nil {
				from = p.Date(d)
			}
		}
		row = append(row, rota, from, x.SafeWord, x.LicencePlate, x.OtherInformation, strconv.Itoa(wk.Meta.Version),
			e.Timestamp.UTC().Format(time.RFC3339))
		for i, cell := range row {
			row[i] = formula.Neutralize(cell)
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// ComposeWebhookDisabled renders the notice an admin gets when a
// partner's webhook answered 410.
func (c *Catalogue) ComposeWebhookDisabled(to org.Recipient, orgName string, p partner.Partner) (Message, error) {
	lang := c.Match(to.Language)
	data := map[string]any{"OrgName": orgName, "Name": to.Name, "PartnerName": p.Name}
	tr := c.translator(lang, data)
	l := layout{Lang: lang, Dir: tr.T("direction"), Subject: tr.T("webhook.subject"),
		Paragraphs: []string{greeting(tr, data), tr.T("webhook.intro")}, Footer: tr.T("admin.footer")}
	return c.finish(tr, to.Email, l, "webhook disabled")
}

// SendChanges emails one delivery to the partner's addresses.
func (m PartnerMailer) SendChanges(ctx context.Context, p partner.Partner, d partner.Delivery) error {
	return m.sendToPartner(ctx, p, d, m.Catalogue.ComposePartnerChanges)
}

// SendRoster emails the full current roster to the partner's addresses.
func (m PartnerMailer) SendRoster(ctx context.Context, p partner.Partner, d partner.Delivery) error {
	return m.sendToPartner(ctx, p, d, m.Catalogue.ComposePartnerRoster)
}

func (m PartnerMailer) sendToPartner(ctx context.Context, p partner.Partner, d partner.Delivery,
	compose func(partner.Partner, PartnerOrg, partner.Delivery) (Message, error)) error {
	if p.Email == nil || len(p.Email.Addresses) == 0 {
		return fmt.Errorf("the partner has no email addresses")
	}
	name, lang, err := m.Directory.OrgNameAndLanguage(ctx, p.OrgID)
	if err != nil {
		return err
	}
	msg, err := compose(p, PartnerOrg{Name: name, Language: lang}, d)
	if err != nil {
		return err
	}
	return m.Sender.Send(ctx, msg)
}

// SendWebhookDisabled tells the organisation-wide admins.
func (m PartnerMailer) SendWebhookDisabled(ctx context.Context, p partner.Partner, reason string) error {
	orgName, admins, err := m.Directory.OrgAdmins(ctx, p.OrgID)
	if err != nil {
		return err
	}
	for _, a := range admins {
		msg, err := m.Catalogue.ComposeWebhookDisabled(a, orgName, p)
		if err != nil {
			return err
		}
		if err := m.Sender.Send(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

package mail

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"onboarding/shared/monitor"
	"onboarding/shared/partner"
)

// A partner's CSV never hands a spreadsheet a formula: not after white
// space, not in full-width signs; a phone number keeps its +.
func TestChangesCSVNeutralisesFormulas(t *testing.T) {
	cells := []string{"=1+1", " =1+1", "\t=1+1", "\n=1+1", "  +1", " -1", "\u00a0@SUM(A1)",
		"\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", " \uff1d1", "\tplain"}
	var events []partner.Event
	for _, c := range cells {
		events = append(events, partner.Event{Type: partner.WorkerUpdated, Worker: partner.Worker{
			Name:         partner.Name{GivenName: c},
			PhoneNumbers: []partner.Value{{Value: "+4791512345"}},
			Monitoring:   &partner.Monitoring{SafeWord: c, EscalationContacts: []monitor.Contact{{Name: c, Phone: "+4791512346"}}},
		}})
	}
	en, _ := reader("en")
	body, err := ChangesCSV(events, en)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != len(cells)+1 {
		t.Fatalf("%q %v", recs, err)
	}
	col := map[string]int{}
	for i, h := range ChangesColumns() {
		col[h] = i
	}
	for i, c := range cells {
		row := recs[i+1]
		for _, h := range []string{"firstName", "safeWord", "escalation1Name"} {
			if got := row[col[h]]; got != "'"+c {
				t.Errorf("%s %q written as %q", h, c, got)
			}
		}
		if row[col["mobile"]] != "+4791512345" || row[col["escalation1Phone"]] != "+4791512346" {
			t.Errorf("phone numbers changed: %q, %q", row[col["mobile"]], row[col["escalation1Phone"]])
		}
		if strings.HasPrefix(row[col["lastName"]], "'") {
			t.Errorf("an empty cell neutralised: %q", row[col["lastName"]])
		}
	}
}

// A Swedish partner's CSV has Swedish labels and Swedish dates, in the
// columns ChangesColumns names, with the time for tools in the last one.
// A partner without a language reads the organisation's.
func TestPartnerCSVInSwedish(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 31, 14, 5, 0, 0, time.UTC)
	ev := partner.Event{Type: partner.WorkerAdded, ID: "e1", Timestamp: at, Worker: partner.Worker{
		Name:       partner.Name{GivenName: "Åsa"},
		Monitoring: &partner.Monitoring{Status: "active", Rota: &monitor.Rota{Reference: "R1", EffectiveDate: "2027-01-04"}},
	}}
	p := partner.Partner{Name: "Larmcentralen", Email: &partner.EmailChannel{Addresses: []string{"larm@example.se"}}}
	for name, tc := range map[string]struct {
		partnerLang, orgLang string
	}{"the partner's": {"sv", "nb"}, "the organisation's": {"", "sv-SE"}} {
		p.Email.Language = tc.partnerLang
		m, err := c.ComposePartnerChanges(p, PartnerOrg{Name: "Nordlys", Language: tc.orgLang}, partner.Delivery{ID: "d1", Events: []partner.Event{ev}})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(m.Attachments[0].Data, []byte("\ufeff")))).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("%s: %q %v", name, recs, err)
		}
		col := map[string]int{}
		for i, h := range ChangesColumns() {
			col[h] = i
		}
		head, row := recs[0], recs[1]
		if len(head) != len(ChangesColumns()) || head[col["event"]] != "Händelse" || head[col["firstName"]] != "Förnamn" ||
			head[col["escalation2Phone"]] != "Eskaleringskontakt 2 telefon" || head[col["timeUtc"]] != "timeUtc" {
			t.Errorf("%s: header %q", name, head)
		}
		if row[col["time"]] != "2026-12-31 14:05 UTC" || row[col["rotaFrom"]] != "2027-01-04" || row[col["timeUtc"]] != "2026-12-31T14:05:00Z" ||
			row[col["event"]] != partner.WorkerAdded || row[col["firstName"]] != "Åsa" {
			t.Errorf("%s: row %q", name, row)
		}
		if !strings.Contains(m.Subject, "Nordlys") || !strings.Contains(m.HTML, `lang="sv"`) {
			t.Errorf("%s: the email is not in Swedish: %q", name, m.Subject)
		}
	}
	// The same in Norwegian: dates day first.
	nb, _ := reader("nb")
	body, _ := ChangesCSV([]partner.Event{ev}, nb)
	if !strings.Contains(string(body), "31.12.2026 14:05 UTC") || !strings.Contains(string(body), "04.01.2027") || !strings.Contains(string(body), "Hendelse") {
		t.Errorf("nb: %s", body)
	}
}

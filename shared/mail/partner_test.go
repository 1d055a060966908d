package mail

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

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
	body, err := ChangesCSV(events)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != len(cells)+1 {
		t.Fatalf("%q %v", recs, err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
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

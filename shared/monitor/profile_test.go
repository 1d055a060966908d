package monitor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/phone"
)

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{
		"2026-12-01": "2026-12-01", "01.12.2026": "2026-12-01", "1.12.2026": "2026-12-01", "01/12/2026": "2026-12-01",
		"1-12-2026": "2026-12-01", "2026-12-01T00:00:00Z": "2026-12-01",
	} {
		got, err := ParseDate(in, "")
		if err != nil || got.Format(time.DateOnly) != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if got, err := ParseDate("12/1/2026", "mdy"); err != nil || got.Format(time.DateOnly) != "2026-12-01" {
		t.Errorf("month first: %v %v", got, err)
	}
	for _, bad := range []string{"", "soon", "32.12.2026", "2026-13-01"} {
		if _, err := ParseDate(bad, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	rules := Rules{Phones: phone.Normalize, Region: "NO", WorkerPhone: "+4791512345", Today: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	var errs, warns fault.Fields
	p := Check(Input{
		EscalationContacts: []Contact{{"Ola", "412 34 567"}, {}, {"Per", "+47 41234568"}},
		OutOfHoursContacts: []Contact{{"Vakt", "22334455"}},
		RotaReference:      "T-7", RotaEffectiveDate: "2026-12-01", SafeWord: "blåbær", LicencePlate: "ab 12345",
	}, rules, &errs, &warns)
	if len(errs) != 0 || len(warns) != 0 {
		t.Fatalf("%v %v", errs, warns)
	}
	if len(p.EscalationContacts) != 2 || p.EscalationContacts[1].Phone != "+4741234568" || p.OutOfHoursContacts[0].Phone != "+4722334455" ||
		p.Rota == nil || p.Rota.EffectiveDate != "2026-12-01" || p.LicencePlate != "AB 12345" {
		t.Fatalf("%+v", p)
	}
	// The safe word never shows in a printed profile.
	if s := fmt.Sprint(p) + fmt.Sprintf("%v %+v", p, p); strings.Contains(s, "blåbær") {
		t.Fatalf("safe word printed: %s", s)
	}
	if r, has := p.Redacted(); r.SafeWord != "" || !has {
		t.Fatalf("redacted %+v %v", r, has)
	}
}

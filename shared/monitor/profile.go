// Package monitor is a lone worker's monitoring profile: what the 24/7
// monitoring partner needs to act on an alarm (whom to call, in and out of
// office hours, the rota, the safe word). The same rules apply wherever a
// profile comes from: a spreadsheet row or the API.
package monitor

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"onboarding/shared/clean"
	"onboarding/shared/fault"
)

// Limits of a profile.
const (
	MinEscalationContacts = 2
	MaxEscalationContacts = 5
	MaxOutOfHoursContacts = 3
	maxNameLen            = 100
	maxRotaLen            = 100
	maxSafeWordLen        = 100
	maxPlateLen           = 20
	maxOtherLen           = 2000
	// ShortNotice is the least notice a rota change should get; less is
	// accepted with a warning.
	ShortNotice = 3 * 24 * time.Hour
)

// Contact is someone the partner calls.
type Contact struct {
	Name  string `json:"name" dynamodbav:"name"`
	Phone string `json:"phone" dynamodbav:"phone"` // E.164
}

// Rota is the worker's rota and when it takes effect.
type Rota struct {
	Reference     string `json:"reference" dynamodbav:"reference"`
	EffectiveDate string `json:"effectiveDate" dynamodbav:"effectiveDate"` // YYYY-MM-DD
}

// Profile is a monitored worker's profile. The safe word is a secret: it is
// never logged, listed or reported (see Redacted).
type Profile struct {
	EscalationContacts []Contact `json:"escalationContacts" dynamodbav:"escalationContacts"`
	OutOfHoursContacts []Contact `json:"outOfHoursContacts" dynamodbav:"outOfHoursContacts"`
	Rota               *Rota     `json:"rota,omitempty" dynamodbav:"rota,omitempty"`
	SafeWord           string    `json:"safeWord,omitempty" dynamodbav:"safeWord,omitempty"`
	LicencePlate       string    `json:"licencePlate,omitempty" dynamodbav:"licencePlate,omitempty"`
	OtherInformation   string    `json:"otherInformation,omitempty" dynamodbav:"otherInformation,omitempty"`
}

// Redacted is the profile without its safe word, saying only whether it has one.
func (p Profile) Redacted() (Profile, bool) {
	has := p.SafeWord != ""
	p.SafeWord = ""
	return p, has
}

// String keeps the safe word out of any log line that prints a profile.
func (p Profile) String() string {
	r, has := p.Redacted()
	return fmt.Sprintf("{escalation:%d outOfHours:%d rota:%v safeWord:%v plate:%q}",
		len(r.EscalationContacts), len(r.OutOfHoursContacts), r.Rota != nil, has, r.LicencePlate)
}

// PhoneParser returns a phone number in E.164, reading national numbers in
// the given region: phone.Normalize, for everything that takes numbers
// (invitations, members, profiles, rosters). The type is declared here
// rather than in shared/phone because importing that package links
// libphonenumber, whose init decodes its metadata (8.5 ms at cold start),
// into every function that imports monitor or invite.
type PhoneParser func(raw, region string) (string, error)

// Input is a profile as given: phone numbers as typed, dates as text.
type Input struct {
	EscalationContacts []Contact
	OutOfHoursContacts []Contact
	RotaReference      string
	RotaEffectiveDate  string
	SafeWord           string
	LicencePlate       string
	OtherInformation   string
}

// Rules are what checking a profile needs to know.
type Rules struct {
	Phones PhoneParser
	Region string // the organisation's default phone region
	// WorkerPhone is the worker's own number (E.164), which no contact may
	// have.
	WorkerPhone string
	Today       time.Time
	// DateOrder reads d/m/y dates as month first ("mdy", for US
	// organisations); otherwise day first.
	DateOrder string
}

// Check turns an input into a profile. Errors go to errs, warnings (a rota
// at short notice) to warns; both are keyed by field, as in
// "escalationContacts[0].phone".
func Check(in Input, r Rules, errs, warns *fault.Fields) Profile {
	var p Profile
	p.EscalationContacts = contacts(in.EscalationContacts, "escalationContacts", MaxEscalationContacts, r, errs)
	if len(p.EscalationContacts) < MinEscalationContacts {
		errs.Add("escalationContacts", string(fault.Invalid),
			fmt.Sprintf("at least %d escalation contacts with name and phone; %d given", MinEscalationContacts, len(p.EscalationContacts)))
	}
	p.OutOfHoursContacts = contacts(in.OutOfHoursContacts, "outOfHoursContacts", MaxOutOfHoursContacts, r, errs)

	ref := strings.TrimSpace(in.RotaReference)
	date := strings.TrimSpace(in.RotaEffectiveDate)
	if ref != "" || date != "" {
		ref, err := clean.Name(ref, maxRotaLen, true)
		addErr(errs, "rota.reference", err)
		d, derr := ParseDate(date, r.DateOrder)
		if derr != nil {
			errs.Add("rota.effectiveDate", string(fault.Invalid), derr.Error())
		} else if !r.Today.IsZero() && d.Sub(r.Today.Truncate(24*time.Hour)) < ShortNotice {
			warns.Add("rota.effectiveDate", "shortNotice",
				fmt.Sprintf("takes effect %s, less than %d days ahead: make sure the partner has it in time", d.Format(time.DateOnly), int(ShortNotice.Hours()/24)))
		}
		if err == nil && derr == nil {
			p.Rota = &Rota{Reference: ref, EffectiveDate: d.Format(time.DateOnly)}
		}
	}
	var err error
	p.SafeWord, err = clean.Name(in.SafeWord, maxSafeWordLen, false)
	addErr(errs, "safeWord", err)
	p.LicencePlate, err = clean.Name(strings.ToUpper(in.LicencePlate), maxPlateLen, false)
	addErr(errs, "licencePlate", err)
	p.OtherInformation, err = clean.Message(in.OtherInformation, maxOtherLen)
	addErr(errs, "otherInformation", err)
	if p.EscalationContacts == nil {
		p.EscalationContacts = []Contact{}
	}
	if p.OutOfHoursContacts == nil {
		p.OutOfHoursContacts = []Contact{}
	}
	return p
}

func addErr(errs *fault.Fields, field string, err error) {
	if e, ok := fault.As(err); ok {
		errs.Add(field, string(e.Code), e.Message)
	}
}

// contacts checks a list of contacts: blank entries are skipped, a name
// needs a phone and a phone a name, numbers must be valid, distinct, and not
// the worker's own.
func contacts(in []Contact, field string, max int, r Rules, errs *fault.Fields) []Contact {
	var out []Contact
	seen := map[string]int{}
	for i, c := range in {
		name, phone := strings.TrimSpace(c.Name), strings.TrimSpace(c.Phone)
		if name == "" && phone == "" {
			continue
		}
		f := field + "[" + strconv.Itoa(i) + "]"
		if i >= max {
			errs.Add(f, string(fault.Invalid), fmt.Sprintf("at most %d", max))
			continue
		}
		ok := true
		name, err := clean.Name(name, maxNameLen, true)
		if err != nil {
			addErr(errs, f+".name", err)
			ok = false
		}
		if phone == "" {
			errs.Add(f+".phone", string(fault.Invalid), "required")
			continue
		}
		e164, err := r.Phones(phone, r.Region)
		switch {
		case err != nil:
			errs.Add(f+".phone", string(fault.Invalid), "not a valid phone number")
			ok = false
		case e164 == r.WorkerPhone:
			errs.Add(f+".phone", string(fault.Invalid), "the worker's own number; a contact must be someone else")
			ok = false
		case seen[e164] > 0:
			errs.Add(f+".phone", string(fault.Invalid), fmt.Sprintf("the same number as contact %d", seen[e164]))
			ok = false
		}
		if ok {
			seen[e164] = i + 1
			out = append(out, Contact{Name: name, Phone: e164})
		}
	}
	return out
}

// ParseDate reads a date as people type it: 2026-12-01, 01.12.2026,
// 1/12/2026 (day first unless order is "mdy"), 1-12-2026.
func ParseDate(s, order string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("required")
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Truncate(24 * time.Hour), nil
	}
	var layouts []string
	if order == "mdy" {
		layouts = []string{"1/2/2006", "1-2-2006", "1.2.2006"}
	} else {
		layouts = []string{"2.1.2006", "2/1/2006", "2-1-2006"}
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date (use YYYY-MM-DD)")
}

// Record is a member's stored profile.
type Record struct {
	OrgID  string `json:"-" dynamodbav:"orgId"`
	UserID string `json:"userId" dynamodbav:"userId"`
	Profile
	// Version counts changes: a change names the version it was made on, so
	// two editors never overwrite each other unknowingly.
	Version   int       `json:"version" dynamodbav:"version"`
	UpdatedAt time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
	UpdatedBy string    `json:"updatedBy" dynamodbav:"updatedBy"`
}

// View is a profile as the API shows it: the safe word never leaves the
// service, only whether there is one.
type View struct {
	UserID             string     `json:"userId"`
	EscalationContacts []Contact  `json:"escalationContacts"`
	OutOfHoursContacts []Contact  `json:"outOfHoursContacts"`
	Rota               *Rota      `json:"rota"`
	HasSafeWord        bool       `json:"hasSafeWord"`
	LicencePlate       string     `json:"licencePlate"`
	OtherInformation   string     `json:"otherInformation"`
	Version            int        `json:"version"`
	UpdatedAt          *time.Time `json:"updatedAt"`
}

// ViewOf shows a record (an empty profile at version 0 when there is none).
func ViewOf(userID string, r *Record) View {
	v := View{UserID: userID, EscalationContacts: []Contact{}, OutOfHoursContacts: []Contact{}}
	if r == nil {
		return v
	}
	v.EscalationContacts, v.OutOfHoursContacts = r.EscalationContacts, r.OutOfHoursContacts
	if v.EscalationContacts == nil {
		v.EscalationContacts = []Contact{}
	}
	if v.OutOfHoursContacts == nil {
		v.OutOfHoursContacts = []Contact{}
	}
	v.Rota, v.HasSafeWord, v.LicencePlate, v.OtherInformation = r.Rota, r.SafeWord != "", r.LicencePlate, r.OtherInformation
	v.Version = r.Version
	at := r.UpdatedAt
	v.UpdatedAt = &at
	return v
}

// Changed lists the fields that differ between two profiles (the safe word
// by name only).
func Changed(before, after Profile) []string {
	var out []string
	if !slices.Equal(before.EscalationContacts, after.EscalationContacts) {
		out = append(out, "escalationContacts")
	}
	if !slices.Equal(before.OutOfHoursContacts, after.OutOfHoursContacts) {
		out = append(out, "outOfHoursContacts")
	}
	if !sameRota(before.Rota, after.Rota) {
		out = append(out, "rota")
	}
	if before.SafeWord != after.SafeWord {
		out = append(out, "safeWord")
	}
	if before.LicencePlate != after.LicencePlate {
		out = append(out, "licencePlate")
	}
	if before.OtherInformation != after.OtherInformation {
		out = append(out, "otherInformation")
	}
	return out
}

func sameRota(a, b *Rota) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

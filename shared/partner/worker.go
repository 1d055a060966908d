package partner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/invite"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
)

// SCIM schema URNs of a worker.
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaMonitoring = "urn:ietf:params:scim:schemas:extension:onboarding:monitoring:2.0:User"
)

// Worker is a monitored worker as partners see them: a SCIM 2.0 User
// (RFC 7643) with an extension holding what answering an alarm needs.
type Worker struct {
	Schemas           []string    `json:"schemas"`
	ID                string      `json:"id"`                   // stable for the person in the organisation
	ExternalID        string      `json:"externalId,omitempty"` // the member's user id, once they have accepted
	UserName          string      `json:"userName"`             // their email
	Name              Name        `json:"name"`
	Emails            []Value     `json:"emails"`
	PhoneNumbers      []Value     `json:"phoneNumbers"`
	PreferredLanguage string      `json:"preferredLanguage,omitempty"`
	Active            bool        `json:"active"`
	Monitoring        *Monitoring `json:"urn:ietf:params:scim:schemas:extension:onboarding:monitoring:2.0:User,omitempty"`
	Meta              Meta        `json:"meta"`
}

// Name is a SCIM name.
type Name struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	Formatted  string `json:"formatted,omitempty"`
}

// Value is a SCIM multi-valued attribute entry.
type Value struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

// Meta is SCIM resource metadata; Version counts the changes the partner
// was told of, so a receiver can ignore anything older than what it holds.
type Meta struct {
	ResourceType string `json:"resourceType"`
	Version      int    `json:"version"`
}

// Monitoring is the monitoring extension of a worker.
type Monitoring struct {
	Status             string            `json:"status"` // "member", or "invited" before they accept
	Units              []string          `json:"units"`
	EscalationContacts []monitor.Contact `json:"escalationContacts"`
	OutOfHoursContacts []monitor.Contact `json:"outOfHoursContacts"`
	Rota               *monitor.Rota     `json:"rota,omitempty"`
	SafeWord           string            `json:"safeWord,omitempty"`
	LicencePlate       string            `json:"licencePlate,omitempty"`
	OtherInformation   string            `json:"otherInformation,omitempty"`
}

// Source is what the service holds about one person of an organisation,
// read when one of their items changed.
type Source struct {
	OrgID string
	Email string
	// Roles are the organisation's roles: they say who is monitored.
	Roles      access.Roles
	Member     *org.Member
	Profile    *monitor.Record    // the member's monitoring profile
	Invitation *invite.Invitation // their pending invitation
}

// Monitored reports whether workers holding role are monitored: the roles
// of the organisation flagged so (the lone workers), as for rosters.
func Monitored(roles access.Roles, role string) bool { return roles.Monitored(role) }

// WorkerID is the stable id of a person in an organisation.
func WorkerID(orgID, email string) string {
	h := sha256.Sum256([]byte(orgID + "|" + email))
	return "wkr_" + hex.EncodeToString(h[:12])
}

// WorkerOf is the worker p is told of, if src is one of p's workers now.
func (p Partner) WorkerOf(src Source) (Worker, bool) {
	w := Worker{Schemas: []string{SchemaUser, SchemaMonitoring}, ID: WorkerID(src.OrgID, src.Email), UserName: src.Email,
		Active: true, Meta: Meta{ResourceType: "User"}}
	var units []string
	var profile monitor.Profile
	switch {
	case src.Member != nil:
		m := src.Member
		if !Monitored(src.Roles, m.Role) {
			return Worker{}, false
		}
		w.ExternalID = m.UserID
		w.Name = name(m.FirstName, m.LastName)
		w.Emails = []Value{{Value: m.Email, Type: "work", Primary: true}}
		w.PhoneNumbers = phones(m.Phone)
		units = m.Units
		if src.Profile != nil {
			profile = src.Profile.Profile
		}
		w.Monitoring = &Monitoring{Status: "member"}
	case src.Invitation != nil && p.AddedOn == AddedOnInvite:
		inv := src.Invitation
		if !Monitored(src.Roles, inv.Role) || inv.Status != invite.Pending {
			return Worker{}, false
		}
		w.Name = name(inv.FirstName, inv.LastName)
		w.Emails = []Value{{Value: inv.Email, Type: "work", Primary: true}}
		w.PhoneNumbers = phones(inv.Phone)
		w.PreferredLanguage = inv.Language
		units = inv.Units
		if inv.Profile != nil {
			profile = *inv.Profile
		}
		w.Monitoring = &Monitoring{Status: "invited"}
	default:
		return Worker{}, false
	}
	if !p.Covers(units) {
		return Worker{}, false
	}
	x := w.Monitoring
	x.Units = append([]string{}, units...)
	x.EscalationContacts = append([]monitor.Contact{}, profile.EscalationContacts...)
	x.OutOfHoursContacts = append([]monitor.Contact{}, profile.OutOfHoursContacts...)
	x.Rota, x.SafeWord, x.LicencePlate, x.OtherInformation = profile.Rota, profile.SafeWord, profile.LicencePlate, profile.OtherInformation
	return w, true
}

func name(first, last string) Name {
	n := Name{GivenName: first, FamilyName: last, Formatted: first}
	if last != "" {
		n.Formatted = first + " " + last
		if first == "" {
			n.Formatted = last
		}
	}
	return n
}

func phones(p string) []Value {
	if p == "" {
		return []Value{}
	}
	return []Value{{Value: p, Type: "mobile", Primary: true}}
}

// Fields are a worker's attributes by name, each as canonical JSON: what a
// snapshot keeps, so the next change can say which fields changed.
func (w Worker) Fields() map[string]string {
	f := map[string]string{}
	put := func(k string, v any) {
		b, _ := json.Marshal(v)
		f[k] = string(b)
	}
	put("externalId", w.ExternalID)
	put("userName", w.UserName)
	put("name", w.Name)
	put("emails", w.Emails)
	put("phoneNumbers", w.PhoneNumbers)
	put("preferredLanguage", w.PreferredLanguage)
	if x := w.Monitoring; x != nil {
		put("status", x.Status)
		put("units", x.Units)
		put("escalationContacts", x.EscalationContacts)
		put("outOfHoursContacts", x.OutOfHoursContacts)
		put("rota", x.Rota)
		put("safeWord", x.SafeWord)
		put("licencePlate", x.LicencePlate)
		put("otherInformation", x.OtherInformation)
	}
	return f
}

// Changed lists the fields whose values differ, sorted.
func Changed(old, new map[string]string) []string {
	var out []string
	for k := range maps.Keys(new) {
		if old[k] != new[k] {
			out = append(out, k)
		}
	}
	for k := range maps.Keys(old) {
		if _, ok := new[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Event types.
const (
	WorkerAdded   = "worker.added"
	WorkerUpdated = "worker.updated"
	WorkerRemoved = "worker.removed"
)

// Event is one change of one worker. Its id is stable: a receiver that
// gets it twice (a retry, a redelivery) can drop the copy.
type Event struct {
	ID            string    `json:"id" dynamodbav:"id"`
	Type          string    `json:"type" dynamodbav:"type"`
	Timestamp     time.Time `json:"timestamp" dynamodbav:"timestamp"`
	ChangedFields []string  `json:"changedFields,omitempty" dynamodbav:"changedFields,omitempty"`
	Worker        Worker    `json:"worker" dynamodbav:"worker"`
}

// Snapshot is what a partner was last told of a worker.
type Snapshot struct {
	OrgID      string            `dynamodbav:"orgId"`
	PartnerID  string            `dynamodbav:"partnerId"`
	Email      string            `dynamodbav:"email"`
	Generation string            `dynamodbav:"generation"` // the partner's (Partner.Generation)
	Present    bool              `dynamodbav:"present"`    // false after worker.removed
	Version    int               `dynamodbav:"version"`    // meta.version of the last event
	Fields     map[string]string `dynamodbav:"fields"`
}

// Diff is the event that brings a partner from snap (nil: never told) to
// the worker as it is now (ok false: not the partner's worker now), or nil
// when there is nothing to tell.
func Diff(snap *Snapshot, w Worker, ok bool, orgID, partnerID, email, eventID string, at time.Time) (*Event, Snapshot) {
	was := snap != nil && snap.Present
	next := Snapshot{OrgID: orgID, PartnerID: partnerID, Email: email}
	if snap != nil {
		next.Version = snap.Version
	}
	switch {
	case !was && !ok:
		return nil, next
	case was && !ok:
		next.Version++
		gone := Worker{Schemas: []string{SchemaUser}, ID: WorkerID(orgID, email), UserName: email, Active: false,
			Emails: []Value{{Value: email, Type: "work", Primary: true}}, PhoneNumbers: []Value{},
			Meta: Meta{ResourceType: "User", Version: next.Version}}
		if ext := snap.Fields["externalId"]; ext != "" {
			_ = json.Unmarshal([]byte(ext), &gone.ExternalID)
		}
		return &Event{ID: eventID, Type: WorkerRemoved, Timestamp: at, Worker: gone}, next
	}
	fields := w.Fields()
	next.Present, next.Fields = true, fields
	if !was {
		next.Version++
		w.Meta.Version = next.Version
		return &Event{ID: eventID, Type: WorkerAdded, Timestamp: at, Worker: w}, next
	}
	changed := Changed(snap.Fields, fields)
	if len(changed) == 0 {
		return nil, *snap
	}
	next.Version++
	w.Meta.Version = next.Version
	return &Event{ID: eventID, Type: WorkerUpdated, Timestamp: at, ChangedFields: changed, Worker: w}, next
}

// Told is what a partner was last told of a worker, as the person's export
// shows it: the worker's fields as sent, but the safe word never (only
// hasSafeWord, as everywhere the API shows a profile).
type Told struct {
	OrgID       string                     `json:"orgId"`
	PartnerID   string                     `json:"partnerId"`
	PartnerName string                     `json:"partnerName"`
	Present     bool                       `json:"present"` // false: told the worker left
	Version     int                        `json:"version"` // the last event's meta.version
	Worker      map[string]json.RawMessage `json:"worker"`
}

// ToldOf shows sn, a snapshot of partner p.
func ToldOf(p Partner, sn Snapshot) Told {
	t := Told{OrgID: p.OrgID, PartnerID: p.ID, PartnerName: p.Name, Present: sn.Present, Version: sn.Version,
		Worker: map[string]json.RawMessage{}}
	for k, v := range sn.Fields {
		if k == "safeWord" {
			t.Worker["hasSafeWord"] = json.RawMessage(fmt.Sprint(v != `""` && v != "null"))
			continue
		}
		t.Worker[k] = json.RawMessage(v)
	}
	return t
}

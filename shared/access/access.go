// Package access decides who may do what inside an organisation: its roles
// (each organisation's own, with a display name per language), the
// abilities each role has, and the units (teams, clinics, client groups)
// that scope members and admins.
package access

import (
	"slices"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"

	"onboarding/shared/fault"
)

// Owner is the key of the built-in owner role every organisation has: it
// holds every ability, cannot be removed or stripped, and its
// organisation-wide members are the admins the last-admin guard keeps.
// Its display names may change; its key does not.
const Owner = "admin"

// The keys of the roles an organisation gets when no preset is chosen.
const (
	Admin       = Owner
	Coordinator = "coordinator"
	Reporter    = "reporter"
	Member      = "member"
)

// Role is a named set of abilities in one organisation. Members and
// invitations hold a role's key; what the key may do is read from the
// organisation's role table at each request, so changing a role's abilities
// rewrites no member.
type Role struct {
	// Key is the role's stable identifier (stored as "name", as before
	// roles had display names).
	Key string `json:"key" dynamodbav:"name"`
	// Names are the display names by BCP 47 language tag.
	Names map[string]string `json:"names" dynamodbav:"names,omitempty"`
	// Owner marks the built-in owner role (Key == Owner).
	Owner bool `json:"owner" dynamodbav:"owner,omitempty"`
	// MayInvite lists the roles this role may invite and manage.
	MayInvite []string `json:"mayInvite" dynamodbav:"mayInvite"`
	// ConfigureUnits lets the role create and change units.
	ConfigureUnits bool `json:"configureUnits" dynamodbav:"configureUnits"`
	// ReadLists lets the role read members, invitations and reports.
	ReadLists bool `json:"readLists" dynamodbav:"readLists"`
	// ReadAudit lets the role read the audit trail.
	ReadAudit bool `json:"readAudit" dynamodbav:"readAudit,omitempty"`
	// ManagePartners lets the role add and change monitoring partners.
	ManagePartners bool `json:"managePartners" dynamodbav:"managePartners,omitempty"`
	// ManageSettings lets the role change settings and roles.
	ManageSettings bool `json:"manageSettings" dynamodbav:"manageSettings,omitempty"`
	// ImportRosters lets the role upload roster files.
	ImportRosters bool `json:"importRosters" dynamodbav:"importRosters,omitempty"`
	// Monitored says the role's members are lone workers that monitoring
	// partners are told about. It is not an ability: it is granted to no one.
	Monitored bool `json:"monitored" dynamodbav:"monitored,omitempty"`
}

// Ability names one thing a role may do, as the API and errors name it.
type Ability string

// The abilities a role may have besides MayInvite.
const (
	ConfigureUnits Ability = "configureUnits"
	ReadLists      Ability = "readLists"
	ReadAudit      Ability = "readAudit"
	ManagePartners Ability = "managePartners"
	ManageSettings Ability = "manageSettings"
	ImportRosters  Ability = "importRosters"
)

// Abilities lists every ability, in the order the API documents them.
var Abilities = []Ability{ConfigureUnits, ReadLists, ReadAudit, ManagePartners, ManageSettings, ImportRosters}

// Has reports whether r has ability ab.
func (r Role) Has(ab Ability) bool {
	switch ab {
	case ConfigureUnits:
		return r.ConfigureUnits
	case ReadLists:
		return r.ReadLists
	case ReadAudit:
		return r.ReadAudit
	case ManagePartners:
		return r.ManagePartners
	case ManageSettings:
		return r.ManageSettings
	case ImportRosters:
		return r.ImportRosters
	}
	return false
}

// Name is r's display name in lang: the exact tag, then its base language,
// then English, then any, then the key.
func (r Role) Name(lang string) string {
	if n := r.Names[lang]; n != "" {
		return n
	}
	if tag, err := language.Parse(lang); err == nil {
		base, _ := tag.Base()
		if n := r.Names[base.String()]; n != "" {
			return n
		}
	}
	if n := r.Names["en"]; n != "" {
		return n
	}
	keys := make([]string, 0, len(r.Names))
	for k := range r.Names {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if r.Names[k] != "" {
			return r.Names[k]
		}
	}
	return r.Key
}

// OwnerRole is the owner role with every ability: what the built-in owner
// always is, whatever was stored.
func OwnerRole(names map[string]string, mayInvite []string, monitored bool) Role {
	return Role{Key: Owner, Names: names, Owner: true, MayInvite: mayInvite, ConfigureUnits: true, ReadLists: true,
		ReadAudit: true, ManagePartners: true, ManageSettings: true, ImportRosters: true, Monitored: monitored}
}

// DefaultRoles are the roles a new organisation gets without a preset,
// named in the 12 languages the products speak.
func DefaultRoles() []Role {
	return []Role{
		OwnerRole(DefaultNames(Admin), []string{Admin, Coordinator, Reporter, Member}, false),
		{Key: Coordinator, Names: DefaultNames(Coordinator),
			MayInvite: []string{Coordinator, Reporter, Member}, ConfigureUnits: true, ReadLists: true, ImportRosters: true},
		{Key: Reporter, Names: DefaultNames(Reporter), MayInvite: []string{}, ReadLists: true},
		{Key: Member, Names: DefaultNames(Member), MayInvite: []string{}, Monitored: true},
	}
}

// DefaultNames returns (a copy of) the display names of a default role.
func DefaultNames(key string) map[string]string {
	out := map[string]string{}
	for lang, n := range defaultNames[key] {
		out[lang] = n
	}
	return out
}

var defaultNames = map[string]map[string]string{
	Admin: {"en": "Admin", "nb": "Administrator", "sv": "Administratör", "da": "Administrator",
		"fi": "Ylläpitäjä", "de": "Administrator", "nl": "Beheerder", "fr": "Administrateur", "es": "Administrador",
		"pl": "Administrator", "id": "Admin", "ar": "مسؤول"},
	Coordinator: {"en": "Coordinator", "nb": "Koordinator", "sv": "Koordinator", "da": "Koordinator",
		"fi": "Koordinaattori", "de": "Koordinator", "nl": "Coördinator", "fr": "Coordinateur", "es": "Coordinador",
		"pl": "Koordynator", "id": "Koordinator", "ar": "منسق"},
	Reporter: {"en": "Reporter", "nb": "Rapportør", "sv": "Rapportör", "da": "Rapportør",
		"fi": "Raportoija", "de": "Berichterstatter", "nl": "Rapporteur", "fr": "Rapporteur", "es": "Informante",
		"pl": "Zgłaszający", "id": "Pelapor", "ar": "مُبلِّغ"},
	Member: {"en": "Member", "nb": "Medlem", "sv": "Medlem", "da": "Medlem",
		"fi": "Jäsen", "de": "Mitglied", "nl": "Lid", "fr": "Membre", "es": "Miembro",
		"pl": "Członek", "id": "Anggota", "ar": "عضو"},
}

// Upgrade returns roles stored before roles had owners, names and the newer
// abilities, as they behaved then: the admin role is the owner (every
// ability), roles that invite import rosters, members are monitored, and
// each role is named by its key. Roles that have an owner are returned as
// they are.
func Upgrade(rs Roles) Roles {
	for _, r := range rs {
		if r.Owner {
			return rs
		}
	}
	out := make(Roles, 0, len(rs))
	for _, r := range rs {
		if len(r.Names) == 0 {
			r.Names = map[string]string{"en": cases.Title(language.English).String(r.Key)}
		}
		switch {
		case r.Key == Owner:
			r = OwnerRole(r.Names, r.MayInvite, false)
		case r.Key == Member:
			r.Monitored = true
		}
		if len(r.MayInvite) > 0 {
			r.ImportRosters = true
		}
		out = append(out, r)
	}
	return out
}

// Actor is a signed-in person acting in one organisation, as its membership
// says at the time of the request.
type Actor struct {
	UserID string
	OrgID  string
	Role   string
	// Units scopes the actor; empty means organisation-wide.
	Units []string
}

// OrgWide reports whether the actor is not limited to some units.
func (a Actor) OrgWide() bool { return len(a.Units) == 0 }

// Roles is an organisation's role table.
type Roles []Role

// Find returns the role with the key.
func (rs Roles) Find(key string) (Role, bool) {
	for _, r := range rs {
		if r.Key == key {
			return r, true
		}
	}
	return Role{}, false
}

// Resolve returns the key of the role that s names: its key or any of its
// display names, without regard to case or surrounding space.
func (rs Roles) Resolve(s string) (string, bool) {
	s = FoldName(s)
	if s == "" {
		return "", false
	}
	for _, r := range rs {
		if FoldName(r.Key) == s {
			return r.Key, true
		}
	}
	for _, r := range rs {
		for _, n := range r.Names {
			if FoldName(n) == s {
				return r.Key, true
			}
		}
	}
	return "", false
}

var folder = cases.Fold()

// FoldName is a role name as Resolve compares it.
func FoldName(s string) string { return folder.String(strings.Join(strings.Fields(s), " ")) }

// Monitored reports whether members holding the role key are monitored.
func (rs Roles) Monitored(key string) bool {
	r, ok := rs.Find(key)
	return ok && r.Monitored
}

// MonitoredKeys lists the keys of the monitored roles.
func (rs Roles) MonitoredKeys() []string {
	var out []string
	for _, r := range rs {
		if r.Monitored {
			out = append(out, r.Key)
		}
	}
	return out
}

// Can reports whether the actor's role has ability ab.
func (rs Roles) Can(a Actor, ab Ability) bool {
	r, ok := rs.Find(a.Role)
	return ok && r.Has(ab)
}

// Require returns nil when the actor's role has ability ab and, with
// orgWide, the actor is not limited to units; else Forbidden, naming the
// ability.
func (rs Roles) Require(a Actor, ab Ability, orgWide bool) error {
	if !rs.Can(a, ab) {
		return fault.New(fault.Forbidden, "your role does not have the %s ability", ab)
	}
	if orgWide && !a.OrgWide() {
		return fault.New(fault.Forbidden, "only members not limited to units may do this")
	}
	return nil
}

// CheckInvite returns nil when actor may invite someone with role into units.
// Rules: the actor's role must list the target role; an actor scoped to units
// may invite only into a non-empty subset of its units; only an
// organisation-wide owner may invite owners.
func (rs Roles) CheckInvite(actor Actor, role string, units []string) error {
	mine, ok := rs.Find(actor.Role)
	if !ok || !slices.Contains(mine.MayInvite, role) {
		return fault.New(fault.Forbidden, "your role may not invite %q", role)
	}
	if role == Owner && !(actor.Role == Owner && actor.OrgWide()) {
		return fault.New(fault.Forbidden, "only an organisation-wide admin may invite admins")
	}
	if actor.OrgWide() {
		return nil
	}
	if len(units) == 0 {
		return fault.New(fault.Forbidden, "you may invite only into your own units")
	}
	for _, u := range units {
		if !slices.Contains(actor.Units, u) {
			return fault.New(fault.Forbidden, "you may invite only into your own units")
		}
	}
	return nil
}

// Package access decides who may do what inside an organisation: roles, the
// roles each may invite, and the units (teams, clinics, client groups) that
// scope members and admins.
package access

import (
	"slices"

	"onboarding/shared/fault"
)

// The default roles every organisation starts with.
const (
	Admin       = "admin"
	Coordinator = "coordinator"
	Reporter    = "reporter"
	Member      = "member"
)

// Role is a named set of abilities in one organisation.
type Role struct {
	Name string `json:"name" dynamodbav:"name"`
	// MayInvite lists the roles this role may invite and manage.
	MayInvite []string `json:"mayInvite" dynamodbav:"mayInvite"`
	// ConfigureUnits lets the role create and change units.
	ConfigureUnits bool `json:"configureUnits" dynamodbav:"configureUnits"`
	// ReadLists lets the role read members, invitations and reports.
	ReadLists bool `json:"readLists" dynamodbav:"readLists"`
}

// DefaultRoles are the roles a new organisation gets.
func DefaultRoles() []Role {
	return []Role{
		{Name: Admin, MayInvite: []string{Admin, Coordinator, Reporter, Member}, ConfigureUnits: true, ReadLists: true},
		{Name: Coordinator, MayInvite: []string{Coordinator, Reporter, Member}, ConfigureUnits: true, ReadLists: true},
		{Name: Reporter, ReadLists: true},
		{Name: Member},
	}
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

// Find returns the named role.
func (rs Roles) Find(name string) (Role, bool) {
	for _, r := range rs {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// CheckInvite returns nil when actor may invite someone with role into units.
// Rules: the actor's role must list the target role; an actor scoped to units
// may invite only into a non-empty subset of its units; only an
// organisation-wide admin may invite admins.
func (rs Roles) CheckInvite(actor Actor, role string, units []string) error {
	mine, ok := rs.Find(actor.Role)
	if !ok || !slices.Contains(mine.MayInvite, role) {
		return fault.New(fault.Forbidden, "your role may not invite %q", role)
	}
	if role == Admin && !(actor.Role == Admin && actor.OrgWide()) {
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

// Package membership manages an organisation's members: list them, change
// their role and units, remove them. An organisation never loses its last
// organisation-wide admin.
package membership

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/search"
)

// Store is what member management needs of storage.
type Store interface {
	Actor(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error)
	// Member reads one membership, or nil.
	Member(ctx context.Context, orgID, userID string) (*org.Member, error)
	// ListMembers returns a page of members (optionally of one role, or in
	// one unit) and the next page's cursor ("" on the last).
	ListMembers(ctx context.Context, orgID, role, unit string, limit int, cursor string) ([]org.Member, string, error)
	// SearchMembers is ListMembers of those whose email, first or last
	// name, folded (search.Fold), starts with q, in the order of the term
	// that matched.
	SearchMembers(ctx context.Context, orgID, q, role, unit string, limit int, cursor string) ([]org.Member, string, error)
	// UpdateMember stores updated if old is unchanged meanwhile; a change
	// that would leave no organisation-wide admin is a Conflict.
	UpdateMember(ctx context.Context, old, updated org.Member, e audit.Entry) error
	// RemoveMember deletes the membership, with the same admin rule.
	RemoveMember(ctx context.Context, m org.Member, e audit.Entry) error
}

// Service manages members.
type Service struct {
	Store Store
	// Monitor stores monitoring profiles; Phones normalises their numbers.
	Monitor MonitoringStore
	Phones  monitor.PhoneParser
	Now     func() time.Time
}

// Page is one page of members.
type Page struct {
	Items      []org.Member `json:"items"`
	NextCursor *string      `json:"nextCursor"`
}

// Query selects members.
type Query struct {
	// Q, when set, lists only the members whose email, first or last name
	// starts with it, in any case and with or without accents.
	Role, Unit, Cursor, Q string
	Limit                 int
}

// Change is a PATCH: nil fields stay as they are.
type Change struct {
	Role  *string   `json:"role"`
	Units *[]string `json:"units"`
}

const (
	defaultPageSize = 50
	maxPageSize     = 100
	maxUnits        = 50
)

func (s *Service) actor(ctx context.Context, orgID, userID string) (org.Organisation, access.Actor, error) {
	return org.ResolveActor(ctx, s.Store, orgID, userID)
}

// sees reports whether actor may see m: organisation-wide actors see
// everyone; unit-scoped ones see members who share a unit with them.
func sees(actor access.Actor, m org.Member) bool {
	if actor.OrgWide() || m.UserID == actor.UserID {
		return true
	}
	for _, u := range m.Units {
		if slices.Contains(actor.Units, u) {
			return true
		}
	}
	return false
}

// List returns a page of members the actor may see.
func (s *Service) List(ctx context.Context, userID, orgID string, q Query) (Page, error) {
	o, actor, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return Page{}, err
	}
	if r, ok := o.Roles.Find(actor.Role); !ok || !r.ReadLists {
		return Page{}, fault.New(fault.Forbidden, "your role may not see members")
	}
	limit := q.Limit
	if limit == 0 {
		limit = defaultPageSize
	}
	var errs fault.Fields
	if limit < 1 || limit > maxPageSize {
		errs.Add("limit", string(fault.Invalid), fmt.Sprintf("from 1 to %d", maxPageSize))
	}
	var folded string
	if q.Q != "" {
		folded = search.Query(q.Q, &errs)
	}
	if err := errs.Err(); err != nil {
		return Page{}, err
	}
	role, unit := strings.TrimSpace(q.Role), strings.TrimSpace(q.Unit)
	var items []org.Member
	var next string
	if folded != "" {
		items, next, err = s.Store.SearchMembers(ctx, orgID, folded, role, unit, limit, q.Cursor)
	} else {
		items, next, err = s.Store.ListMembers(ctx, orgID, role, unit, limit, q.Cursor)
	}
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: []org.Member{}}
	for _, m := range items {
		if sees(actor, m) {
			page.Items = append(page.Items, m)
		}
	}
	if next != "" {
		page.NextCursor = &next
	}
	return page, nil
}

// target loads a member the actor may manage: one whose role and units the
// actor could invite. Members the actor cannot see are NotFound.
func (s *Service) target(ctx context.Context, userID, orgID, targetID string) (org.Organisation, access.Actor, org.Member, error) {
	o, actor, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return o, actor, org.Member{}, err
	}
	m, err := s.Store.Member(ctx, orgID, targetID)
	if err != nil {
		return o, actor, org.Member{}, err
	}
	if m == nil || !sees(actor, *m) {
		return o, actor, org.Member{}, fault.New(fault.NotFound, "no such member")
	}
	if err := o.Roles.CheckInvite(actor, m.Role, m.Units); err != nil {
		return o, actor, org.Member{}, err
	}
	return o, actor, *m, nil
}

// Update changes a member's role and units. The actor must be allowed to
// manage the member both as they are and as they will be.
func (s *Service) Update(ctx context.Context, userID, orgID, targetID string, c Change) (org.Member, error) {
	o, actor, m, err := s.target(ctx, userID, orgID, targetID)
	if err != nil {
		return org.Member{}, err
	}
	updated := m
	var errs fault.Fields
	if c.Role != nil {
		role, ok := o.Roles.Resolve(*c.Role)
		if !ok {
			errs.Add("role", string(fault.Invalid), "no such role in this organisation")
		}
		updated.Role = role
	}
	if c.Units != nil {
		units, ok := cleanUnits(*c.Units)
		if !ok {
			errs.Add("units", string(fault.Invalid), fmt.Sprintf("at most %d unit ids", maxUnits))
		}
		updated.Units = units
	}
	if err := errs.Err(); err != nil {
		return org.Member{}, err
	}
	if err := o.Roles.CheckInvite(actor, updated.Role, updated.Units); err != nil {
		return org.Member{}, err
	}
	e := audit.New(orgID, userID, audit.MemberUpdated, "member", targetID, s.Now()).
		Changed(map[string]any{"role": m.Role, "units": m.Units}, map[string]any{"role": updated.Role, "units": updated.Units})
	if err := s.Store.UpdateMember(ctx, m, updated, e); err != nil {
		return org.Member{}, err
	}
	return updated, nil
}

// Remove ends a membership; the person's next request in this organisation
// is refused (membership is checked on every request).
func (s *Service) Remove(ctx context.Context, userID, orgID, targetID string) error {
	_, _, m, err := s.target(ctx, userID, orgID, targetID)
	if err != nil {
		return err
	}
	e := audit.New(orgID, userID, audit.MemberRemoved, "member", targetID, s.Now()).
		Changed(map[string]any{"role": m.Role, "units": m.Units, "email": m.Email}, nil)
	return s.Store.RemoveMember(ctx, m, e)
}

func cleanUnits(in []string) ([]string, bool) {
	if len(in) > maxUnits {
		return nil, false
	}
	out := []string{}
	for _, u := range in {
		u = strings.TrimSpace(u)
		if u == "" || len(u) > 64 {
			return nil, false
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, true
}

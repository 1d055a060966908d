package invite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
	"onboarding/shared/search"
)

// Limits of the management operations.
const (
	DefaultPageSize  = 50
	MaxPageSize      = 100
	MaxResendsPerDay = 5
	resendWindow     = 24 * time.Hour
	defaultRetention = 90
)

// Page is one page of a list.
type Page struct {
	Items      []Invitation `json:"items"`
	NextCursor *string      `json:"nextCursor"`
}

// ListQuery selects invitations.
type ListQuery struct {
	Status string
	// Q, when set, lists only the invitations whose email, first or last
	// name starts with it, in any case and with or without accents.
	Q      string
	Limit  int
	Cursor string
}

func (s *Service) actor(ctx context.Context, orgID, userID string) (org.Organisation, access.Actor, error) {
	return org.ResolveActor(ctx, s.Store, orgID, userID)
}

// mayRead reports whether actor may see invitations at all.
func mayRead(o org.Organisation, actor access.Actor) error {
	r, ok := o.Roles.Find(actor.Role)
	if !ok || !r.ReadLists {
		return fault.New(fault.Forbidden, "your role may not see invitations")
	}
	return nil
}

// visible reports whether a unit-scoped actor may see inv: it must share a
// unit with the actor. Organisation-wide actors see everything.
func visible(actor access.Actor, inv Invitation) bool {
	if actor.OrgWide() {
		return true
	}
	for _, u := range inv.Units {
		if slices.Contains(actor.Units, u) {
			return true
		}
	}
	return false
}

// present shows an invitation as it stands at now (expired once past its
// expiry, whether or not a sweep has marked it).
func present(inv Invitation, now time.Time) Invitation {
	inv.Status = inv.StatusAt(now)
	return inv
}

// List returns a page of the organisation's invitations, newest first.
func (s *Service) List(ctx context.Context, userID, orgID string, q ListQuery) (Page, error) {
	o, actor, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return Page{}, err
	}
	if err := mayRead(o, actor); err != nil {
		return Page{}, err
	}
	var errs fault.Fields
	status := Status(q.Status)
	switch status {
	case "", Pending, Accepted, Revoked, Expired:
	default:
		errs.Add("status", string(fault.Invalid), "one of pending, accepted, revoked, expired")
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		errs.Add("limit", string(fault.Invalid), fmt.Sprintf("from 1 to %d", MaxPageSize))
	}
	var folded string
	if q.Q != "" {
		folded = search.Query(q.Q, &errs)
	}
	if err := errs.Err(); err != nil {
		return Page{}, err
	}
	now := s.Now()
	var items []Invitation
	var next string
	if folded != "" {
		items, next, err = s.Store.SearchInvitations(ctx, orgID, folded, status, limit, q.Cursor, now)
	} else {
		items, next, err = s.Store.ListInvitations(ctx, orgID, status, limit, q.Cursor, now)
	}
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: []Invitation{}}
	for _, inv := range items {
		if visible(actor, inv) {
			page.Items = append(page.Items, present(inv, now))
		}
	}
	if next != "" {
		page.NextCursor = &next
	}
	return page, nil
}

// Get returns one invitation the actor may see; others are NotFound.
func (s *Service) Get(ctx context.Context, userID, orgID, id string) (Invitation, error) {
	o, actor, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return Invitation{}, err
	}
	if err := mayRead(o, actor); err != nil {
		return Invitation{}, err
	}
	inv, err := s.Store.Invitation(ctx, orgID, id)
	if err != nil || !visible(actor, inv) {
		return Invitation{}, fault.New(fault.NotFound, "no such invitation")
	}
	return present(inv, s.Now()), nil
}

// managed loads an invitation the actor may manage: one whose role and units
// the actor could invite. Invisible ones are NotFound.
func (s *Service) managed(ctx context.Context, userID, orgID, id string) (org.Organisation, Invitation, error) {
	o, actor, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return o, Invitation{}, err
	}
	inv, err := s.Store.Invitation(ctx, orgID, id)
	if err != nil || !visible(actor, inv) {
		return o, Invitation{}, fault.New(fault.NotFound, "no such invitation")
	}
	if err := o.Roles.CheckInvite(actor, inv.Role, inv.Units); err != nil {
		return o, Invitation{}, err
	}
	return o, inv, nil
}

// Resend sends a pending invitation again with a new token: the old link
// stops working at once and the expiry window restarts. At most
// MaxResendsPerDay per invitation in 24 hours; an expired one is Gone.
func (s *Service) Resend(ctx context.Context, userID, orgID, id string) (Invitation, error) {
	o, inv, err := s.managed(ctx, userID, orgID, id)
	if err != nil {
		return Invitation{}, err
	}
	now := s.Now().UTC().Truncate(time.Second)
	switch inv.StatusAt(now) {
	case Pending:
	case Expired:
		return Invitation{}, fault.New(fault.Gone, "this invitation has expired; invite the person again")
	default:
		return Invitation{}, fault.New(fault.Conflict, "only a pending invitation can be resent; this one is %s", inv.Status)
	}
	var recent []time.Time
	for _, t := range inv.Resends {
		if now.Sub(t) < resendWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= MaxResendsPerDay {
		e := fault.New(fault.TooMany, "this invitation was resent %d times in the last 24 hours", MaxResendsPerDay)
		e.RetryAfter = recent[0].Add(resendWindow).Sub(now)
		return Invitation{}, e
	}
	release, err := s.take(ctx, sendQuotas(o, inv.Email, true))
	if err != nil {
		return Invitation{}, err
	}
	token, hash, err := opaque.New()
	if err != nil {
		release()
		return Invitation{}, err
	}
	renewed := inv
	renewed.Templates = o.Settings.EmailTemplates
	renewed.TokenHash = hash
	renewed.ExpiresAt = now.Add(o.Lifetime())
	renewed.Resends = append(recent, now)
	renewed.DeliveryStatus = DeliveryQueued
	renewed.DeliveryAttempts, renewed.RetryMail, renewed.NextDeliveryAt = 0, "", nil
	renewed.RemindAt, renewed.RemindedAt, renewed.ReminderTokenHash = remindAt(o, renewed.ExpiresAt, now), nil, ""
	e := audit.New(orgID, userID, audit.InvitationResent, "invitation", inv.ID, now).
		Changed(map[string]any{"expiresAt": inv.ExpiresAt}, map[string]any{"expiresAt": renewed.ExpiresAt})
	if err := s.Store.Resend(ctx, inv, renewed, e); err != nil {
		release()
		return Invitation{}, err
	}
	return s.deliver(ctx, renewed, token)
}

// Retention is how long an ended (revoked or expired) invitation is kept:
// days, or the default of 90 when days is not set.
func Retention(days int) time.Duration {
	if days <= 0 {
		days = defaultRetention
	}
	return time.Duration(days) * 24 * time.Hour
}

// Removed says what DELETE did.
type Removed struct {
	Invitation Invitation
	// Deleted is set when the invitation is gone; otherwise it was revoked.
	Deleted bool
}

// Remove revokes a pending invitation (its link stops working at once), or
// deletes one that is expired or revoked. An accepted one is a Conflict.
func (s *Service) Remove(ctx context.Context, userID, orgID, id string) (Removed, error) {
	_, inv, err := s.managed(ctx, userID, orgID, id)
	if err != nil {
		return Removed{}, err
	}
	now := s.Now().UTC().Truncate(time.Second)
	switch inv.StatusAt(now) {
	case Pending:
		e := audit.New(orgID, userID, audit.InvitationRevoked, "invitation", inv.ID, now).
			Changed(map[string]any{"status": Pending}, map[string]any{"status": Revoked})
		if err := s.Store.Revoke(ctx, inv, now, now.Add(Retention(s.RetentionDays)), e); err != nil {
			return Removed{}, err
		}
		inv.Status = Revoked
		inv.RevokedAt = &now
		return Removed{Invitation: inv}, nil
	case Expired, Revoked:
		e := audit.New(orgID, userID, audit.InvitationDeleted, "invitation", inv.ID, now).
			Changed(map[string]any{"status": inv.StatusAt(now), "email": inv.Email}, nil)
		if err := s.Store.DeleteInvitation(ctx, inv, e); err != nil {
			return Removed{}, err
		}
		return Removed{Invitation: present(inv, now), Deleted: true}, nil
	default:
		return Removed{}, fault.New(fault.Conflict, "an accepted invitation cannot be removed; manage the member instead")
	}
}

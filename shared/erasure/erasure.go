// Package erasure is what a person may ask of the data the service holds
// about them: a copy of all of it (export), and its end (erasure), by the
// person or by an organisation-wide admin of their only organisation.
package erasure

import (
	"context"
	"fmt"
	"slices"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/partner"
	"onboarding/shared/quota"
)

// Store is what export and erasure need of storage.
type Store interface {
	Account(ctx context.Context, userID string) (*account.Account, error)
	Memberships(ctx context.Context, userID string) ([]org.Member, error)
	Actor(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error)
	MonitoringProfile(ctx context.Context, orgID, userID string) (*monitor.Record, error)
	// InvitationsTo returns the invitations to an email in every
	// organisation, whatever their status.
	InvitationsTo(ctx context.Context, email string) ([]invite.Invitation, error)
	// ExportSessions returns the person's sessions as stored, without secrets.
	ExportSessions(ctx context.Context, userID string) ([]map[string]any, error)
	// AuditAbout returns an organisation's audit entries p finds to be
	// about the person (unchanged).
	AuditAbout(ctx context.Context, orgID string, p audit.Pseudonymisation) ([]audit.Entry, error)

	// ToldOf returns what each of the organisation's monitoring partners
	// was last told of email's worker.
	ToldOf(ctx context.Context, orgID, email string) ([]partner.Told, error)

	// Pseudonym is the id that stands for the person once erased: the same
	// for the same user id, and not to be turned back into it.
	Pseudonym(ctx context.Context, userID string) (string, error)
	// EraseMembership deletes m (if as read) and its monitoring profile,
	// never the organisation's last org-wide admin (Conflict), with e.
	EraseMembership(ctx context.Context, m org.Member, e audit.Entry) error
	// EraseInvitation deletes inv (if as read) with its tokens, pending
	// guard and leave token; e, when not nil, records it.
	EraseInvitation(ctx context.Context, inv invite.Invitation, e *audit.Entry) error
	// EraseDigestEntries deletes the entries naming email in the
	// organisation's expiry digests not yet sent.
	EraseDigestEntries(ctx context.Context, orgID, email string) error
	// PseudonymiseAudit rewrites the organisation's entries about the person.
	PseudonymiseAudit(ctx context.Context, orgID string, p audit.Pseudonymisation) error
	// EraseAccount deletes everything under the person's user id and email:
	// the account, its email guard, sessions, sign-in throttles and
	// counters, and the organisations' counts of emails to them.
	EraseAccount(ctx context.Context, a account.Account, orgIDs []string) error
}

// Quotas counts uses of a budget (account.GuessStore's Take): Take counts
// one use if fewer than limit were counted in the window that holds now,
// else returns how long until it ends.
type Quotas interface {
	Take(ctx context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error)
}

// ExportsPerHour is how many exports one account may ask for in an hour:
// each reads the whole audit trail of every organisation the person is in
// or was invited to, so unlimited repeats would be a cost and a denial of
// service; a person needs a copy now and then, not a stream of them.
const ExportsPerHour = 10

// Service exports and erases.
type Service struct {
	Store Store
	// Quotas keeps each account's export budget (ExportsPerHour).
	Quotas Quotas
	// Sessions ends the person's sessions first, so no refresh succeeds
	// while the rest is erased; EraseAccount then deletes what is left
	// under USER#<user>.
	Sessions account.SessionRevoker
	Hasher   account.Hasher
	Guesses  account.GuessReserver
	Now      func() time.Time
}

// GuessingStore is a Store that also keeps sign-in's throttles and budgets.
type GuessingStore interface {
	Store
	account.GuessStore
	account.SessionRevoker
}

// New returns the service as the invite function runs it: DELETE /me checks
// the password with sign-in's hasher, under sign-in's throttle and budgets.
func New(store GuessingStore, now func() time.Time) *Service {
	return &Service{Store: store, Quotas: store, Sessions: store, Hasher: account.Hasher{Params: account.OWASP}, Guesses: account.NewGuesses(store, now), Now: now}
}

// Export is everything stored about one person.
type Export struct {
	ExportedAt  time.Time           `json:"exportedAt"`
	Account     account.Account     `json:"account"`
	Memberships []org.Member        `json:"memberships"`
	Monitoring  []Monitoring        `json:"monitoringProfiles"`
	Invitations []invite.Invitation `json:"invitations"`
	Sessions    []map[string]any    `json:"sessions"`
	Audit       []audit.Entry       `json:"auditEntries"`
	// Partners is what monitoring partners were last told of the person,
	// in each organisation they belong to or were invited to.
	Partners []partner.Told `json:"partners"`
}

// Monitoring is a monitoring profile in one organisation. The safe word is
// left out, as everywhere the API shows a profile: it is a secret that
// proves the worker's identity to an alarm centre, and an export is a file
// that travels (downloads, mail); the person knows their own word.
type Monitoring struct {
	OrgID string `json:"orgId"`
	monitor.View
}

// Export gathers what is stored about userID. It costs one read of each of
// the person's organisations' audit trails (the entries are not indexed by
// person), one query of the invitee index and one BatchGetItem per 100
// invitations, one query of the sessions, a GetItem per membership, and per
// organisation a query of its partners and a BatchGetItem of what they were
// told. Past the account's budget (ExportsPerHour) it refuses (TooMany)
// before reading any of that.
func (s *Service) Export(ctx context.Context, userID string) (Export, error) {
	a, err := s.account(ctx, userID)
	if err != nil {
		return Export{}, err
	}
	now := s.Now().UTC()
	wait, err := s.Quotas.Take(ctx, quota.Name{Kind: quota.ExportUser, Subject: userID}, ExportsPerHour, time.Hour, now)
	if err != nil {
		return Export{}, fmt.Errorf("take export budget: %w", err)
	}
	if wait > 0 {
		return Export{}, &fault.Error{Code: fault.TooMany, Message: "too many exports this hour; try again later", RetryAfter: wait}
	}
	out := Export{ExportedAt: now.Truncate(time.Second), Account: *a,
		Monitoring: []Monitoring{}, Audit: []audit.Entry{}, Partners: []partner.Told{}}
	if out.Memberships, err = s.Store.Memberships(ctx, userID); err != nil {
		return Export{}, fmt.Errorf("export memberships: %w", err)
	}
	if out.Invitations, err = s.Store.InvitationsTo(ctx, a.Email); err != nil {
		return Export{}, fmt.Errorf("export invitations: %w", err)
	}
	if out.Sessions, err = s.Store.ExportSessions(ctx, userID); err != nil {
		return Export{}, fmt.Errorf("export sessions: %w", err)
	}
	for _, m := range out.Memberships {
		r, err := s.Store.MonitoringProfile(ctx, m.OrgID, userID)
		if err != nil {
			return Export{}, fmt.Errorf("export monitoring in %s: %w", m.OrgID, err)
		}
		if r != nil {
			out.Monitoring = append(out.Monitoring, Monitoring{OrgID: m.OrgID, View: monitor.ViewOf(userID, r)})
		}
	}
	p := about(*a, out.Invitations, "")
	for _, orgID := range orgsOf(out.Memberships, out.Invitations) {
		entries, err := s.Store.AuditAbout(ctx, orgID, p)
		if err != nil {
			return Export{}, fmt.Errorf("export audit of %s: %w", orgID, err)
		}
		out.Audit = append(out.Audit, entries...)
		told, err := s.Store.ToldOf(ctx, orgID, a.Email)
		if err != nil {
			return Export{}, fmt.Errorf("export what the partners of %s were told: %w", orgID, err)
		}
		out.Partners = append(out.Partners, told...)
	}
	return out, nil
}

func (s *Service) account(ctx context.Context, userID string) (*account.Account, error) {
	a, err := s.Store.Account(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", userID, err)
	}
	if a == nil {
		return nil, fault.New(fault.Unauthorized, "the account no longer exists")
	}
	return a, nil
}

// EraseSelf erases the caller's account once they have given its password
// again, from source (their IP), throttled as sign-in is.
func (s *Service) EraseSelf(ctx context.Context, userID, password, source string) error {
	a, err := s.account(ctx, userID)
	if err != nil {
		return err
	}
	if err := account.CheckAgain(ctx, s.Hasher, s.Guesses, a, password, source, "password"); err != nil {
		return err
	}
	return s.erase(ctx, *a, "", "")
}

// EraseMember erases a member of orgID at the request of actorID, who must
// be an organisation-wide admin there; the member may belong to no other
// organisation (their other organisations' data is not this one's to end).
func (s *Service) EraseMember(ctx context.Context, actorID, orgID, targetID string) error {
	_, actor, err := org.ResolveActor(ctx, s.Store, orgID, actorID)
	if err != nil {
		return err
	}
	// Erasure is the owner's: no ability stands for it.
	if actor.Role != access.Owner || !actor.OrgWide() {
		return fault.New(fault.Forbidden, "only organisation-wide admins may erase a member")
	}
	ms, err := s.Store.Memberships(ctx, targetID)
	if err != nil {
		return fmt.Errorf("memberships of %s: %w", targetID, err)
	}
	if !slices.ContainsFunc(ms, func(m org.Member) bool { return m.OrgID == orgID }) {
		return fault.New(fault.NotFound, "no such member")
	}
	if len(ms) > 1 {
		return fault.New(fault.Conflict, "the member belongs to other organisations too; remove them from this one instead")
	}
	if targetID == actorID {
		return fault.New(fault.Conflict, "erase your own account with DELETE /me")
	}
	a, err := s.Store.Account(ctx, targetID)
	if err != nil {
		return fmt.Errorf("load account %s: %w", targetID, err)
	}
	if a == nil {
		return fault.New(fault.NotFound, "no such member")
	}
	return s.erase(ctx, *a, actorID, orgID)
}

// erase ends a: its memberships and profiles (checked first, so that the
// last org-wide admin of an organisation is refused before anything
// changes), the invitations to its address, its sessions, the person in the
// audit trails, and the account. actorID is the admin of actorOrg who asked,
// or "" for the person themselves (recorded under the pseudonym). In any
// other organisation (an invitation there revoked) the actor is recorded as
// the system: one tenant's admin is no business of another's trail.
//
// The account goes last, so a failure part way leaves a person who can ask
// again. Memberships and invitations are read twice, once more after the
// account is gone: an invitation accepted meanwhile made a membership the
// first read did not see (the store's accept checks the account still
// exists, so none is made after).
func (s *Service) erase(ctx context.Context, a account.Account, actorID, actorOrg string) error {
	ms, err := s.Store.Memberships(ctx, a.UserID)
	if err != nil {
		return fmt.Errorf("memberships of %s: %w", a.UserID, err)
	}
	for _, m := range ms {
		if !m.IsOrgWideAdmin() {
			continue
		}
		o, _, err := s.Store.Actor(ctx, m.OrgID, a.UserID)
		if err != nil {
			return fmt.Errorf("load organisation %s: %w", m.OrgID, err)
		}
		if o.OrgWideAdmins <= 1 {
			return lastAdmin(m.OrgID, o.Name)
		}
	}
	pseudonym, err := s.Store.Pseudonym(ctx, a.UserID)
	if err != nil {
		return err
	}
	if actorID == "" {
		actorID = pseudonym
	}
	now := s.Now()
	var orgs []string
	var erased []invite.Invitation
	// pass erases what it finds; changed reports an invitation that changed
	// as it was read (accepted meanwhile: a new membership), which the next
	// pass takes.
	pass := func() (changed bool, err error) {
		ms, err := s.Store.Memberships(ctx, a.UserID)
		if err != nil {
			return false, fmt.Errorf("memberships of %s: %w", a.UserID, err)
		}
		for _, m := range ms {
			e := audit.New(m.OrgID, actorID, audit.MemberErased, "member", pseudonym, now).
				Changed(map[string]any{"role": m.Role, "units": m.Units}, nil)
			if err := s.Store.EraseMembership(ctx, m, e); err != nil {
				if fault.CodeOf(err) == fault.Conflict && m.IsOrgWideAdmin() {
					return false, lastAdmin(m.OrgID, m.OrgName)
				}
				return false, err
			}
			orgs = appendNew(orgs, m.OrgID)
		}
		invs, err := s.Store.InvitationsTo(ctx, a.Email)
		if err != nil {
			return false, fmt.Errorf("invitations to %s: %w", a.UserID, err)
		}
		for _, inv := range invs {
			var e *audit.Entry
			if inv.Status == invite.Pending {
				by := actorID
				if actorOrg != "" && inv.OrgID != actorOrg {
					by = audit.System
				}
				r := audit.New(inv.OrgID, by, audit.InvitationRevoked, "invitation", pseudonym, now).
					Changed(map[string]any{"status": invite.Pending}, map[string]any{"status": invite.Revoked})
				e = &r
			}
			err := s.Store.EraseInvitation(ctx, inv, e)
			if fault.CodeOf(err) == fault.Conflict {
				changed = true
				continue
			}
			if err != nil {
				return false, err
			}
			orgs = appendNew(orgs, inv.OrgID)
			erased = append(erased, inv)
		}
		return changed, nil
	}
	// passes runs passes until one finds nothing changed meanwhile.
	passes := func() error {
		for range 3 {
			changed, err := pass()
			if err != nil || !changed {
				return err
			}
		}
		return fault.New(fault.Conflict, "the person's invitations keep changing; try again")
	}
	if err := passes(); err != nil {
		return err
	}
	// An expired invitation waits in its admin's digest (with the address
	// and names) until the admin is emailed.
	for _, orgID := range orgs {
		addresses := []string{a.Email}
		for _, inv := range erased {
			if inv.OrgID == orgID {
				addresses = appendNew(addresses, inv.Email) // an earlier address of the person's
			}
		}
		for _, email := range addresses {
			if err := s.Store.EraseDigestEntries(ctx, orgID, email); err != nil {
				return err
			}
		}
	}
	if s.Sessions != nil {
		if err := s.Sessions.RevokeSessions(ctx, a.UserID, ""); err != nil {
			return fmt.Errorf("revoke sessions of %s: %w", a.UserID, err)
		}
	}
	pseudonymise := func(orgIDs []string) error {
		p := about(a, erased, pseudonym)
		for _, orgID := range orgIDs {
			if err := s.Store.PseudonymiseAudit(ctx, orgID, p); err != nil {
				return err
			}
		}
		return nil
	}
	if err := pseudonymise(orgs); err != nil {
		return err
	}
	if err := s.Store.EraseAccount(ctx, a, orgs); err != nil {
		return err
	}
	// Once more now the account is gone: a sign-in that checked the password
	// before, stored its session after the first revoke and re-read the
	// account before its deletion left a session this finds.
	if s.Sessions != nil {
		if err := s.Sessions.RevokeSessions(ctx, a.UserID, ""); err != nil {
			return fmt.Errorf("revoke sessions of %s again: %w", a.UserID, err)
		}
	}
	done := len(orgs)
	if err := passes(); err != nil {
		return err
	}
	return pseudonymise(orgs[done:])
}

func lastAdmin(orgID, name string) error {
	return fault.New(fault.Conflict, "the organisation %q (%s) would be left without an organisation-wide admin; make someone else one first", name, orgID)
}

// about is the pseudonymisation of a: what names them, in audit entries.
func about(a account.Account, invs []invite.Invitation, pseudonym string) audit.Pseudonymisation {
	p := audit.Pseudonymisation{Pseudonym: pseudonym, IDs: []string{a.UserID},
		Identifying: []string{a.Email, a.Phone}, Names: []string{a.FirstName, a.LastName, a.FirstName + " " + a.LastName}}
	for _, inv := range invs {
		p.IDs = append(p.IDs, inv.ID)
		p.Names = append(p.Names, inv.FirstName, inv.LastName)
		// inv.Email: the address it was sent to, an earlier one of the
		// person's after an email change.
		p.Identifying = append(p.Identifying, inv.Phone, inv.Email)
	}
	return p
}

func orgsOf(ms []org.Member, invs []invite.Invitation) []string {
	var out []string
	for _, m := range ms {
		out = appendNew(out, m.OrgID)
	}
	for _, inv := range invs {
		out = appendNew(out, inv.OrgID)
	}
	return out
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

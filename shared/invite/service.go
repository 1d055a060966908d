package invite

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"onboarding/shared/access"
	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/monitor"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// Store is what the invitation lifecycle needs of storage. Every method that
// changes state does so atomically and conditionally; the store returns
// fault errors for the outcomes a caller must see (Conflict, NotFound).
type Store interface {
	// InviteContext loads, in as few reads as it can, what deciding on an
	// invitation needs.
	InviteContext(ctx context.Context, orgID, actorID, email string) (InviteContext, error)
	// CreateOrganisation stores a new organisation.
	CreateOrganisation(ctx context.Context, o org.Organisation) error
	// CreateInvitation stores a pending invitation, its token hash and the
	// one-pending-invitation-per-email guard. When a pending invitation for
	// the email exists it returns a Conflict carrying "invitationId".
	CreateInvitation(ctx context.Context, inv Invitation, e audit.Entry) error
	// CreateInvitations stores many pending invitations as CreateInvitation
	// does, in as few requests as it can, and returns one error (or nil)
	// per invitation: one that cannot be stored never holds up the others.
	CreateInvitations(ctx context.Context, invs []Invitation, entries []audit.Entry) []error
	// RecordDelivery stores inv's delivery state (status, attempts, the next
	// try) if inv is still in the status and under the token it was sent
	// with; else Conflict.
	RecordDelivery(ctx context.Context, inv Invitation) error
	// InvitationByToken finds the invitation whose live token hashes to
	// tokenHash, or returns NotFound.
	InvitationByToken(ctx context.Context, tokenHash string) (Invitation, error)
	// AccountByEmail returns the account with this email, or nil.
	AccountByEmail(ctx context.Context, email string) (*account.Account, error)
	// Accept marks the invitation accepted, creates the account when
	// NewAccount is set, and adds the membership, all or nothing. It returns
	// Conflict when the invitation is no longer pending under this token or
	// the account or membership exists already.
	Accept(ctx context.Context, a Acceptance) error

	// Actor loads an organisation and a person's membership (nil if none).
	Actor(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error)
	// Invitation reads one invitation, or returns NotFound.
	Invitation(ctx context.Context, orgID, invitationID string) (Invitation, error)
	// ListInvitations returns a page of invitations, newest first, with the
	// cursor of the next page ("" on the last).
	ListInvitations(ctx context.Context, orgID string, status Status, limit int, cursor string, now time.Time) ([]Invitation, string, error)
	// SearchInvitations is ListInvitations of those whose email, first or
	// last name, folded (search.Fold), starts with q, in the order of the
	// term that matched.
	SearchInvitations(ctx context.Context, orgID, q string, status Status, limit int, cursor string, now time.Time) ([]Invitation, string, error)
	// Resend stores renewed (new token hash and expiry) if old is still
	// pending under its token; else Conflict.
	Resend(ctx context.Context, old, renewed Invitation, e audit.Entry) error
	// Revoke ends a pending invitation, keeping it until expireAt.
	Revoke(ctx context.Context, inv Invitation, at, expireAt time.Time, e audit.Entry) error
	// DeleteInvitation removes a revoked or expired invitation.
	DeleteInvitation(ctx context.Context, inv Invitation, e audit.Entry) error
	// AddMember records inv (already accepted) and adds m, all or nothing;
	// Conflict when m is a member already.
	AddMember(ctx context.Context, inv Invitation, m org.Member, e audit.Entry) error
	// Account returns the account with this id, or nil.
	Account(ctx context.Context, userID string) (*account.Account, error)

	// LeaveToken returns what the leave token that hashes to hash opens, or
	// NotFound.
	LeaveToken(ctx context.Context, hash string) (LeaveToken, error)
	// Leave ends m's membership as an admin's removal does and deletes the
	// leave token, all or nothing: only while the token is stored and
	// unexpired at `at` (else NotFound) and m is still as read (else
	// Conflict); the organisation's last org-wide admin is a Conflict.
	Leave(ctx context.Context, hash string, t LeaveToken, m org.Member, at time.Time, e audit.Entry) error
}

// InviteContext is what an invite decision reads.
type InviteContext struct {
	Org org.Organisation
	// Actor is the inviter's membership, nil when the inviter is no member.
	Actor *org.Member
	// ExistingUserID is the account that has the invitee's email, if any.
	ExistingUserID string
	// AlreadyMember is set when that account is a member of Org.
	AlreadyMember bool
}

// Acceptance is the all-or-nothing change made when an invitation is accepted.
type Acceptance struct {
	Invitation Invitation
	Account    account.Account
	NewAccount bool
	Member     org.Member
	At         time.Time
	Audit      audit.Entry
}

// Mailer sends the invitation email.
type Mailer interface {
	SendInvitation(ctx context.Context, inv Invitation, link string) error
	// SendAdded tells someone who already has an account that they were
	// added to an organisation; link leads to the product, leaveLink takes
	// them out again.
	SendAdded(ctx context.Context, inv Invitation, language, link, leaveLink string) error
}

// Service runs the invitation lifecycle.
type Service struct {
	Store  Store
	Mailer Mailer
	Hasher account.Hasher
	// Phones parses phone numbers; only functions that invite need it, which
	// keeps the phone metadata out of the others' binaries.
	Phones monitor.PhoneParser
	// AcceptURL is the hosted acceptance page; the token goes in its fragment.
	AcceptURL string
	// TermsVersion, when set, is the only terms version accept takes.
	TermsVersion string
	// LifetimeDays is the deployment's default invitation lifetime for new
	// organisations.
	LifetimeDays int
	// RetentionDays is how long revoked invitations are kept (default 90).
	RetentionDays int
	// Quotas enforces the organisation's rate limits (nil: none).
	Quotas Quotas
	// Guesses throttles accepting with an existing account's password, as
	// sign-in is throttled (nil: none; the public function sets it).
	Guesses Guesses
	Now     func() time.Time
}

// Request is what an admin asks for when inviting.
type Request struct {
	Email      string         `json:"email"`
	FirstName  string         `json:"firstName"`
	LastName   string         `json:"lastName"`
	Salutation string         `json:"salutation"`
	Phone      string         `json:"phone"`
	Language   string         `json:"language"`
	Role       string         `json:"role"`
	Units      []string       `json:"units"`
	Attributes org.Attributes `json:"attributes"`
	Message    string         `json:"message"`
}

// Limits on free-form input.
const (
	maxNameLen       = 100
	maxSalutationLen = 30
	maxMessageLen    = 1000
	maxUnits         = 50
	maxIDLen         = 64
)

// Invite creates a pending invitation on behalf of actorID and emails it.
func (s *Service) Invite(ctx context.Context, actorID, orgID string, req Request) (Invitation, error) {
	email, emailErr := clean.Email(req.Email)
	ic, err := s.Store.InviteContext(ctx, orgID, actorID, email)
	if err != nil {
		return Invitation{}, fmt.Errorf("load invite context for org %s: %w", orgID, err)
	}
	if ic.Actor == nil {
		return Invitation{}, fault.New(fault.Forbidden, "you are not a member of this organisation")
	}
	actor := access.Actor{UserID: ic.Actor.UserID, OrgID: orgID, Role: ic.Actor.Role, Units: ic.Actor.Units}
	name := strings.TrimSpace(ic.Actor.FirstName + " " + ic.Actor.LastName)
	return s.inviteAs(ctx, ic, actor, name, req, email, emailErr, nil, false)
}

// InviteFromRoster invites someone from a roster import with their
// monitoring profile: as the uploader (whose role and units must allow it),
// or, for a file an operator dropped into the bucket (uploaderID ""), as
// the organisation itself. The organisation's hourly invitation limit does
// not apply: an import is bounded by its file, and its email is paced.
func (s *Service) InviteFromRoster(ctx context.Context, uploaderID, orgID string, req Request, profile *monitor.Profile) (Invitation, error) {
	email, emailErr := clean.Email(req.Email)
	ic, err := s.Store.InviteContext(ctx, orgID, uploaderID, email)
	if err != nil {
		return Invitation{}, fmt.Errorf("load invite context for org %s: %w", orgID, err)
	}
	actor, name := access.Actor{UserID: audit.System, OrgID: orgID, Role: access.Owner}, ""
	if uploaderID != "" {
		if ic.Actor == nil {
			return Invitation{}, fault.New(fault.Forbidden, "the uploader is no longer a member of this organisation")
		}
		actor = access.Actor{UserID: ic.Actor.UserID, OrgID: orgID, Role: ic.Actor.Role, Units: ic.Actor.Units}
		name = strings.TrimSpace(ic.Actor.FirstName + " " + ic.Actor.LastName)
	}
	return s.inviteAs(ctx, ic, actor, name, req, email, emailErr, profile, true)
}

// RosterEntry is a new person a roster brings, with their monitoring
// profile (nil for someone who is not monitored).
type RosterEntry struct {
	Request Request
	Profile *monitor.Profile
}

// InviteNewFromRoster invites, as InviteFromRoster does, people a roster
// brings who have neither an account nor a pending invitation in the
// organisation (as the caller has just read), many to a write. It returns an
// invitation or an error for each entry, in order; a Conflict error means the
// person has a pending invitation after all. The error returned last is for
// the whole call (the uploader gone, the organisation unreadable).
func (s *Service) InviteNewFromRoster(ctx context.Context, uploaderID, orgID string, entries []RosterEntry) ([]Invitation, []error, error) {
	ic, err := s.Store.InviteContext(ctx, orgID, uploaderID, "")
	if err != nil {
		return nil, nil, fmt.Errorf("load invite context for org %s: %w", orgID, err)
	}
	actor, name := access.Actor{UserID: audit.System, OrgID: orgID, Role: access.Owner}, ""
	if uploaderID != "" {
		if ic.Actor == nil {
			return nil, nil, fault.New(fault.Forbidden, "the uploader is no longer a member of this organisation")
		}
		actor = access.Actor{UserID: ic.Actor.UserID, OrgID: orgID, Role: ic.Actor.Role, Units: ic.Actor.Units}
		name = strings.TrimSpace(ic.Actor.FirstName + " " + ic.Actor.LastName)
	}
	invs := make([]Invitation, len(entries))
	errs := make([]error, len(entries))
	var ready []int
	var batch []Invitation
	var audits []audit.Entry
	for i, en := range entries {
		email, emailErr := clean.Email(en.Request.Email)
		inv, err := s.validate(ic.Org, en.Request, email, emailErr)
		if err == nil {
			err = ic.Org.Roles.CheckInvite(actor, inv.Role, inv.Units)
		}
		if err != nil {
			errs[i] = err
			continue
		}
		inv.InvitedBy, inv.InviterName, inv.Profile = actor.UserID, name, en.Profile
		// The token is never sent: the sweep sends one of its own with the
		// queued email.
		_, hash, err := opaque.New()
		if err != nil {
			return nil, nil, err
		}
		inv = s.pending(ic.Org, inv, hash, true)
		invs[i] = inv
		ready = append(ready, i)
		batch = append(batch, inv)
		audits = append(audits, createdEntry(inv))
	}
	for j, err := range s.Store.CreateInvitations(ctx, batch, audits) {
		if err != nil {
			errs[ready[j]] = fmt.Errorf("create invitation: %w", err)
		}
	}
	return invs, errs, nil
}

// inviteAs validates and creates an invitation (or adds an existing
// account, when the organisation's setting says so) on behalf of actor. A roster's email is queued (bulk: the sweep
// sends it at the mail service's pace) and skips the API's hourly quota; an
// API call's goes out at once.
func (s *Service) inviteAs(ctx context.Context, ic InviteContext, actor access.Actor, inviterName string, req Request,
	email string, emailErr error, profile *monitor.Profile, roster bool) (Invitation, error) {
	inv, err := s.validate(ic.Org, req, email, emailErr)
	if err != nil {
		return Invitation{}, err
	}
	if err := ic.Org.Roles.CheckInvite(actor, inv.Role, inv.Units); err != nil {
		return Invitation{}, err
	}
	if ic.AlreadyMember {
		return Invitation{}, fault.New(fault.Conflict, "this person is already a member of the organisation")
	}
	inv.InvitedBy = actor.UserID
	inv.InviterName = inviterName
	inv.Profile = profile
	release := func() {}
	if !roster {
		if release, err = s.take(ctx, sendQuotas(ic.Org, inv.Email, true)); err != nil {
			return Invitation{}, err
		}
	}
	if ic.ExistingUserID != "" && ic.Org.Settings.AddsExistingAccounts() {
		inv, err = s.addExisting(ctx, inv, ic.ExistingUserID, roster)
	} else {
		inv, err = s.create(ctx, ic.Org, inv, roster)
	}
	if err != nil {
		release()
	}
	return inv, err
}

// addExisting adds a person who already has an account at once (there is
// nothing for them to accept) and tells them by email in their language,
// with a link to leave again. The membership holds only what the inviter
// gave: the account's names and phone came from wherever it was made, and
// are not this organisation's to see.
func (s *Service) addExisting(ctx context.Context, inv Invitation, userID string, queue bool) (Invitation, error) {
	acct, err := s.Store.Account(ctx, userID)
	if err != nil || acct == nil {
		return Invitation{}, fmt.Errorf("load account %s: %w", userID, err)
	}
	now := s.Now().UTC().Truncate(time.Second)
	inv.ID = NewSortableID(s.Now())
	inv.Status = Accepted
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = now, now, &now
	inv.UserID = userID
	inv.DeliveryStatus = DeliveryQueued
	var leaveToken string
	if queue {
		// The sweep makes the leave token when it sends the email.
		inv.RetryMail, inv.NextDeliveryAt = MailAdded, &now
	} else if leaveToken, err = inv.newLeaveToken(now); err != nil {
		return Invitation{}, err
	}
	m := org.Member{
		UserID: userID, OrgID: inv.OrgID, OrgName: inv.OrgName, Email: inv.Email,
		FirstName: inv.FirstName, LastName: inv.LastName, Phone: inv.Phone,
		Role: inv.Role, Units: inv.Units, JoinedAt: now, InvitationID: inv.ID,
	}
	e := audit.New(inv.OrgID, inv.InvitedBy, audit.MemberAdded, "member", userID, now).
		Changed(nil, map[string]any{"role": inv.Role, "units": inv.Units, "invitationId": inv.ID})
	if err := s.Store.AddMember(ctx, inv, m, e); err != nil {
		return Invitation{}, err
	}
	if queue {
		return inv, nil // the sweep sends the notice
	}
	inv.DeliveryAttempts = 1
	err = s.Mailer.SendAdded(ctx, inv, acct.Language, s.appURL(ctx), LeaveLink(s.appURL(ctx), leaveToken))
	inv.recordSend(MailAdded, err, s.Now().UTC().Truncate(time.Second))
	return inv, s.record(ctx, inv)
}

// validate turns a request into an invitation for o, or lists what is wrong.
func (s *Service) validate(o org.Organisation, req Request, email string, emailErr error) (Invitation, error) {
	var errs fault.Fields
	field := func(name string, err error) {
		if e, ok := fault.As(err); ok {
			errs.Add(name, string(e.Code), e.Message)
		}
	}
	field("email", emailErr)
	inv := Invitation{OrgID: o.ID, OrgName: o.Name, Email: email, Attributes: org.Attributes{}, Units: []string{},
		Templates: o.Settings.EmailTemplates}
	var err error
	inv.FirstName, err = clean.Name(req.FirstName, maxNameLen, false)
	field("firstName", err)
	inv.LastName, err = clean.Name(req.LastName, maxNameLen, false)
	field("lastName", err)
	inv.Salutation, err = clean.Name(req.Salutation, maxSalutationLen, false)
	field("salutation", err)
	inv.Message, err = clean.Message(req.Message, maxMessageLen)
	field("message", err)

	if p := strings.TrimSpace(req.Phone); p != "" {
		if s.Phones == nil {
			errs.Add("phone", string(fault.Invalid), "phone numbers are not accepted here")
		} else if inv.Phone, err = s.Phones(p, o.Settings.DefaultPhoneRegion); err != nil {
			errs.Add("phone", string(fault.Invalid), "not a valid phone number")
		}
	}

	inv.Language = o.Settings.DefaultLanguage
	if strings.TrimSpace(req.Language) != "" {
		inv.Language, err = org.NormalizeLanguage(req.Language)
		field("language", err)
	}

	// A role is named by its key or any of its display names; the key is
	// stored.
	if strings.TrimSpace(req.Role) == "" {
		errs.Add("role", string(fault.Invalid), "required")
	} else if key, ok := o.Roles.Resolve(req.Role); ok {
		inv.Role = key
	} else {
		errs.Add("role", string(fault.Invalid), "no such role in this organisation")
	}

	if len(req.Units) > maxUnits {
		errs.Add("units", string(fault.Invalid), fmt.Sprintf("at most %d units", maxUnits))
	}
	seen := map[string]bool{}
	for i, u := range req.Units {
		u = strings.TrimSpace(u)
		if u == "" || len(u) > maxIDLen || !utf8.ValidString(u) {
			errs.Add(fmt.Sprintf("units[%d]", i), string(fault.Invalid), "not a unit id")
			continue
		}
		if !seen[u] {
			seen[u] = true
			inv.Units = append(inv.Units, u)
		}
	}

	inv.Attributes = o.Settings.CheckAttributes(req.Attributes, &errs)
	return inv, errs.Err()
}

// create stores a pending invitation for o and sends its email. A failed send
// leaves the invitation pending with deliveryStatus "failed" (the sweep
// retries it), so nothing is lost.
func (s *Service) create(ctx context.Context, o org.Organisation, inv Invitation, queue bool) (Invitation, error) {
	token, hash, err := opaque.New()
	if err != nil {
		return Invitation{}, err
	}
	inv = s.pending(o, inv, hash, queue)
	if err := s.Store.CreateInvitation(ctx, inv, createdEntry(inv)); err != nil {
		return Invitation{}, fmt.Errorf("create invitation: %w", err)
	}
	if queue {
		return inv, nil
	}
	return s.deliver(ctx, inv, token)
}

// pending makes inv a new pending invitation of o under the token that
// hashes to tokenHash.
func (s *Service) pending(o org.Organisation, inv Invitation, tokenHash string, queue bool) Invitation {
	now := s.Now().UTC().Truncate(time.Second)
	inv.ID = NewSortableID(s.Now()) // full precision: ids sort by creation
	inv.Status = Pending
	inv.DeliveryStatus = DeliveryQueued
	inv.CreatedAt = now
	inv.ExpiresAt = now.Add(o.Lifetime())
	inv.RemindAt = remindAt(o, inv.ExpiresAt, now)
	inv.TokenHash = tokenHash
	if queue {
		// Due at once: the sweep sends it (with a token of its own) at the
		// mail service's pace.
		inv.RetryMail, inv.NextDeliveryAt = MailInvitation, &now
	}
	return inv
}

func createdEntry(inv Invitation) audit.Entry {
	return audit.New(inv.OrgID, inv.InvitedBy, audit.InvitationCreated, "invitation", inv.ID, inv.CreatedAt).
		Changed(nil, map[string]any{"email": inv.Email, "role": inv.Role, "units": inv.Units, "expiresAt": inv.ExpiresAt})
}

type acceptURLKey struct{}

// WithAcceptURL carries the acceptance page of the API a request came to
// (its domain, as API Gateway received it: never a Host header). A
// service with no AcceptURL configured (no PUBLIC_BASE_URL) links there.
func WithAcceptURL(ctx context.Context, url string) context.Context {
	return context.WithValue(ctx, acceptURLKey{}, url)
}

// acceptURL is the configured acceptance page, or the request's.
func (s *Service) acceptURL(ctx context.Context) string {
	if s.AcceptURL != "" {
		return s.AcceptURL
	}
	url, _ := ctx.Value(acceptURLKey{}).(string)
	return url
}

// appURL is the product's address, where members sign in: the public base
// URL that also hosts the acceptance page.
func (s *Service) appURL(ctx context.Context) string {
	return strings.TrimSuffix(s.acceptURL(ctx), "/accept")
}

// link is the acceptance link for a token. The token sits in the fragment,
// which browsers never send to a server, so link scanners that fetch the page
// neither see nor consume it.
func (s *Service) link(ctx context.Context, token string) string {
	return s.acceptURL(ctx) + "#token=" + token
}

package invite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// Preview is what the invitee sees before accepting.
type Preview struct {
	OrgID         string    `json:"orgId"`
	OrgName       string    `json:"orgName"`
	InviterName   string    `json:"inviterName"`
	Email         string    `json:"email"`
	FirstName     string    `json:"firstName"`
	LastName      string    `json:"lastName"`
	Salutation    string    `json:"salutation"`
	Phone         string    `json:"phone"`
	Role          string    `json:"role"`
	Language      string    `json:"language"`
	ExpiresAt     time.Time `json:"expiresAt"`
	AccountExists bool      `json:"accountExists"`
	// TermsVersion is the version accept requires ("" when any is taken):
	// the organisation's own when it has terms, else the deployment's.
	TermsVersion string `json:"termsVersion"`
	// TermsURL is the organisation's terms ("" when it has none of its own).
	TermsURL string `json:"termsUrl"`
}

var errUnknownToken = fault.New(fault.NotFound, "this invitation link is not valid; ask for a new invitation")

// usable finds the pending invitation a token opens, or says why it is not
// usable: an unknown, replaced or revoked token is NotFound (they look the
// same from outside), an accepted one Conflict, an expired one Gone. Expiry is
// checked here, at use, whether or not a sweep has run.
func (s *Service) usable(ctx context.Context, token string) (Invitation, error) {
	if !opaque.Valid(token) {
		return Invitation{}, errUnknownToken
	}
	hash := opaque.Hash(token)
	inv, err := s.Store.InvitationByToken(ctx, hash)
	if fault.CodeOf(err) == fault.NotFound {
		return Invitation{}, errUnknownToken
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("find invitation by token: %w", err)
	}
	if !inv.Opens(hash) {
		return Invitation{}, errUnknownToken
	}
	switch inv.StatusAt(s.Now()) {
	case Pending:
		return inv, nil
	case Accepted:
		return Invitation{}, fault.New(fault.Conflict, "this invitation has already been accepted; sign in instead")
	case Expired:
		return Invitation{}, fault.New(fault.Gone, "this invitation has expired; ask for a new one")
	default:
		return Invitation{}, errUnknownToken
	}
}

// Preview shows the invitation a token opens without consuming it.
func (s *Service) Preview(ctx context.Context, token string) (Preview, error) {
	inv, err := s.usable(ctx, token)
	if err != nil {
		return Preview{}, err
	}
	acct, err := s.Store.AccountByEmail(ctx, inv.Email)
	if err != nil {
		return Preview{}, fmt.Errorf("find account: %w", err)
	}
	terms, err := s.terms(ctx, inv.OrgID)
	if err != nil {
		return Preview{}, err
	}
	return Preview{
		OrgID: inv.OrgID, OrgName: inv.OrgName, InviterName: inv.InviterName,
		Email: inv.Email, FirstName: inv.FirstName, LastName: inv.LastName,
		Salutation: inv.Salutation, Phone: inv.Phone, Role: inv.Role,
		Language: inv.Language, ExpiresAt: inv.ExpiresAt, AccountExists: acct != nil,
		TermsVersion: terms.version, TermsURL: terms.url,
	}, nil
}

// terms are the terms an invitee of an organisation accepts.
type terms struct {
	url, version string
	// own is set when they are the organisation's (recorded on the
	// membership), not the deployment's.
	own bool
}

// terms returns the organisation's terms when it has its own, else the
// deployment's (no URL; "" when any version is taken).
func (s *Service) terms(ctx context.Context, orgID string) (terms, error) {
	o, _, err := s.Store.Actor(ctx, orgID, "")
	if err != nil {
		return terms{}, fmt.Errorf("load organisation %s: %w", orgID, err)
	}
	if v := o.Settings.TermsVersion; v != "" {
		return terms{url: o.Settings.TermsURL, version: v, own: true}, nil
	}
	return terms{version: s.TermsVersion}, nil
}

// AcceptRequest is what the invitee sends to accept.
type AcceptRequest struct {
	Token        string `json:"token"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Password     string `json:"password"`
	AcceptTerms  bool   `json:"acceptTerms"`
	TermsVersion string `json:"termsVersion"`
	// Source is the caller's IP (set by the HTTP layer, never by the body):
	// checking an existing account's password is throttled like sign-in.
	Source string `json:"-"`
}

// Joined is the result of accepting.
type Joined struct {
	UserID string `json:"userId"`
	OrgID  string `json:"orgId"`
	Role   string `json:"role"`
}

// Accept consumes a token: it creates the account (or, when the email has an
// account already, signs in: checks that account's password, which stays as
// it is), adds the membership and marks the invitation accepted, in one
// transaction. A token works once.
func (s *Service) Accept(ctx context.Context, req AcceptRequest) (Joined, error) {
	inv, err := s.usable(ctx, req.Token)
	if err != nil {
		return Joined{}, err
	}
	existing, err := s.Store.AccountByEmail(ctx, inv.Email)
	if err != nil {
		return Joined{}, fmt.Errorf("find account: %w", err)
	}
	terms, err := s.terms(ctx, inv.OrgID)
	if err != nil {
		return Joined{}, err
	}

	var errs fault.Fields
	first, err := clean.Name(req.FirstName, maxNameLen, true)
	if e, ok := fault.As(err); ok {
		errs.Add("firstName", string(e.Code), e.Message)
	}
	last, err := clean.Name(req.LastName, maxNameLen, true)
	if e, ok := fault.As(err); ok {
		errs.Add("lastName", string(e.Code), e.Message)
	}
	switch {
	case existing == nil:
		if e, ok := fault.As(account.CheckPassword(req.Password, inv.Email)); ok {
			errs.Add("password", string(e.Code), e.Message)
		}
	case req.Password == "":
		// Signing in, not choosing a password: an empty one is no guess.
		errs.Add("password", "required", "an account with this email exists; sign in with its password")
	}
	if !req.AcceptTerms {
		errs.Add("acceptTerms", "required", "the terms must be accepted")
	}
	version := strings.TrimSpace(req.TermsVersion)
	switch {
	case version == "":
		errs.Add("termsVersion", "required", "required")
	case terms.version != "" && version != terms.version:
		errs.Add("termsVersion", "stale", "these terms have been replaced; reload the page")
	}
	if err := errs.Err(); err != nil {
		return Joined{}, err
	}

	now := s.Now().UTC().Truncate(time.Second)
	a := Acceptance{Invitation: inv, At: now}
	if existing != nil {
		succeeded := func(context.Context) error { return nil }
		if s.Guesses != nil {
			if succeeded, err = s.Guesses.Reserve(ctx, inv.Email, req.Source); err != nil {
				return Joined{}, err
			}
		}
		ok, err := s.Hasher.Verify(existing.PasswordHash, req.Password)
		if err != nil {
			return Joined{}, fmt.Errorf("verify password: %w", err)
		}
		if !ok {
			return Joined{}, fault.New(fault.Unauthorized, "an account with this email exists; enter its password")
		}
		if err := succeeded(ctx); err != nil {
			return Joined{}, err
		}
		a.Account = *existing
	} else {
		hash, err := s.Hasher.Hash(req.Password)
		if err != nil {
			return Joined{}, fmt.Errorf("hash password: %w", err)
		}
		a.NewAccount = true
		a.Account = account.Account{
			UserID: NewID(), Email: inv.Email, FirstName: first, LastName: last,
			Phone: inv.Phone, Language: inv.Language, PasswordHash: hash,
			TermsVersion: version, TermsAcceptedAt: now, CreatedAt: now,
		}
	}
	a.Member = org.Member{
		UserID: a.Account.UserID, OrgID: inv.OrgID, OrgName: inv.OrgName, Email: inv.Email,
		FirstName: first, LastName: last, Phone: inv.Phone,
		Role: inv.Role, Units: inv.Units, JoinedAt: now, InvitationID: inv.ID,
	}
	after := map[string]any{"status": Accepted, "userId": a.Account.UserID, "role": inv.Role, "units": inv.Units}
	if terms.own {
		// Per organisation: accepting here is no consent to another's terms.
		a.Member.TermsVersion, a.Member.TermsAcceptedAt = version, &now
		after["termsVersion"] = version
	}
	a.Audit = audit.New(inv.OrgID, a.Account.UserID, audit.InvitationAccepted, "invitation", inv.ID, now).
		Changed(map[string]any{"status": Pending}, after)
	if err := s.Store.Accept(ctx, a); err != nil {
		if fault.CodeOf(err) == fault.Conflict {
			// Used meanwhile, or changed (an admin edited it as it was
			// accepted): only the first is final.
			if _, again := s.usable(ctx, req.Token); again == nil {
				return Joined{}, fault.New(fault.Conflict, "this invitation changed while you accepted it; try again")
			}
			return Joined{}, fault.New(fault.Conflict, "this invitation has already been used")
		}
		return Joined{}, fmt.Errorf("accept invitation %s: %w", inv.ID, err)
	}
	return Joined{UserID: a.Account.UserID, OrgID: inv.OrgID, Role: inv.Role}, nil
}

// Package selfservice is what a signed-in person does to their own account:
// change their name, phone and language, their password and their email
// address, and leave an organisation. Every call acts on the caller's own
// account only: the user id comes from the access token, never the body.
package selfservice

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/org"
	"onboarding/shared/quota"
)

// Store is what self-service needs of storage.
type Store interface {
	Account(ctx context.Context, userID string) (*account.Account, error)
	AccountByEmail(ctx context.Context, email string) (*account.Account, error)
	Memberships(ctx context.Context, userID string) ([]org.Member, error)
	Actor(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error)
	// Organisations reads the organisations of ids in one go (by id; an
	// unknown one is left out).
	Organisations(ctx context.Context, ids []string) (map[string]org.Organisation, error)
	// UpdateProfile writes the account's names, phone and language, and
	// the copies of names and phone each membership of ms keeps.
	UpdateProfile(ctx context.Context, a account.Account, ms []org.Member) error
	// SetPasswordHash replaces the account's password hash if it is still
	// old (Conflict when it changed meanwhile).
	SetPasswordHash(ctx context.Context, userID, old, updated string) error
	// PutEmailChange stores a pending change under its token's hash.
	PutEmailChange(ctx context.Context, hash string, c EmailChange) error
	// EmailChange reads a pending change (NotFound when there is none).
	EmailChange(ctx context.Context, hash string) (EmailChange, error)
	// ChangeEmail moves the account and ms to c.NewEmail and uses the
	// token up, if it is unexpired at `at`, the account still has
	// c.OldEmail and the password hash passwordHash (else NotFound) and no
	// account has the new one (else Conflict).
	ChangeEmail(ctx context.Context, hash string, c EmailChange, passwordHash string, ms []org.Member, at time.Time) error
	// MoveInvitations makes the invitations sent to from found by to, as
	// export and erasure look for them (each keeps the address it was sent
	// to).
	MoveInvitations(ctx context.Context, from, to string) error
	// Take counts one use of q if fewer than limit were counted in the
	// window; else it returns how long until the window ends.
	Take(ctx context.Context, q quota.Name, limit int, window time.Duration, now time.Time) (time.Duration, error)
	// RemoveMember ends m's membership (never the last org-wide admin's).
	RemoveMember(ctx context.Context, m org.Member, e audit.Entry) error
	// RecordConsent stores version as the terms m accepted at `at`, while
	// m is a member (else NotFound) and version is still the
	// organisation's (else Conflict).
	RecordConsent(ctx context.Context, m org.Member, version string, at time.Time, e audit.Entry) error
}

// Mailer sends the emails of an email change.
type Mailer interface {
	// SendEmailChange sends the confirmation link to the new address.
	SendEmailChange(ctx context.Context, to, language, name, link string) error
	// SendEmailChangeNotice tells the old address a change was asked for.
	SendEmailChangeNotice(ctx context.Context, to, language, name, newEmail string) error
}

// Service serves a person's own account.
type Service struct {
	Store   Store
	Hasher  account.Hasher
	Guesses *account.Guesses
	// Sessions is optional until sessions exist: without it nothing is
	// revoked.
	Sessions account.SessionRevoker
	Mailer   Mailer
	// Phones normalises a phone number in a region (phone.Normalize).
	Phones    func(raw, region string) (string, error)
	Languages []string
	// AppURL is the public base the email-change link leads to; empty
	// links to the domain the request came to.
	AppURL string
	// Floor is the least time starting an email change takes past the
	// password's check (EmailChangeFloor; 0 in unit tests).
	Floor time.Duration
	Now   func() time.Time
}

const maxNameLen = 100

// ProfileChange is a PATCH /me body: absent fields stay as they are.
type ProfileChange struct {
	FirstName *string `json:"firstName"`
	LastName  *string `json:"lastName"`
	Phone     *string `json:"phone"`
	Language  *string `json:"language"`
}

var errGone = fault.New(fault.Unauthorized, "the account no longer exists")

func (s *Service) account(ctx context.Context, userID string) (*account.Account, error) {
	a, err := s.Store.Account(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", userID, err)
	}
	if a == nil {
		return nil, errGone
	}
	return a, nil
}

// UpdateProfile changes the caller's names, phone and language, validated
// as at acceptance; the memberships' copies change with them, so member
// lists and monitoring partners (through the stream) see the change.
func (s *Service) UpdateProfile(ctx context.Context, userID string, c ProfileChange) (account.Me, error) {
	a, err := s.account(ctx, userID)
	if err != nil {
		return account.Me{}, err
	}
	ms, err := s.Store.Memberships(ctx, userID)
	if err != nil {
		return account.Me{}, fmt.Errorf("load memberships of %s: %w", userID, err)
	}
	var errs fault.Fields
	name := func(field string, v *string, to *string) {
		if v == nil {
			return
		}
		n, err := clean.Name(*v, maxNameLen, true)
		if e, ok := fault.As(err); ok {
			errs.Add(field, string(e.Code), e.Message)
			return
		}
		*to = n
	}
	updated := *a
	name("firstName", c.FirstName, &updated.FirstName)
	name("lastName", c.LastName, &updated.LastName)
	if c.Phone != nil {
		if p := strings.TrimSpace(*c.Phone); p == "" {
			updated.Phone = ""
		} else {
			region, err := s.phoneRegion(ctx, ms)
			if err != nil {
				return account.Me{}, err
			}
			if updated.Phone, err = s.Phones(p, region); err != nil {
				errs.Add("phone", string(fault.Invalid), "not a phone number; use the international format, +47 ...")
			}
		}
	}
	if c.Language != nil {
		if !slices.Contains(s.Languages, *c.Language) {
			errs.Add("language", string(fault.Invalid), "one of "+strings.Join(s.Languages, ", "))
		} else {
			updated.Language = *c.Language
		}
	}
	if err := errs.Err(); err != nil {
		return account.Me{}, err
	}
	for i := range ms {
		ms[i].FirstName, ms[i].LastName, ms[i].Phone = updated.FirstName, updated.LastName, updated.Phone
	}
	if err := s.Store.UpdateProfile(ctx, updated, ms); err != nil {
		return account.Me{}, err
	}
	return account.Me{Account: updated, Memberships: ms}, nil
}

// organisations reads the organisations of ms, one request per 100.
func (s *Service) organisations(ctx context.Context, ms []org.Member) (map[string]org.Organisation, error) {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.OrgID
	}
	orgs, err := s.Store.Organisations(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load organisations: %w", err)
	}
	return orgs, nil
}

// phoneRegion is the region a national number is read in: the default of
// the caller's organisations when they agree on one, else none (then only
// international numbers are taken).
func (s *Service) phoneRegion(ctx context.Context, ms []org.Member) (string, error) {
	region := ""
	orgs, err := s.organisations(ctx, ms)
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		switch r := orgs[m.OrgID].Settings.DefaultPhoneRegion; {
		case r == "":
		case region == "":
			region = r
		case region != r:
			return "", nil
		}
	}
	return region, nil
}

// checkPassword checks the caller's current password under the sign-in
// throttle and budgets of their address, as sign-in and accept do.
func (s *Service) checkPassword(ctx context.Context, a *account.Account, password, source, field string) error {
	var g account.GuessReserver
	if s.Guesses != nil { // a nil *Guesses in an interface would not be nil
		g = s.Guesses
	}
	return account.CheckAgain(ctx, s.Hasher, g, a, password, source, field)
}

// PasswordChange is a POST /me/password body.
type PasswordChange struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// ChangePassword replaces the caller's password once the current one is
// given (throttled like sign-in), and ends their other sessions: whoever
// else knew the old password is signed out; the device used stays in.
func (s *Service) ChangePassword(ctx context.Context, userID, sessionID, source string, c PasswordChange) error {
	a, err := s.account(ctx, userID)
	if err != nil {
		return err
	}
	// The new password's policy first: a refusal there is no guess.
	if e, ok := fault.As(account.CheckPassword(c.NewPassword, a.Email)); ok {
		return &fault.Error{Code: fault.Invalid, Message: "the request has invalid fields",
			Fields: []fault.FieldError{{Field: "newPassword", Code: string(e.Code), Message: e.Message}}}
	}
	if err := s.checkPassword(ctx, a, c.CurrentPassword, source, "currentPassword"); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(c.NewPassword)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := s.Store.SetPasswordHash(ctx, userID, a.PasswordHash, hash); err != nil {
		return err
	}
	return s.revoke(ctx, userID, sessionID)
}

func (s *Service) revoke(ctx context.Context, userID, keep string) error {
	if s.Sessions == nil {
		return nil
	}
	if err := s.Sessions.RevokeSessions(ctx, userID, keep); err != nil {
		return fmt.Errorf("revoke sessions of %s: %w", userID, err)
	}
	return nil
}

// LeaveOrg ends the caller's membership of orgID, as an admin's removal
// does (audited with the person as the actor; partners told through the
// stream). The organisation's last org-wide admin cannot leave (Conflict).
func (s *Service) LeaveOrg(ctx context.Context, userID, orgID string) error {
	_, m, err := s.Store.Actor(ctx, orgID, userID)
	if err != nil {
		return fmt.Errorf("load membership in org %s: %w", orgID, err)
	}
	if m == nil {
		// The same answer whether the organisation exists or not.
		return fault.New(fault.NotFound, "you are not a member of this organisation")
	}
	now := s.Now().UTC().Truncate(time.Second)
	e := audit.New(orgID, userID, audit.MemberRemoved, "member", userID, now).
		Changed(map[string]any{"role": m.Role, "units": m.Units, "email": m.Email}, nil)
	return s.Store.RemoveMember(ctx, *m, e)
}

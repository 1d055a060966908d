package selfservice

import (
	"context"
	"fmt"
	"strings"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
)

// Me is the caller's account and memberships, each membership saying what
// its organisation's terms are and whether the caller's consent is due.
// The organisations are read in one request per 100 memberships.
func (s *Service) Me(ctx context.Context, userID string) (account.Me, error) {
	a, err := s.account(ctx, userID)
	if err != nil {
		return account.Me{}, err
	}
	ms, err := s.Store.Memberships(ctx, userID)
	if err != nil {
		return account.Me{}, fmt.Errorf("load memberships of %s: %w", userID, err)
	}
	orgs, err := s.organisations(ctx, ms)
	if err != nil {
		return account.Me{}, err
	}
	for i, m := range ms {
		ms[i].TermsStatus = m.Terms(orgs[m.OrgID])
	}
	return account.Me{Account: *a, Memberships: ms}, nil
}

// Consent is a POST /me/consent body.
type Consent struct {
	OrgID        string `json:"orgId"`
	TermsVersion string `json:"termsVersion"`
}

// ConsentToTerms records that the caller accepted the current version of
// an organisation's terms. Only the current version is taken: another is a
// Conflict naming the current one (the caller read an old page).
func (s *Service) ConsentToTerms(ctx context.Context, userID string, c Consent) error {
	var errs fault.Fields
	if strings.TrimSpace(c.OrgID) == "" {
		errs.Add("orgId", "required", "required")
	}
	version := strings.TrimSpace(c.TermsVersion)
	if version == "" {
		errs.Add("termsVersion", "required", "required")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	o, m, err := s.Store.Actor(ctx, c.OrgID, userID)
	if err != nil {
		return fmt.Errorf("load membership in org %s: %w", c.OrgID, err)
	}
	if m == nil {
		// The same answer whether the organisation exists or not.
		return fault.New(fault.NotFound, "you are not a member of this organisation")
	}
	current := o.Settings.TermsVersion
	if current == "" {
		return fault.New(fault.Conflict, "this organisation has no terms of its own to accept").With("currentTermsVersion", "")
	}
	if version != current {
		return fault.New(fault.Conflict, "these terms have been replaced by version %q; read and accept that one", current).
			With("currentTermsVersion", current)
	}
	now := s.Now().UTC().Truncate(time.Second)
	e := audit.New(c.OrgID, userID, audit.TermsAccepted, "member", userID, now).
		Changed(map[string]any{"termsVersion": m.TermsVersion}, map[string]any{"termsVersion": version})
	err = s.Store.RecordConsent(ctx, *m, version, now, e)
	if fault.CodeOf(err) == fault.Conflict {
		// The terms or the membership changed meanwhile: name the version
		// now current, as every consent conflict does.
		if o, _, rerr := s.Store.Actor(ctx, c.OrgID, userID); rerr == nil {
			if fe, ok := fault.As(err); ok {
				return fault.New(fault.Conflict, "%s", fe.Message).With("currentTermsVersion", o.Settings.TermsVersion)
			}
		}
	}
	return err
}

package invite

import (
	"context"
	"fmt"
	"time"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
)

// LeaveLifetime is how long the leave link of an "added" email works. The
// email tells people they were added without being asked; those who object
// do so within days. A link that worked for ever would let anyone who reads
// the mailbox later end the membership; after a month an admin removes them.
const LeaveLifetime = 30 * 24 * time.Hour

// LeaveToken is what the token of a leave link opens: the membership the
// "added" email told of, made by the invitation InvitationID.
type LeaveToken struct {
	OrgID        string    `dynamodbav:"orgId"`
	UserID       string    `dynamodbav:"userId"`
	InvitationID string    `dynamodbav:"invitationId"`
	ExpiresAt    time.Time `dynamodbav:"expiresAt"`
}

// Left is the organisation someone left.
type Left struct {
	OrgID   string `json:"orgId"`
	OrgName string `json:"orgName"`
}

// LeaveLink is the link that takes someone out of the organisation they
// were added to. As with the acceptance link, the token sits in the
// fragment, so link scanners that fetch the page neither see nor use it.
func LeaveLink(appURL, token string) string {
	return appURL + "/leave#token=" + token
}

// newLeaveToken gives inv (an existing account added at once) a new leave
// token, valid for LeaveLifetime from now, and returns it; only its hash is
// kept.
func (inv *Invitation) newLeaveToken(now time.Time) (string, error) {
	token, hash, err := opaque.New()
	if err != nil {
		return "", err
	}
	expires := now.Add(LeaveLifetime)
	inv.LeaveTokenHash, inv.LeaveExpiresAt = hash, &expires
	return token, nil
}

var errUnknownLeaveToken = fault.New(fault.NotFound, "this link is not valid (any more); ask an administrator of the organisation to remove you")

// Leave ends the membership a leave link's token opens, exactly as an
// admin's removal does (audited, with the person as the actor; partners
// told through the stream), and uses the token up. Unknown and used tokens,
// and those of a membership that has ended since, are NotFound; an expired
// one is Gone; the organisation's last org-wide admin cannot leave (Conflict,
// and the token stays).
func (s *Service) Leave(ctx context.Context, token string) (Left, error) {
	if !opaque.Valid(token) {
		return Left{}, errUnknownLeaveToken
	}
	hash := opaque.Hash(token)
	t, err := s.Store.LeaveToken(ctx, hash)
	if fault.CodeOf(err) == fault.NotFound {
		return Left{}, errUnknownLeaveToken
	}
	if err != nil {
		return Left{}, fmt.Errorf("find leave token: %w", err)
	}
	now := s.Now().UTC().Truncate(time.Second)
	if !now.Before(t.ExpiresAt) {
		return Left{}, fault.New(fault.Gone, "this link has expired; ask an administrator of the organisation to remove you")
	}
	o, m, err := s.Store.Actor(ctx, t.OrgID, t.UserID)
	if err != nil {
		return Left{}, fmt.Errorf("load membership in org %s: %w", t.OrgID, err)
	}
	if m == nil || m.InvitationID != t.InvitationID {
		return Left{}, errUnknownLeaveToken
	}
	e := audit.New(t.OrgID, t.UserID, audit.MemberRemoved, "member", t.UserID, now).
		Changed(map[string]any{"role": m.Role, "units": m.Units, "email": m.Email}, nil)
	if err := s.Store.Leave(ctx, hash, t, *m, now, e); err != nil {
		if fault.CodeOf(err) == fault.NotFound {
			return Left{}, errUnknownLeaveToken
		}
		return Left{}, err
	}
	return Left{OrgID: o.ID, OrgName: o.Name}, nil
}

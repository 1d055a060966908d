package account

import (
	"context"
	"fmt"

	"onboarding/shared/fault"
	"onboarding/shared/org"
)

// Directory reads accounts and their memberships.
type Directory interface {
	Account(ctx context.Context, userID string) (*Account, error)
	Memberships(ctx context.Context, userID string) ([]org.Member, error)
}

// Me is a signed-in person's own view of themselves.
type Me struct {
	Account
	Memberships []org.Member `json:"memberships"`
}

// LoadMe returns the account and its memberships.
func LoadMe(ctx context.Context, d Directory, userID string) (Me, error) {
	a, err := d.Account(ctx, userID)
	if err != nil {
		return Me{}, fmt.Errorf("load account %s: %w", userID, err)
	}
	if a == nil {
		// A valid token for an account that no longer exists.
		return Me{}, fault.New(fault.Unauthorized, "the account no longer exists")
	}
	ms, err := d.Memberships(ctx, userID)
	if err != nil {
		return Me{}, fmt.Errorf("load memberships of %s: %w", userID, err)
	}
	return Me{Account: *a, Memberships: ms}, nil
}

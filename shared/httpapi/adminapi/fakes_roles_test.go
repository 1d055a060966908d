package adminapi_test

import (
	"context"

	"onboarding/shared/org"
)

type roleTables struct{ *domain }

func (f roleTables) Roles(_ context.Context, userID, orgID string) (org.RoleTable, error) {
	f.record("Roles", userID, orgID)
	return org.RoleTable{}, f.err
}
func (f roleTables) PutRoles(_ context.Context, userID, orgID string, t org.RoleTable) (org.RoleTable, error) {
	f.record("PutRoles", userID, orgID, t)
	return t, f.err
}

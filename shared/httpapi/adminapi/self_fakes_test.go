package adminapi_test

import (
	"context"

	"onboarding/shared/account"
	"onboarding/shared/httpapi/adminapi"
	"onboarding/shared/org"
	"onboarding/shared/selfservice"
)

var _ adminapi.Self = (*selfservice.Service)(nil)

type self struct{ *domain }

func (f self) UpdateProfile(_ context.Context, userID string, c selfservice.ProfileChange) (account.Me, error) {
	f.record("UpdateProfile", userID, c)
	return account.Me{Account: account.Account{UserID: userID}}, f.err
}
func (f self) ChangePassword(_ context.Context, userID, sessionID, source string, c selfservice.PasswordChange) error {
	f.record("ChangePassword", userID, sessionID, source, c)
	return f.err
}
func (f self) StartEmailChange(_ context.Context, userID, source, appURL string, req selfservice.EmailChangeRequest) error {
	f.record("StartEmailChange", userID, source, appURL, req)
	return f.err
}
func (f self) LeaveOrg(_ context.Context, userID, orgID string) error {
	f.record("LeaveOrg", userID, orgID)
	return f.err
}

func (f self) Me(_ context.Context, userID string) (account.Me, error) {
	f.record("Me", userID)
	return account.Me{Account: account.Account{UserID: userID}, Memberships: []org.Member{}}, f.err
}
func (f self) ConsentToTerms(_ context.Context, userID string, c selfservice.Consent) error {
	f.record("ConsentToTerms", userID, c)
	return f.err
}

// selfRouteCases are the self-service routes: each acts on the caller's
// own account (the user id from the token), whatever the body says.
func selfRouteCases() []routeCase {
	return []routeCase{
		{route: "PATCH /me", body: `{"firstName":"Kari","phone":""}`, status: 200,
			call: `UpdateProfile("caller", {"firstName":"Kari","phone":""})`, badType: `{"firstName":7}`, field: "firstName"},
		{route: "POST /me/password", body: `{"currentPassword":"old secret!!","newPassword":"new secret!!!"}`, status: 204,
			call:    `ChangePassword("caller", "s-caller", "203.0.113.9", {"currentPassword":"old secret!!","newPassword":"new secret!!!"})`,
			badType: `{"newPassword":1}`, field: "newPassword"},
		{route: "POST /me/email", body: `{"newEmail":"kari@example.com","password":"old secret!!"}`, status: 202,
			call:    `StartEmailChange("caller", "203.0.113.9", "https://api.example", {"newEmail":"kari@example.com","password":"old secret!!"})`,
			badType: `{"newEmail":["x"]}`, field: "newEmail"},
		{route: "DELETE /me/memberships/{orgId}", params: map[string]string{"orgId": "o1"}, status: 204, call: `LeaveOrg("caller", "o1")`},
		{route: "POST /me/consent", body: `{"orgId":"o1","termsVersion":"v2"}`, status: 204,
			call: `ConsentToTerms("caller", {"orgId":"o1","termsVersion":"v2"})`, badType: `{"termsVersion":2}`, field: "termsVersion"},
	}
}

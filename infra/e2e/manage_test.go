package e2e

import (
	"net/http"
	"strings"
	"testing"

	"onboarding/infra/local"
	"onboarding/infra/testenv"
)

// createUnit creates a unit over HTTP and returns its id.
func createUnit(t *testing.T, c *Client, orgID, name string) string {
	t.Helper()
	var u struct {
		UnitID string `json:"unitId"`
	}
	mustStatus(t, c.Call("POST", "/orgs/"+orgID+"/units", map[string]string{"name": name}, &u), 201)
	return u.UnitID
}

// signUp accepts the newest invitation to email and signs in as that person.
func signUp(t *testing.T, s *local.Stack, email, password string, nth int) *Client {
	t.Helper()
	anon := &Client{t: t, base: s.APIURL}
	tok := InvitationToken(t, email, nth)
	mustStatus(t, anon.Call("POST", "/invitations/accept", map[string]any{"token": tok, "firstName": "First", "lastName": "Last",
		"password": password, "acceptTerms": true, "termsVersion": "2026-01"}, nil), 201)
	var session struct {
		AccessToken string `json:"accessToken"`
	}
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": email, "password": password}, &session), 200)
	return &Client{t: t, base: s.APIURL, token: session.AccessToken}
}

type invitation struct {
	InvitationID string   `json:"invitationId"`
	Status       string   `json:"status"`
	Units        []string `json:"units"`
}

func TestCoordinatorResendsAdminRevokes(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	coordEmail := "cora-" + id + "@example.no"
	reporterEmail := "rex-" + id + "@example.no"
	otherEmail := "olga-" + id + "@example.no"
	anon := &Client{t: t, base: s.APIURL}

	orgID := Provision(t, s, "Units Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	north, south := createUnit(t, admin, orgID, "North"), createUnit(t, admin, orgID, "South")

	// The admin invites a coordinator scoped to the north unit.
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": coordEmail, "role": "coordinator", "units": []string{north}}, nil), 201)
	coord := signUp(t, s, coordEmail, "coordinator passphrase", 1)

	// The coordinator may invite a reporter into its unit, not elsewhere, and no admins.
	mustStatus(t, coord.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": "x-" + id + "@example.no", "role": "reporter", "units": []string{south}}, nil), 403)
	mustStatus(t, coord.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": "y-" + id + "@example.no", "role": "admin", "units": []string{north}}, nil), 403)
	var inv invitation
	mustStatus(t, coord.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": reporterEmail, "role": "reporter", "units": []string{north}}, &inv), 201)
	first := InvitationToken(t, reporterEmail, 1)

	// Resend: the first link stops working, the second works.
	var resent invitation
	mustStatus(t, coord.Call("POST", "/orgs/"+orgID+"/invitations/"+inv.InvitationID+"/resend", nil, &resent), 200)
	second := InvitationToken(t, reporterEmail, 2)
	if second == first {
		t.Fatal("the resent email carries the old token")
	}
	mustStatus(t, anon.Call("POST", "/invitations/preview", map[string]string{"token": first}, nil), 404)
	mustStatus(t, anon.Call("POST", "/invitations/preview", map[string]string{"token": second}, nil), 200)

	// The coordinator sees its unit's invitations only; the admin sees all.
	var page struct {
		Items      []invitation `json:"items"`
		NextCursor *string      `json:"nextCursor"`
	}
	mustStatus(t, coord.Call("GET", "/orgs/"+orgID+"/invitations?status=pending", nil, &page), 200)
	if len(page.Items) != 1 || page.Items[0].InvitationID != inv.InvitationID {
		t.Fatalf("coordinator's list %+v", page)
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/invitations?limit=2", nil, &page), 200)
	if len(page.Items) != 2 || page.NextCursor == nil {
		t.Fatalf("admin's first page %+v", page)
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/invitations?limit=2&cursor="+*page.NextCursor, nil, &page), 200)
	if len(page.Items) != 1 || page.NextCursor != nil {
		t.Fatalf("admin's last page %+v", page)
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/invitations?status=lost", nil, nil), 422)
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/invitations?cursor=junk", nil, nil), 400)

	// The reporter accepts with the second link.
	reporter := signUp(t, s, reporterEmail, "reporter passphrase", 2)
	mustStatus(t, reporter.Call("POST", "/orgs/"+orgID+"/invitations/"+inv.InvitationID+"/resend", nil, nil), 403)
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/invitations/"+inv.InvitationID, nil, nil), 409)

	// An admin revokes another invitation: its link stops working; then deletes it.
	var other invitation
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": otherEmail, "role": "member"}, &other), 201)
	otherToken := InvitationToken(t, otherEmail, 1)
	var revoked invitation
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/invitations/"+other.InvitationID, nil, &revoked), 200)
	if revoked.Status != "revoked" {
		t.Fatalf("revoked %+v", revoked)
	}
	mustStatus(t, anon.Call("POST", "/invitations/preview", map[string]string{"token": otherToken}, nil), 404)
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations/"+other.InvitationID+"/resend", nil, nil), 409)
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/invitations/"+other.InvitationID, nil, nil), http.StatusNoContent)
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/invitations/"+other.InvitationID, nil, nil), 404)
	// And the email can be invited again.
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": otherEmail, "role": "member"}, nil), 201)
}

func TestMembersOverHTTP(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail, workerEmail := "ada-"+id+"@example.no", "walt-"+id+"@example.no"
	orgID := Provision(t, s, "Members Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	north, south := createUnit(t, admin, orgID, "North"), createUnit(t, admin, orgID, "South")
	var me struct {
		UserID string `json:"userId"`
	}
	mustStatus(t, admin.Call("GET", "/me", nil, &me), 200)

	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": workerEmail, "role": "coordinator", "units": []string{north}}, nil), 201)
	worker := signUp(t, s, workerEmail, "worker passphrase long", 1)
	var wme struct {
		UserID string `json:"userId"`
	}
	mustStatus(t, worker.Call("GET", "/me", nil, &wme), 200)

	var page struct {
		Items []struct {
			UserID string   `json:"userId"`
			Role   string   `json:"role"`
			Units  []string `json:"units"`
		} `json:"items"`
		NextCursor *string `json:"nextCursor"`
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/members?role=coordinator", nil, &page), 200)
	if len(page.Items) != 1 || page.Items[0].UserID != wme.UserID {
		t.Fatalf("coordinators %+v", page)
	}
	mustStatus(t, admin.Call("PATCH", "/orgs/"+orgID+"/members/"+me.UserID, map[string]any{"role": "member"}, nil), 409)
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/members/"+me.UserID, nil, nil), 409)
	mustStatus(t, admin.Call("PATCH", "/orgs/"+orgID+"/members/"+wme.UserID, map[string]any{"units": []string{north, south}}, nil), 200)
	mustStatus(t, admin.Call("PATCH", "/orgs/"+orgID+"/members/"+wme.UserID, map[string]any{"role": "ghost"}, nil), 422)

	// The coordinator works until removed, and is refused on the very next request.
	mustStatus(t, worker.Call("GET", "/orgs/"+orgID+"/invitations", nil, nil), 200)
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/members/"+wme.UserID, nil, nil), 204)
	mustStatus(t, worker.Call("GET", "/orgs/"+orgID+"/invitations", nil, nil), 403)
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/members/"+wme.UserID, nil, nil), 404)
}

func TestUnitsAndSettingsOverHTTP(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Settings Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)

	unit := createUnit(t, admin, orgID, "Night Shift")
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/units", map[string]string{"name": "night  shift"}, nil), 409)
	mustStatus(t, admin.Call("PATCH", "/orgs/"+orgID+"/units/"+unit, map[string]string{"name": "Night Team"}, nil), 200)
	var units struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/units", nil, &units), 200)
	if len(units.Items) != 1 || units.Items[0].Name != "Night Team" {
		t.Fatalf("units %+v", units)
	}

	var st struct {
		InvitationLifetimeDays int `json:"invitationLifetimeDays"`
		RateLimits             struct {
			InvitationsPerHour int `json:"invitationsPerHour"`
		} `json:"rateLimits"`
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/settings", nil, &st), 200)
	if st.InvitationLifetimeDays != 30 || st.RateLimits.InvitationsPerHour != 500 {
		t.Fatalf("default settings %+v", st)
	}
	mustStatus(t, admin.Call("PATCH", "/orgs/"+orgID+"/settings", map[string]any{"invitationLifetimeDays": 0}, nil), 422)
	mustStatus(t, admin.Call("PATCH", "/orgs/"+orgID+"/settings", map[string]any{
		"invitationLifetimeDays": 14,
		"customFields":           []map[string]any{{"key": "costCentre", "label": "Cost centre", "type": "text", "required": true}},
	}, &st), 200)
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": "n-" + id + "@example.no", "role": "member"}, nil), 422)
	mustStatus(t, admin.Call("PATCH", "/orgs/"+orgID+"/settings", map[string]any{"emailTemplates": map[string]any{
		"invitation": map[string]any{"nb": map[string]string{"subject": "Velkommen til {{.OrgName}}", "body": "Hei {{.Name}}, bli med oss."}},
	}}, nil), 200)
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": "n-" + id + "@example.no", "role": "member",
		"firstName": "Nils", "language": "nb", "units": []string{unit}, "attributes": map[string]string{"costCentre": "A1"}}, nil), 201)
	if mail := testenv.WaitForEmails(t, "n-"+id+"@example.no", 1)[0]; mail.Subject != "Velkommen til Settings Care "+id ||
		!strings.Contains(mail.Body.Text, "Hei Nils, bli med oss.") || !strings.Contains(mail.Body.Text, "/accept#token=") {
		t.Fatalf("overridden email: %q\n%s", mail.Subject, mail.Body.Text)
	}
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/units/"+unit, nil, nil), 409)
	empty := createUnit(t, admin, orgID, "Empty")
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/units/"+empty, nil, nil), 204)

	var trail struct {
		Items []struct {
			Action string `json:"action"`
		} `json:"items"`
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/audit?limit=100", nil, &trail), 200)
	if len(trail.Items) < 6 || trail.Items[0].Action != "unit.deleted" {
		t.Fatalf("audit trail %+v", trail)
	}
}

func TestIdempotencyKey(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Idem Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	keyed := &Client{t: t, base: s.APIURL, token: admin.token, headers: map[string]string{"Idempotency-Key": "key-1"}}
	path := "/orgs/" + orgID + "/invitations"
	body := map[string]any{"email": "i-" + id + "@example.no", "role": "member"}

	var first, again invitation
	mustStatus(t, keyed.Call("POST", path, body, &first), 201)
	replay := keyed.Call("POST", path, body, &again)
	mustStatus(t, replay, 201)
	if again.InvitationID != first.InvitationID || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %+v %v", again, replay.Header)
	}
	if n := len(testenv.Emails(t, "i-"+id+"@example.no")); n != 1 {
		t.Fatalf("a replay sent %d emails", n)
	}
	var p problem
	mustStatus(t, keyed.Call("POST", path, map[string]any{"email": "j-" + id + "@example.no", "role": "member"}, &p), 422)
	if len(p.Errors) != 1 || p.Errors[0].Field != "Idempotency-Key" {
		t.Fatalf("reused key: %+v", p)
	}
	// Without the key, the same request is a conflict (the invitation exists).
	mustStatus(t, admin.Call("POST", path, body, nil), 409)
}

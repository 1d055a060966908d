package e2e

import (
	"net/url"
	"strings"
	"testing"

	"onboarding/infra/testenv"
)

// Search through the runner: q finds invitations and members by the start
// of their email, first or last name in any case and with or without
// accents, with the status filter and cursor pages; a unit-scoped
// coordinator finds only its unit's; a bad q is a 422 naming q. Every
// exchange is checked against openapi.yaml.
func TestSearchThroughRunner(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Search Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	north, south := createUnit(t, admin, orgID, "North"), createUnit(t, admin, orgID, "South")
	for _, p := range []struct{ email, first, last, unit string }{
		{"orjan-" + id + "@example.no", "Ørjan", "Berg", north},
		{"anna-" + id + "@example.no", "Anna", "Andersen", north},
		{"emile-" + id + "@example.no", "Émile", "Annan", south},
	} {
		mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": p.email, "firstName": p.first,
			"lastName": p.last, "role": "member", "units": []string{p.unit}}, nil), 201)
	}
	coordEmail := "cora-" + id + "@example.no"
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": coordEmail, "role": "coordinator", "units": []string{south}}, nil), 201)
	coord := signUp(t, s, coordEmail, "coordinator passphrase", 1)

	type page struct {
		Items []struct {
			FirstName string `json:"firstName"`
			Email     string `json:"email"`
		} `json:"items"`
		NextCursor *string `json:"nextCursor"`
	}
	// all follows the cursors of a search and returns the first names found.
	all := func(c *Client, list string, query url.Values) string {
		var names []string
		for {
			var p page
			mustStatus(t, c.Call("GET", "/orgs/"+orgID+"/"+list+"?"+query.Encode(), nil, &p), 200)
			for _, it := range p.Items {
				names = append(names, it.FirstName)
			}
			if p.NextCursor == nil {
				return strings.Join(names, " ")
			}
			query.Set("cursor", *p.NextCursor)
		}
	}
	for _, c := range []struct {
		q, status, limit, want string
	}{
		{"orjan", "", "", "Ørjan"},
		{"ØRJ", "pending", "", "Ørjan"},
		{"an", "", "1", "Anna Émile"}, // Anna on "andersen" once (not again on "anna"), Émile on "annan"
		{"an", "pending", "2", "Anna Émile"},
		{"an", "accepted", "", ""},
		{"EMILE-" + id, "", "", "Émile"},
		{"zz", "", "", ""},
	} {
		query := url.Values{"q": {c.q}}
		if c.status != "" {
			query.Set("status", c.status)
		}
		if c.limit != "" {
			query.Set("limit", c.limit)
		}
		if got := all(admin, "invitations", query); got != c.want {
			t.Errorf("admin searches invitations %v: %q, want %q", query, got, c.want)
		}
	}
	if got := all(coord, "invitations", url.Values{"q": {"an"}}); got != "Émile" {
		t.Errorf("the South coordinator finds %q", got)
	}

	// Members: both signed up as "First Last"; the admin by address.
	if got := all(admin, "members", url.Values{"q": {"first"}, "limit": {"1"}}); got != "First First" {
		t.Errorf("members named First: %q", got)
	}
	if got := all(admin, "members", url.Values{"q": {"ADA-" + id}}); got != "First" {
		t.Errorf("the admin by address: %q", got)
	}
	if got := all(admin, "members", url.Values{"q": {"first"}, "role": {"coordinator"}}); got != "First" {
		t.Errorf("coordinators named First: %q", got)
	}
	if got := all(coord, "members", url.Values{"q": {"ada-" + id}}); got != "" {
		t.Errorf("the South coordinator finds the org-wide admin: %q", got)
	}

	// A bad q is named; a cursor of one q does not serve another.
	for _, bad := range []string{strings.Repeat("a", 101), "   "} {
		var p problem
		mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/members?"+url.Values{"q": {bad}}.Encode(), nil, &p), 422)
		if len(p.Errors) != 1 || p.Errors[0].Field != "q" {
			t.Errorf("q %q: %+v", bad, p)
		}
	}
	var first page
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/invitations?q=an&limit=1", nil, &first), 200)
	if first.NextCursor == nil {
		t.Fatal("no second page")
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/invitations?"+url.Values{"q": {"or"}, "limit": {"1"}, "cursor": {*first.NextCursor}}.Encode(), nil, nil), 400)
}

package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"onboarding/infra/testenv"
)

var leaveLink = regexp.MustCompile(`(\S+)/leave#token=([A-Za-z0-9_-]{43})`)

// Someone with an account whom another organisation adds is told by email,
// with a link that takes them out again: once, and only them.
func TestLeaveLinkThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t)
	id := testenv.RandomID()
	adaEmail, boEmail, kariEmail := "ada-"+id+"@example.no", "bo-"+id+"@example.no", "kari-"+id+"@example.no"
	anon := &Client{t: t, base: s.APIURL}

	orgA := Provision(t, s, "Leave A "+id, adaEmail)
	ada := signUp(t, s, adaEmail, "admin passphrase long", 1)
	mustStatus(t, ada.Call("POST", "/orgs/"+orgA+"/invitations", map[string]any{"email": kariEmail, "firstName": "Kari",
		"lastName": "Nordmann", "phone": "915 12 345", "role": "member"}, nil), 201)
	kari := signUp(t, s, kariEmail, "kari passphrase long", 1)
	var me struct {
		UserID      string `json:"userId"`
		Memberships []struct {
			OrgID string `json:"orgId"`
		} `json:"memberships"`
	}
	mustStatus(t, kari.Call("GET", "/me", nil, &me), 200)
	kariID := me.UserID

	// Another organisation adds Kari's account at once, knowing only her email.
	orgB := Provision(t, s, "Leave B "+id, boEmail)
	bo := signUp(t, s, boEmail, "admin passphrase long", 1)
	var added invitation
	mustStatus(t, bo.Call("POST", "/orgs/"+orgB+"/invitations", map[string]any{"email": kariEmail, "role": "member"}, &added), 201)
	if added.Status != "accepted" {
		t.Fatalf("added %+v", added)
	}
	var members struct {
		Items []struct {
			UserID    string `json:"userId"`
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
			Phone     string `json:"phone"`
		} `json:"items"`
	}
	mustStatus(t, bo.Call("GET", "/orgs/"+orgB+"/members", nil, &members), 200)
	for _, m := range members.Items {
		if m.UserID == kariID && (m.FirstName != "" || m.LastName != "" || m.Phone != "") {
			t.Fatalf("organisation B sees what organisation A holds: %+v", m)
		}
	}

	// The email carries the leave link, in both parts.
	mail := testenv.WaitForEmails(t, kariEmail, 2)[1]
	link := leaveLink.FindStringSubmatch(mail.Body.Text)
	if link == nil || !strings.Contains(mail.Body.HTML, link[0]) {
		t.Fatalf("no leave link in the added email:\n%s", mail.Body.Text)
	}
	if link[1] != s.APIURL {
		t.Fatalf("the link leads to %s, not the public base %s", link[1], s.APIURL)
	}
	token := link[2]

	// The page it opens: our own, strict, and it posts the token.
	req, _ := http.NewRequest("GET", s.APIURL+"/leave", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	checkContract(t, req, nil, res, page)
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != 200 || !strings.Contains(string(page), "/memberships/leave") || !strings.Contains(csp, "script-src 'sha256-") ||
		strings.Contains(csp, "unsafe-inline") || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("leave page: %d csp=%q", res.StatusCode, csp)
	}

	var left struct {
		OrgID   string `json:"orgId"`
		OrgName string `json:"orgName"`
	}
	mustStatus(t, anon.Call("POST", "/memberships/leave", map[string]string{"token": token}, &left), 200)
	if left.OrgID != orgB || left.OrgName != "Leave B "+id {
		t.Fatalf("left %+v", left)
	}
	mustStatus(t, bo.Call("GET", "/orgs/"+orgB+"/members", nil, &members), 200)
	for _, m := range members.Items {
		if m.UserID == kariID {
			t.Fatal("Kari is still a member of organisation B")
		}
	}
	mustStatus(t, kari.Call("GET", "/me", nil, &me), 200)
	if len(me.Memberships) != 1 || me.Memberships[0].OrgID != orgA {
		t.Fatalf("Kari's memberships %+v: only organisation A should be left", me.Memberships)
	}
	// The token is dead.
	var p problem
	mustStatus(t, anon.Call("POST", "/memberships/leave", map[string]string{"token": token}, &p), 404)
	mustStatus(t, anon.Call("POST", "/memberships/leave", map[string]string{"token": "nonsense"}, nil), 404)

	// Recorded as a removal, by Kari herself.
	var trail struct {
		Items []struct {
			Action   string `json:"action"`
			ActorID  string `json:"actorId"`
			TargetID string `json:"targetId"`
		} `json:"items"`
	}
	mustStatus(t, bo.Call("GET", "/orgs/"+orgB+"/audit", nil, &trail), 200)
	if len(trail.Items) == 0 || trail.Items[0].Action != "member.removed" || trail.Items[0].ActorID != kariID || trail.Items[0].TargetID != kariID {
		t.Fatalf("audit trail %+v", trail.Items)
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("the logs contain the leave token")
	}
}

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"onboarding/infra/testenv"
)

var emailChangeLink = regexp.MustCompile(`(\S+)/email-change#token=([A-Za-z0-9_-]{43})`)

// A monitored worker looks after their own account through the runner:
// changes their name, phone and language (the organisation's member list
// and the partner see it), their password (the old one stops working),
// their address (confirmed by the link read from the new mailbox; the old
// one is told; the partner is told the old worker went and the new one
// came), then leaves the organisation (the partner: worker.removed). The
// last org-wide admin cannot leave.
func TestSelfServiceThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t, withStream)
	id := testenv.RandomID()
	adaEmail, kariEmail, newEmail := "ada-"+id+"@example.no", "kari-"+id+"@example.no", "kari.ny-"+id+"@example.no"
	anon := &Client{t: t, base: s.APIURL}
	orgID := Provision(t, s, "Self Care "+id, adaEmail)
	ada := signUp(t, s, adaEmail, "admin passphrase long", 1)
	recv := testenv.NewReceiver(t, "")
	var saved struct {
		Secret string `json:"secret"`
	}
	mustStatus(t, ada.Call("PUT", "/orgs/"+orgID+"/partners/vakt", map[string]any{"name": "Vakt 24", "webhook": map[string]string{"url": recv.URL}}, &saved), 201)
	recv.Trust(saved.Secret)
	mustStatus(t, ada.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": kariEmail, "role": "member"}, nil), 201)
	kari := signUp(t, s, kariEmail, "kari passphrase long", 1)
	recv.WaitForEvents(t, 1, 10*time.Second)

	// Profile: refused fields are named; a good change shows everywhere.
	var p problem
	mustStatus(t, kari.Call("PATCH", "/me", map[string]any{"firstName": "Kari", "nickname": "K"}, &p), 422)
	if len(p.Errors) != 1 || p.Errors[0].Field != "nickname" {
		t.Fatalf("unknown field: %+v", p)
	}
	mustStatus(t, kari.Call("PATCH", "/me", map[string]any{"language": "xx", "phone": "abc"}, &p), 422)
	var me struct {
		UserID    string `json:"userId"`
		FirstName string `json:"firstName"`
		Phone     string `json:"phone"`
		Language  string `json:"language"`
	}
	mustStatus(t, kari.Call("PATCH", "/me", map[string]any{"firstName": "Kari", "lastName": "Nordmann", "phone": "412 34 567", "language": "nb"}, &me), 200)
	if me.FirstName != "Kari" || me.Phone != "+4741234567" || me.Language != "nb" {
		t.Fatalf("me %+v", me)
	}
	var members struct {
		Items []struct {
			UserID    string `json:"userId"`
			Email     string `json:"email"`
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
			Phone     string `json:"phone"`
		} `json:"items"`
	}
	member := func() (email, first, last, phone string, found bool) {
		t.Helper()
		mustStatus(t, ada.Call("GET", "/orgs/"+orgID+"/members", nil, &members), 200)
		for _, m := range members.Items {
			if m.UserID == me.UserID {
				return m.Email, m.FirstName, m.LastName, m.Phone, true
			}
		}
		return "", "", "", "", false
	}
	if _, first, last, phone, _ := member(); first != "Kari" || last != "Nordmann" || phone != "+4741234567" {
		t.Fatalf("the member list shows %s %s %s", first, last, phone)
	}
	evs := recv.WaitForEvents(t, 2, 10*time.Second)
	if evs[1].Type != "worker.updated" || !slices.Contains(evs[1].ChangedFields, "name") || !slices.Contains(evs[1].ChangedFields, "phoneNumbers") ||
		!strings.Contains(string(evs[1].Worker), "Nordmann") {
		t.Fatalf("the partner was told %s %v %s", evs[1].Type, evs[1].ChangedFields, evs[1].Worker)
	}

	// Password: the current one is checked, the new one under the policy.
	mustStatus(t, kari.Call("POST", "/me/password", map[string]string{"currentPassword": "not my password", "newPassword": "kari new passphrase"}, &p), 422)
	mustStatus(t, kari.Call("POST", "/me/password", map[string]string{"currentPassword": "kari passphrase long", "newPassword": "short"}, &p), 422)
	mustStatus(t, kari.Call("POST", "/me/password", map[string]string{"currentPassword": "kari passphrase long", "newPassword": "kari new passphrase"}, nil), 204)
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": kariEmail, "password": "kari passphrase long"}, nil), 401)
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": kariEmail, "password": "kari new passphrase"}, nil), 200)

	// Email: the new address gets the link, the old one the notice.
	mustStatus(t, kari.Call("POST", "/me/email", map[string]string{"newEmail": newEmail, "password": "kari passphrase long"}, &p), 422)
	mustStatus(t, kari.Call("POST", "/me/email", map[string]string{"newEmail": newEmail, "password": "kari new passphrase"}, nil), 202)
	mail := testenv.WaitForEmails(t, newEmail, 1)[0]
	link := emailChangeLink.FindStringSubmatch(mail.Body.Text)
	if link == nil || !strings.Contains(mail.Body.HTML, link[0]) || link[1] != s.APIURL {
		t.Fatalf("no email-change link to the public base in:\n%s", mail.Body.Text)
	}
	notice := testenv.WaitForEmails(t, kariEmail, 2)[1]
	if !strings.Contains(notice.Body.Text, "k***@example.no") || strings.Contains(notice.Body.Text, newEmail) || strings.Contains(notice.Body.Text, link[2]) {
		t.Fatalf("the old address's notice:\n%s", notice.Body.Text)
	}
	req, _ := http.NewRequest("GET", s.APIURL+"/email-change", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	checkContract(t, req, nil, res, page)
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.Contains(string(page), "/auth/email-change/confirm") ||
		!strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe") || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("email-change page: %d csp=%q", res.StatusCode, csp)
	}
	mustStatus(t, anon.Call("POST", "/auth/email-change/confirm", map[string]string{"token": link[2], "extra": "x"}, &p), 422)
	var changed struct {
		Status string `json:"status"`
	}
	mustStatus(t, anon.Call("POST", "/auth/email-change/confirm", map[string]string{"token": link[2]}, &changed), 200)
	mustStatus(t, anon.Call("POST", "/auth/email-change/confirm", map[string]string{"token": link[2]}, &p), 404)
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": kariEmail, "password": "kari new passphrase"}, nil), 401)
	var session struct {
		AccessToken string `json:"accessToken"`
	}
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": newEmail, "password": "kari new passphrase"}, &session), 200)
	kari = &Client{t: t, base: s.APIURL, token: session.AccessToken}
	if email, _, _, _, _ := member(); email != newEmail {
		t.Fatalf("the member list shows %s", email)
	}
	// Partners know a worker by address: the old one went, the new came.
	evs = recv.WaitForEvents(t, 4, 10*time.Second)
	var kinds []string
	for _, e := range evs[2:] {
		var w struct {
			UserName string `json:"userName"`
		}
		json.Unmarshal(e.Worker, &w)
		kinds = append(kinds, e.Type+" "+w.UserName)
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, []string{"worker.added " + newEmail, "worker.removed " + kariEmail}) {
		t.Fatalf("after the address changed the partner was told %v", kinds)
	}

	// Leaving: never the last org-wide admin; the worker leaves, and the
	// partner is told.
	mustStatus(t, ada.Call("DELETE", "/me/memberships/"+orgID, nil, &p), 409)
	mustStatus(t, kari.Call("DELETE", "/me/memberships/"+orgID, nil, nil), 204)
	mustStatus(t, kari.Call("DELETE", "/me/memberships/"+orgID, nil, &p), 404)
	if _, _, _, _, found := member(); found {
		t.Fatal("Kari is still a member")
	}
	evs = recv.WaitForEvents(t, 5, 10*time.Second)
	if evs[4].Type != "worker.removed" || !strings.Contains(string(evs[4].Worker), newEmail) {
		t.Fatalf("after leaving the partner was told %s %s", evs[4].Type, evs[4].Worker)
	}
	time.Sleep(500 * time.Millisecond) // anything more would be a duplicate
	if n := len(recv.Events()); n != 5 || recv.Duplicates() != 0 || len(recv.Rejected()) != 0 {
		t.Fatalf("%d events, %d duplicates, rejected %v", n, recv.Duplicates(), recv.Rejected())
	}
	// The confirmation moved the invitation she accepted to the new address
	// (a failed move is logged; the runner refuses what the policy lacks).
	if strings.Contains(logs.String(), "move invitations to the new address") {
		t.Fatalf("the invitations were not moved:\n%s", logs.String())
	}
	for _, secret := range []string{link[2], "kari new passphrase", "kari passphrase long"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the logs contain %q", secret)
		}
	}
}

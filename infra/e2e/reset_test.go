package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"onboarding/infra/testenv"
)

var resetLink = regexp.MustCompile(`(\S+)/reset#token=([A-Za-z0-9_-]{43})`)

// A forgotten password, through the runner: the request answers alike for
// an address with and without an account; the email (in the account's
// language) links to the hosted page; confirming sets the password once.
func TestPasswordResetThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t)
	id := testenv.RandomID()
	adaEmail, kariEmail := "ada-"+id+"@example.no", "kari-"+id+"@example.no"
	anon := &Client{t: t, base: s.APIURL}

	orgID := Provision(t, s, "Reset "+id, adaEmail)
	ada := signUp(t, s, adaEmail, "admin passphrase long", 1)
	mustStatus(t, ada.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": kariEmail, "firstName": "Kari",
		"lastName": "Nordmann", "role": "member", "language": "nb"}, nil), 201)
	signUp(t, s, kariEmail, "the old passphrase", 1)
	// A session opened with the old password, which the reset must end.
	var before tokens
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": kariEmail, "password": "the old passphrase"}, &before), 200)

	// Both answer 202, and neither before the floor.
	for _, to := range []string{"nobody-" + id + "@example.no", strings.ToUpper(kariEmail)} {
		start := time.Now()
		mustStatus(t, anon.Call("POST", "/auth/password-reset", map[string]string{"email": to}, nil), 202)
		if d := time.Since(start); d < 400*time.Millisecond {
			t.Errorf("answered in %v, under the floor", d)
		}
	}
	mustStatus(t, anon.Call("POST", "/auth/password-reset", map[string]string{"email": kariEmail, "source": "x"}, nil), 422)
	mustStatus(t, anon.Call("POST", "/auth/password-reset", map[string]string{"email": "not an address"}, nil), 422)

	mail := testenv.WaitForEmails(t, kariEmail, 2)[1]
	link := resetLink.FindStringSubmatch(mail.Body.Text)
	if link == nil || !strings.Contains(mail.Body.HTML, link[0]) || link[1] != s.APIURL {
		t.Fatalf("no reset link to %s in the email:\n%s", s.APIURL, mail.Body.Text)
	}
	if mail.Subject != "Tilbakestill passordet ditt" || !strings.Contains(mail.Body.HTML, `lang="nb"`) {
		t.Fatalf("not in Kari's language: %q", mail.Subject)
	}
	token := link[2]

	// The page: our own, strict, and it posts the token.
	req, _ := http.NewRequest("GET", s.APIURL+"/reset", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	checkContract(t, req, nil, res, page)
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != 200 || !strings.Contains(string(page), "/auth/password-reset/confirm") || !strings.Contains(csp, "script-src 'sha256-") ||
		!strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("reset page: %d csp=%q", res.StatusCode, csp)
	}

	// The policy of accepting; a refusal leaves the token usable.
	mustStatus(t, anon.Call("POST", "/auth/password-reset/confirm", map[string]string{"token": token, "password": "short"}, nil), 422)
	mustStatus(t, anon.Call("POST", "/auth/password-reset/confirm", map[string]string{"token": token, "password": "the new passphrase"}, nil), 204)
	mustStatus(t, anon.Call("POST", "/auth/refresh", map[string]string{"refreshToken": before.RefreshToken}, nil), 401)
	var p problem
	mustStatus(t, anon.Call("POST", "/auth/password-reset/confirm", map[string]string{"token": token, "password": "another passphrase"}, &p), 410)
	mustStatus(t, anon.Call("POST", "/auth/password-reset/confirm", map[string]string{"token": "nonsense", "password": "another passphrase"}, nil), 410)

	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": kariEmail, "password": "the new passphrase"}, nil), 200)
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": kariEmail, "password": "the old passphrase"}, nil), 401)

	if out := logs.String(); strings.Contains(out, token) || strings.Contains(out, kariEmail) || strings.Contains(out, "the new passphrase") {
		t.Fatal("the logs contain the token, the address or the password")
	}
}

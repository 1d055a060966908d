package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"onboarding/infra/testenv"
)

// forge sends a request whose Host, X-Forwarded-Host and X-Forwarded-Proto
// name another site, as any client can.
func forge(t *testing.T, method, url, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "gopher")
	req.Header.Set("Forwarded", "host=evil.example;proto=gopher")
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, data
}

// Links (the discovery document's, the invitation email's) point at the
// configured public base whatever Host and X-Forwarded-* a request carries.
func TestLinksIgnoreForgedHeaders(t *testing.T) {
	s := Stack(t)
	res, body := forge(t, "GET", s.APIURL+"/.well-known/openid-configuration", "", nil)
	var disco map[string]any
	json.Unmarshal(body, &disco)
	if res.StatusCode != 200 || disco["jwks_uri"] != s.APIURL+"/.well-known/jwks.json" || disco["token_endpoint"] != s.APIURL+"/auth/sign-in" {
		t.Fatalf("discovery with a forged host: %d %s", res.StatusCode, body)
	}

	id := testenv.RandomID()
	adminEmail, workerEmail := "ada-"+id+"@example.no", "kari-"+id+"@example.no"
	orgID := Provision(t, s, "Links Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	res, body = forge(t, "POST", s.APIURL+"/orgs/"+orgID+"/invitations", admin.token, map[string]string{"email": workerEmail, "role": "member"})
	if res.StatusCode != 201 {
		t.Fatalf("invite with a forged host: %d %s", res.StatusCode, body)
	}
	mail := testenv.WaitForEmails(t, workerEmail, 1)[0]
	if !strings.Contains(mail.Body.Text, s.APIURL+"/accept#token=") || strings.Contains(mail.Body.Text, "evil.example") {
		t.Fatalf("invitation link:\n%s", mail.Body.Text)
	}
}

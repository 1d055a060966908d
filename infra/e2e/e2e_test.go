// Package e2e drives the whole system through the local runner: the real
// bootstrap binaries (built with the Makefile's recipe) under the runner's
// Runtime API, over DynamoDB Local and the SES v2 emulator.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/local"
	"onboarding/infra/testenv"
)

// Logs collects what the functions and the runner log.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if os.Getenv("E2E_LOGS") != "" {
		os.Stderr.Write(p)
	}
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Stack starts the system for one test: its own table, bucket and ports.
func Stack(t *testing.T) *local.Stack {
	s, _ := StackWithLogs(t)
	return s
}

// StackWithLogs is Stack, also returning the logs. Options change the
// stack's configuration (by default its table has no stream).
func StackWithLogs(t *testing.T, options ...func(*local.Config)) (*local.Stack, *Logs) {
	t.Helper()
	testenv.Integration(t)
	root := testenv.RepoRoot()
	build := filepath.Join(t.TempDir(), "build")
	cmd := exec.Command("make", "--no-print-directory", "build", "BUILD_DIR="+build)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	logs := &Logs{}
	table := "e2e-" + testenv.RandomID()
	t.Cleanup(func() {
		testenv.DynamoDBClient().DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})
	cfg := local.Config{
		Template: filepath.Join(root, "template.yaml"), BuildDir: build, StateDir: t.TempDir(),
		Table: table, Bucket: "e2e-" + testenv.RandomID(), NoStream: true,
		APIAddr: "127.0.0.1:0", InvokeAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0",
		DynamoDBEndpoint: testenv.DynamoDBEndpoint(), SESEndpoint: testenv.SESEndpoint(), KMSEndpoint: testenv.KMSEndpoint(),
		Log: slog.New(slog.NewTextHandler(logs, nil)), FunctionOutput: logs,
	}
	for _, o := range options {
		o(&cfg)
	}
	stack, err := local.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(stack.Close)
	return stack, logs
}

// Client calls the HTTP API.
type Client struct {
	t       *testing.T
	base    string
	token   string
	headers map[string]string
}

// Call sends a JSON request and decodes a JSON answer into out (if non-nil).
func (c *Client) Call(method, path string, body any, out any) *http.Response {
	c.t.Helper()
	var reqBody []byte
	switch b := body.(type) {
	case nil:
	case string:
		reqBody = []byte(b)
	default:
		reqBody, _ = json.Marshal(b)
	}
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(reqBody))
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	checkContract(c.t, req, reqBody, res, data)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return res
}

var tokenInLink = regexp.MustCompile(`/accept#token=([A-Za-z0-9_-]{43})`)

// InvitationToken reads the newest invitation email to `to` from the SES
// emulator and returns the token in its link.
func InvitationToken(t *testing.T, to string, n int) string {
	t.Helper()
	mails := testenv.WaitForEmails(t, to, n)
	m := tokenInLink.FindStringSubmatch(mails[len(mails)-1].Body.Text)
	if m == nil {
		t.Fatalf("no acceptance link in %q", mails[len(mails)-1].Body.Text)
	}
	return m[1]
}

// Provision creates an organisation through the Lambda Invoke API.
func Provision(t *testing.T, s *local.Stack, name, admin string) string {
	t.Helper()
	payload, _ := json.Marshal(map[string]string{"name": name, "adminEmail": admin, "adminFirstName": "Ada", "defaultPhoneRegion": "NO"})
	res, err := http.Post(s.InvokeURL+"/2015-03-31/functions/ProvisionFunction/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("provision: %d %s", res.StatusCode, body)
	}
	var out struct {
		OrgID          string `json:"orgId"`
		DeliveryStatus string `json:"deliveryStatus"`
	}
	json.Unmarshal(body, &out)
	if out.OrgID == "" || out.DeliveryStatus != "sent" {
		t.Fatalf("provision result %s", body)
	}
	return out.OrgID
}

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field string `json:"field"`
	} `json:"errors"`
	InvitationID string `json:"invitationId"`
}

func mustStatus(t *testing.T, res *http.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", res.Request.Method, res.Request.URL.Path, res.StatusCode, want)
	}
}

func TestInviteToSignIn(t *testing.T) {
	s, logs := StackWithLogs(t)
	id := testenv.RandomID()
	adminEmail, workerEmail := "ada-"+id+"@example.no", "kari-"+id+"@example.no"
	anon := &Client{t: t, base: s.APIURL}

	orgID := Provision(t, s, "Nordlys Care "+id, adminEmail)

	// The first admin opens the link from the email.
	tok := InvitationToken(t, adminEmail, 1)
	var preview struct {
		OrgName       string `json:"orgName"`
		Role          string `json:"role"`
		AccountExists bool   `json:"accountExists"`
		TermsVersion  string `json:"termsVersion"`
	}
	mustStatus(t, anon.Call("POST", "/invitations/preview", map[string]string{"token": tok}, &preview), 200)
	if preview.OrgName != "Nordlys Care "+id || preview.Role != "admin" || preview.AccountExists || preview.TermsVersion != "2026-01" {
		t.Fatalf("preview %+v", preview)
	}
	var p problem
	mustStatus(t, anon.Call("POST", "/invitations/accept", map[string]any{"token": tok, "firstName": "Ada", "lastName": "Admin",
		"password": "short", "acceptTerms": true, "termsVersion": "2026-01"}, &p), 422)
	if len(p.Errors) != 1 || p.Errors[0].Field != "password" {
		t.Fatalf("weak password problem %+v", p)
	}
	var joined struct {
		UserID, OrgID, Role string
	}
	mustStatus(t, anon.Call("POST", "/invitations/accept", map[string]any{"token": tok, "firstName": "Ada", "lastName": "Admin",
		"password": "northern lights over fjord", "acceptTerms": true, "termsVersion": "2026-01"}, &joined), 201)
	if joined.OrgID != orgID || joined.Role != "admin" {
		t.Fatalf("joined %+v", joined)
	}
	// The link works once.
	mustStatus(t, anon.Call("POST", "/invitations/preview", map[string]string{"token": tok}, nil), 404)

	// Sign in; wrong password and unknown email look the same.
	var wrongPw, wrongEmail problem
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": adminEmail, "password": "not the password"}, &wrongPw), 401)
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": "nobody-" + id + "@example.no", "password": "not the password"}, &wrongEmail), 401)
	if wrongPw.Detail != wrongEmail.Detail {
		t.Fatalf("sign-in errors differ: %q / %q", wrongPw.Detail, wrongEmail.Detail)
	}
	var session struct {
		AccessToken string `json:"accessToken"`
		TokenType   string `json:"tokenType"`
		ExpiresIn   int    `json:"expiresIn"`
	}
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": adminEmail, "password": "northern lights over fjord"}, &session), 200)
	if session.TokenType != "Bearer" || session.ExpiresIn != 900 {
		t.Fatalf("session %+v", session)
	}
	admin := &Client{t: t, base: s.APIURL, token: session.AccessToken}

	var me struct {
		UserID      string `json:"userId"`
		Email       string `json:"email"`
		Memberships []struct {
			OrgID string `json:"orgId"`
			Role  string `json:"role"`
		} `json:"memberships"`
	}
	mustStatus(t, admin.Call("GET", "/me", nil, &me), 200)
	if me.Email != adminEmail || len(me.Memberships) != 1 || me.Memberships[0].OrgID != orgID || me.Memberships[0].Role != "admin" {
		t.Fatalf("me %+v", me)
	}

	// Admin routes refuse callers without a valid token.
	mustStatus(t, anon.Call("GET", "/me", nil, nil), 401)
	forged := &Client{t: t, base: s.APIURL, token: session.AccessToken[:len(session.AccessToken)-4] + "AAAA"}
	mustStatus(t, forged.Call("GET", "/me", nil, nil), 401)

	// The admin creates a unit and invites a worker into it.
	var unit struct {
		UnitID string `json:"unitId"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/units", map[string]string{"name": "North"}, &unit), 201)
	var inv struct {
		InvitationID   string `json:"invitationId"`
		Email          string `json:"email"`
		Phone          string `json:"phone"`
		Status         string `json:"status"`
		DeliveryStatus string `json:"deliveryStatus"`
		ExpiresAt      string `json:"expiresAt"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{
		"email": strings.ToUpper(workerEmail), "firstName": "Kari", "lastName": "Nordmann",
		"phone": "915 12 345", "role": "member", "units": []string{unit.UnitID},
	}, &inv), 201)
	if inv.Email != workerEmail || inv.Phone != "+4791512345" || inv.Status != "pending" || inv.DeliveryStatus != "sent" {
		t.Fatalf("invitation %+v", inv)
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": workerEmail, "role": "member"}, &p), 409)
	if p.InvitationID != inv.InvitationID {
		t.Fatalf("conflict names %q, want %q", p.InvitationID, inv.InvitationID)
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": "not-an-email", "role": "ghost"}, &p), 422)
	if len(p.Errors) != 2 {
		t.Fatalf("want 2 field errors, got %+v", p)
	}
	mustStatus(t, admin.Call("POST", "/orgs/someone-elses-org/invitations", map[string]any{"email": "x@example.no", "role": "member"}, nil), 403)
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", `{"email": "x@example.no",`, nil), 400)
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", `{"email":"`+strings.Repeat("x", 70<<10)+`"}`, nil), 413)

	// The worker accepts and signs in.
	wtok := InvitationToken(t, workerEmail, 1)
	mustStatus(t, anon.Call("POST", "/invitations/accept", map[string]any{"token": wtok, "firstName": "Kari", "lastName": "Nordmann",
		"password": "midnight sun on the coast", "acceptTerms": true, "termsVersion": "2026-01"}, &joined), 201)
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": workerEmail, "password": "midnight sun on the coast"}, &session), 200)
	worker := &Client{t: t, base: s.APIURL, token: session.AccessToken}
	mustStatus(t, worker.Call("GET", "/me", nil, &me), 200)
	if me.Email != workerEmail || len(me.Memberships) != 1 || me.Memberships[0].Role != "member" {
		t.Fatalf("worker me %+v", me)
	}
	// A member may not invite.
	mustStatus(t, worker.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": "y@example.no", "role": "member"}, nil), 403)

	// Someone with an account is added to another organisation at once, and told.
	payload, _ := json.Marshal(map[string]string{"name": "Second Org " + id, "adminEmail": workerEmail})
	res, err := http.Post(s.InvokeURL+"/2015-03-31/functions/ProvisionFunction/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	var second struct {
		OrgID, Status string
	}
	json.NewDecoder(res.Body).Decode(&second)
	res.Body.Close()
	if second.Status != "accepted" {
		t.Fatalf("provision for an existing account: %+v", second)
	}
	mustStatus(t, worker.Call("GET", "/me", nil, &me), 200)
	if len(me.Memberships) != 2 {
		t.Fatalf("worker memberships %+v", me.Memberships)
	}
	mails := testenv.WaitForEmails(t, workerEmail, 2)
	if !strings.Contains(mails[1].Subject, "added you to Second Org") {
		t.Fatalf("added email %q", mails[1].Subject)
	}
	var added struct {
		Status string `json:"status"`
	}
	mustStatus(t, worker.Call("POST", "/orgs/"+second.OrgID+"/invitations", map[string]any{"email": adminEmail, "role": "member"}, &added), 201)
	if added.Status != "accepted" {
		t.Fatalf("inviting an existing account: %+v", added)
	}

	// Nothing secret reached the logs: no token, password or access token,
	// and emails only masked.
	all := logs.String()
	if !strings.Contains(all, `"route":"POST /orgs/{orgId}/invitations"`) {
		t.Fatalf("the functions' request logs were not captured:\n%s", all)
	}
	for what, secret := range map[string]string{
		"invitation token": tok, "second invitation token": wtok, "password": "northern lights over fjord",
		"worker password": "midnight sun on the coast", "access token": session.AccessToken, "email": workerEmail,
	} {
		if strings.Contains(all, secret) {
			t.Errorf("the logs contain the %s", what)
		}
	}
}

func TestPublicEndpoints(t *testing.T) {
	s := Stack(t)
	req, _ := http.NewRequest("GET", s.APIURL+"/accept", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	checkContract(t, req, nil, res, page)
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != 200 || !strings.Contains(string(page), "invitations/accept") || !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("accept page: %d csp=%q", res.StatusCode, csp)
	}
	var jwks struct {
		Keys []struct {
			Kty, Crv, Alg, Kid string
		} `json:"keys"`
	}
	c := &Client{t: t, base: s.APIURL}
	mustStatus(t, c.Call("GET", "/.well-known/jwks.json", nil, &jwks), 200)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "ES256" || jwks.Keys[0].Crv != "P-256" || jwks.Keys[0].Kid == "" {
		t.Fatalf("jwks %+v", jwks)
	}
	var disco map[string]any
	mustStatus(t, c.Call("GET", "/.well-known/openid-configuration", nil, &disco), 200)
	if disco["jwks_uri"] != s.APIURL+"/.well-known/jwks.json" {
		t.Fatalf("discovery %v", disco)
	}
	var p problem
	mustStatus(t, c.Call("POST", "/invitations/preview", map[string]string{"token": "nonsense"}, &p), 404)
	if p.Code != "not_found" {
		t.Fatalf("problem %+v", p)
	}
	mustStatus(t, c.Call("GET", "/no/such/route", nil, nil), 404)
}

// Package publicapi is the accept function's route table: the routes anyone
// may call, and the hosted pages they serve.
package publicapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"onboarding/shared/account"
	"onboarding/shared/authtoken"
	"onboarding/shared/httpapi"
	"onboarding/shared/invite"
)

//go:embed accept.html
var acceptPageSource string

//go:embed accept-strings.json
var acceptStrings []byte

//go:embed leave.html
var leavePageSource string

//go:embed page-i18n.js
var pageI18n string

//go:embed leave-strings.json
var leaveStrings []byte

//go:embed reset.html
var resetPageSource string

//go:embed reset-strings.json
var resetStrings []byte

//go:embed email-change.html
var emailChangePageSource string

//go:embed email-change-strings.json
var emailChangeStrings []byte

var (
	acceptPage, acceptPageCSP = hostedPage(acceptPageSource, acceptStrings)
	leavePage, leavePageCSP   = hostedPage(leavePageSource, leaveStrings)
	resetPage, resetPageCSP   = hostedPage(resetPageSource, resetStrings)

	emailChangePage, emailChangePageCSP = hostedPage(emailChangePageSource, emailChangeStrings)
)

// hostedPage puts a page's strings in every language into it, once, and
// returns it with its Content-Security-Policy, which allows exactly the
// page's own inline script and style (by hash).
func hostedPage(source string, strs []byte) (page, csp string) {
	var all map[string]map[string]string
	if err := json.Unmarshal(strs, &all); err != nil {
		panic("page strings: " + err.Error()) // embedded at build time; a test reads them
	}
	compact, _ := json.Marshal(all)
	page = strings.Replace(source, "  /*I18N*/\n", pageI18n, 1)
	page = strings.Replace(page, "/*STRINGS*/{}", string(compact), 1)
	hash := func(open, close string) string {
		_, rest, _ := strings.Cut(page, open)
		body, _, _ := strings.Cut(rest, close)
		sum := sha256.Sum256([]byte(body))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return page, "default-src 'none'; script-src " + hash("<script>", "</script>") +
		"; style-src " + hash("<style>", "</style>") +
		"; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
}

// Routes serves the routes anyone may call: preview and accept an
// invitation, sign in, refresh and sign out, the signing keys, the hosted acceptance page, and
// leaving an organisation one was added to (the page and its call).
type Routes struct {
	Invitations Invitations
	SignIn      SignIn
	Sessions    Sessions
	// Resets requests and confirms password resets (*account.PasswordReset).
	Resets       Resets
	Issuer       string
	Key          *ecdsa.PublicKey
	EmailChanges EmailChanges
	// BaseURL is the public base the discovery document links to; empty
	// links to the API's own domain (see httpapi.Request.BaseURL).
	BaseURL string
}

// Invitations is what the public routes do with an invitation's or a
// leave link's token (*invite.Service).
type Invitations interface {
	Preview(ctx context.Context, token string) (invite.Preview, error)
	Accept(ctx context.Context, req invite.AcceptRequest) (invite.Joined, error)
	Leave(ctx context.Context, token string) (invite.Left, error)
}

// SignIn checks a password and issues an access token (*account.SignIn).
type SignIn interface {
	SignIn(ctx context.Context, email, password, source, userAgent string) (account.Session, error)
}

// Sessions refreshes and ends sessions by refresh token (*account.Sessions).
type Sessions interface {
	Refresh(ctx context.Context, refreshToken string) (account.Session, error)
	SignOut(ctx context.Context, refreshToken string) error
}

// Resets is what the forgotten-password routes do (*account.PasswordReset).
type Resets interface {
	Request(ctx context.Context, email, source, baseURL string) error
	Confirm(ctx context.Context, token, password, source string) error
}

// EmailChanges confirms a change of address by the token the new address
// was sent (*selfservice.Service).
type EmailChanges interface {
	ConfirmEmailChange(ctx context.Context, token string) error
}

// Register adds the public routes to rt.
func (p *Routes) Register(rt *httpapi.Router) {
	rt.Public("POST /invitations/preview", localized(p.preview))
	rt.Public("POST /invitations/accept", localized(p.accept))
	rt.Public("POST /auth/sign-in", p.signIn)
	rt.Public("POST /auth/refresh", p.refresh)
	rt.Public("POST /auth/sign-out", p.signOut)
	rt.Public("GET /.well-known/jwks.json", p.jwks)
	rt.Public("GET /.well-known/openid-configuration", p.openIDConfiguration)
	rt.Public("GET /accept", p.page)
	rt.Public("GET /leave", p.leavePage)
	rt.Public("POST /memberships/leave", localized(p.leave))
	rt.Public("POST /auth/password-reset", localized(p.requestReset))
	rt.Public("POST /auth/password-reset/confirm", localized(p.confirmReset))
	rt.Public("GET /reset", p.resetPage)
	rt.Public("GET /email-change", p.emailChangePage)
	rt.Public("POST /auth/email-change/confirm", localized(p.confirmEmailChange))
}

func (p *Routes) preview(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in struct {
		Token string `json:"token"`
	}
	if err := r.Decode(&in); err != nil {
		return httpapi.Response{}, err
	}
	pv, err := p.Invitations.Preview(ctx, in.Token)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, pv)
}

func (p *Routes) accept(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in invite.AcceptRequest
	if err := r.Decode(&in); err != nil {
		return httpapi.Response{}, err
	}
	in.Source = r.Event.RequestContext.HTTP.SourceIP
	joined, err := p.Invitations.Accept(ctx, in)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, joined)
}

func (p *Routes) signIn(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := r.Decode(&in); err != nil {
		return httpapi.Response{}, err
	}
	s, err := p.SignIn.SignIn(ctx, in.Email, in.Password, r.Event.RequestContext.HTTP.SourceIP, r.Header("user-agent"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, s)
}

// refreshToken reads a {refreshToken} body; any other member is named back.
func refreshToken(r *httpapi.Request) (string, error) {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	err := r.DecodeStrict(&in)
	return in.RefreshToken, err
}

func (p *Routes) refresh(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	token, err := refreshToken(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	s, err := p.Sessions.Refresh(ctx, token)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, s)
}

func (p *Routes) signOut(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	token, err := refreshToken(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := p.Sessions.SignOut(ctx, token); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent, Headers: map[string]string{"Cache-Control": "no-store"}}, nil
}

func (p *Routes) jwks(context.Context, *httpapi.Request) (httpapi.Response, error) {
	res, err := httpapi.JSON(http.StatusOK, authtoken.JWKS{Keys: []authtoken.JWK{authtoken.PublicJWK(p.Key)}})
	res.Headers["Cache-Control"] = "public, max-age=300"
	res.Headers["Content-Type"] = "application/jwk-set+json"
	return res, err
}

func (p *Routes) openIDConfiguration(_ context.Context, r *httpapi.Request) (httpapi.Response, error) {
	base := r.BaseURL(p.BaseURL)
	res, err := httpapi.JSON(http.StatusOK, map[string]any{
		"issuer":                                p.Issuer,
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"token_endpoint":                        base + "/auth/sign-in",
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
	})
	res.Headers["Cache-Control"] = "public, max-age=300"
	return res, err
}

// leave ends the membership a leave link's token opens (the token from the
// link's fragment, posted by the leave page).
func (p *Routes) leave(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in struct {
		Token string `json:"token"`
	}
	if err := r.Decode(&in); err != nil {
		return httpapi.Response{}, err
	}
	left, err := p.Invitations.Leave(ctx, in.Token)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, left)
}

// requestReset answers 202 whether or not an account has the address, in
// the same time (the service pads it to account.ResetFloor).
func (p *Routes) requestReset(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in struct {
		Email string `json:"email"`
	}
	if err := r.DecodeStrict(&in); err != nil {
		return httpapi.Response{}, err
	}
	if err := p.Resets.Request(ctx, in.Email, r.Event.RequestContext.HTTP.SourceIP, r.BaseURL(p.BaseURL)); err != nil {
		return httpapi.Response{}, err
	}
	return noBody(http.StatusAccepted), nil
}

// confirmReset sets a new password with the token from a reset link's
// fragment (posted by the reset page).
func (p *Routes) confirmReset(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := r.DecodeStrict(&in); err != nil {
		return httpapi.Response{}, err
	}
	if err := p.Resets.Confirm(ctx, in.Token, in.Password, r.Event.RequestContext.HTTP.SourceIP); err != nil {
		return httpapi.Response{}, err
	}
	return noBody(http.StatusNoContent), nil
}

// noBody is an answer without a body, which no cache keeps.
func noBody(status int) httpapi.Response {
	return httpapi.Response{StatusCode: status, Headers: map[string]string{"Cache-Control": "no-store"}}
}

func (p *Routes) resetPage(context.Context, *httpapi.Request) (httpapi.Response, error) {
	return htmlPage(resetPage, resetPageCSP), nil
}

func (p *Routes) page(context.Context, *httpapi.Request) (httpapi.Response, error) {
	return htmlPage(acceptPage, acceptPageCSP), nil
}

func (p *Routes) leavePage(context.Context, *httpapi.Request) (httpapi.Response, error) {
	return htmlPage(leavePage, leavePageCSP), nil
}

func (p *Routes) emailChangePage(context.Context, *httpapi.Request) (httpapi.Response, error) {
	return htmlPage(emailChangePage, emailChangePageCSP), nil
}

// confirmEmailChange makes the change the token from the confirmation
// link's fragment opens (posted by the email-change page).
func (p *Routes) confirmEmailChange(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in struct {
		Token string `json:"token"`
	}
	if err := r.DecodeStrict(&in); err != nil {
		return httpapi.Response{}, err
	}
	if err := p.EmailChanges.ConfirmEmailChange(ctx, in.Token); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "changed"})
}

// htmlPage serves a hosted page. It loads nothing from elsewhere and may not
// be framed; the token stays in the fragment and never appears in a Referer.
func htmlPage(page, csp string) httpapi.Response {
	return httpapi.Response{StatusCode: http.StatusOK, Body: page, Headers: map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "public, max-age=300",
		"Content-Security-Policy": csp,
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
	}}
}

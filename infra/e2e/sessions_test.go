package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/ddb"
)

type tokens struct {
	AccessToken  string `json:"accessToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
	RefreshToken string `json:"refreshToken"`
}

type sessionList struct {
	Sessions []struct {
		ID        string `json:"id"`
		UserAgent string `json:"userAgent"`
		Current   bool   `json:"current"`
	} `json:"sessions"`
}

// Sessions through the runner: sign-in opens one per device, refresh
// rotates, a spent token used again at once (a retry) or a forged secret
// ends nothing, one used again after the grace ends the session (its
// successor too),
// a person sees and ends their own devices' sessions, sign-out ends one.
func TestSessions(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	email := "ada-" + id + "@example.no"
	anon := &Client{t: t, base: s.APIURL}
	Provision(t, s, "Nordlys Care "+id, email)
	mustStatus(t, anon.Call("POST", "/invitations/accept", map[string]any{"token": InvitationToken(t, email, 1), "firstName": "Ada",
		"lastName": "Admin", "password": "northern lights over fjord", "acceptTerms": true, "termsVersion": "2026-01"}, nil), 201)

	signIn := func(userAgent string) tokens {
		t.Helper()
		device := &Client{t: t, base: s.APIURL, headers: map[string]string{"User-Agent": userAgent}}
		var tok tokens
		mustStatus(t, device.Call("POST", "/auth/sign-in", map[string]string{"email": email, "password": "northern lights over fjord"}, &tok), 200)
		if tok.RefreshToken == "" || tok.AccessToken == "" {
			t.Fatalf("sign-in gave %+v", tok)
		}
		return tok
	}
	refresh := func(refreshToken string, want int) tokens {
		t.Helper()
		var tok tokens
		var out any = &tok
		if want != 200 {
			out = nil
		}
		mustStatus(t, anon.Call("POST", "/auth/refresh", map[string]string{"refreshToken": refreshToken}, out), want)
		return tok
	}
	list := func(accessToken string) sessionList {
		t.Helper()
		var l sessionList
		mustStatus(t, (&Client{t: t, base: s.APIURL, token: accessToken}).Call("GET", "/me/sessions", nil, &l), 200)
		return l
	}

	laptop := signIn("Laptop/1.0")
	phone := signIn("Phone/2.0")

	// Refresh rotates; the new access token works and names its session.
	next := refresh(laptop.RefreshToken, 200)
	if next.RefreshToken == laptop.RefreshToken || next.TokenType != "Bearer" {
		t.Fatalf("refresh gave %+v", next)
	}
	l := list(next.AccessToken)
	if len(l.Sessions) != 2 {
		t.Fatalf("sessions %+v", l)
	}
	var laptopID, phoneID string
	for _, ss := range l.Sessions {
		switch ss.UserAgent {
		case "Laptop/1.0":
			laptopID = ss.ID
			if !ss.Current {
				t.Errorf("the laptop's session is not marked current: %+v", l)
			}
		case "Phone/2.0":
			phoneID = ss.ID
			if ss.Current {
				t.Errorf("the phone's session is marked current: %+v", l)
			}
		}
	}
	if laptopID == "" || phoneID == "" {
		t.Fatalf("sessions %+v", l)
	}

	// The spent token again at once (a client's retry) and a forged secret
	// (the ids are no secret): 401, and both sessions go on.
	refresh(laptop.RefreshToken, 401)
	parts := strings.Split(next.RefreshToken, ".")
	refresh(parts[0]+"."+parts[1]+"."+strings.Repeat("A", 43), 401)
	if l := list(next.AccessToken); len(l.Sessions) != 2 {
		t.Fatalf("a retry or a forged secret ended a session: %+v", l)
	}

	// The spent token used again after the grace: 401, and the token that
	// replaced it is dead too. The phone's session goes on. (The rotation
	// is backdated in the table rather than waited for.)
	store := ddb.New(testenv.DynamoDBClient(), s.Table, time.Now)
	ctx := context.Background()
	st, err := store.Session(ctx, parts[0], parts[1])
	if err != nil || st == nil {
		t.Fatalf("read the laptop's session: %v", err)
	}
	st.RotatedAt = st.RotatedAt.Add(-account.RefreshGrace)
	if _, err := store.DeleteSession(ctx, st.UserID, st.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := store.PutSession(ctx, *st); err != nil {
		t.Fatal(err)
	}
	refresh(laptop.RefreshToken, 401)
	refresh(next.RefreshToken, 401)
	phoneNext := refresh(phone.RefreshToken, 200)
	if l := list(phoneNext.AccessToken); len(l.Sessions) != 1 || l.Sessions[0].ID != phoneID {
		t.Fatalf("after the reuse: %+v", l)
	}

	// The phone ends a third device's session; ending it again, or a
	// session that is not the caller's, is a 404.
	tablet := signIn("Tablet/3.0")
	tabletList := list(tablet.AccessToken)
	var tabletID string
	for _, ss := range tabletList.Sessions {
		if ss.Current {
			tabletID = ss.ID
		}
	}
	phoneClient := &Client{t: t, base: s.APIURL, token: phoneNext.AccessToken}
	mustStatus(t, phoneClient.Call("DELETE", "/me/sessions/"+tabletID, nil, nil), 204)
	mustStatus(t, phoneClient.Call("DELETE", "/me/sessions/"+tabletID, nil, nil), 404)
	refresh(tablet.RefreshToken, 401)

	mustStatus(t, phoneClient.Call("DELETE", "/me/sessions/"+laptopID, nil, nil), 404) // ended by the reuse

	// Unknown members are named back, not ignored.
	var p problem
	mustStatus(t, anon.Call("POST", "/auth/refresh", map[string]any{"refreshToken": phoneNext.RefreshToken, "rememberMe": true}, &p), 422)
	if len(p.Errors) != 1 || p.Errors[0].Field != "rememberMe" {
		t.Fatalf("unknown member: %+v", p)
	}

	// Sign-out ends the session; again is no error.
	mustStatus(t, anon.Call("POST", "/auth/sign-out", map[string]string{"refreshToken": phoneNext.RefreshToken}, nil), 204)
	mustStatus(t, anon.Call("POST", "/auth/sign-out", map[string]string{"refreshToken": phoneNext.RefreshToken}, nil), 204)
	refresh(phoneNext.RefreshToken, 401)
}

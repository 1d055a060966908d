package e2e

import (
	"context"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// An organisation's own terms, end to end: the settings set v1, the
// invitation's preview names them, accepting records v1; v2 makes consent
// due on GET /me until POST /me/consent records it; a stale version is a
// 409 naming the current one.
func TestTermsPerOrganisationThroughRunner(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adaEmail, kariEmail := "ada-"+id+"@example.no", "kari-"+id+"@example.no"
	anon := &Client{t: t, base: s.APIURL}
	orgID := Provision(t, s, "Terms Care "+id, adaEmail)
	ada := signUp(t, s, adaEmail, "admin passphrase long", 1)

	setTerms := func(version string) {
		t.Helper()
		var st struct {
			TermsURL     string `json:"termsUrl"`
			TermsVersion string `json:"termsVersion"`
		}
		mustStatus(t, ada.Call("PATCH", "/orgs/"+orgID+"/settings", map[string]any{
			"termsUrl": "https://terms.example/" + version, "termsVersion": version}, &st), 200)
		if st.TermsVersion != version || st.TermsURL != "https://terms.example/"+version {
			t.Fatalf("settings %+v", st)
		}
	}
	mustStatus(t, ada.Call("PATCH", "/orgs/"+orgID+"/settings", map[string]any{"termsUrl": "http://terms.example/v1", "termsVersion": "v1"}, nil), 422)
	setTerms("v1")

	mustStatus(t, ada.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": kariEmail, "role": "member"}, nil), 201)
	token := InvitationToken(t, kariEmail, 1)
	var pv struct {
		TermsURL     string `json:"termsUrl"`
		TermsVersion string `json:"termsVersion"`
	}
	mustStatus(t, anon.Call("POST", "/invitations/preview", map[string]string{"token": token}, &pv), 200)
	if pv.TermsURL != "https://terms.example/v1" || pv.TermsVersion != "v1" {
		t.Fatalf("preview %+v", pv)
	}
	accept := map[string]any{"token": token, "firstName": "Kari", "lastName": "N", "password": "kari passphrase long",
		"acceptTerms": true, "termsVersion": "2026-01"}
	mustStatus(t, anon.Call("POST", "/invitations/accept", accept, nil), 422)
	accept["termsVersion"] = "v1"
	mustStatus(t, anon.Call("POST", "/invitations/accept", accept, nil), 201)
	var session struct {
		AccessToken string `json:"accessToken"`
	}
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": kariEmail, "password": "kari passphrase long"}, &session), 200)
	kari := &Client{t: t, base: s.APIURL, token: session.AccessToken}

	type terms struct {
		URL             string `json:"url"`
		Version         string `json:"version"`
		AcceptedVersion string `json:"acceptedVersion"`
		ConsentDue      bool   `json:"consentDue"`
	}
	myTerms := func() terms {
		t.Helper()
		var me struct {
			Memberships []struct {
				OrgID        string `json:"orgId"`
				TermsVersion string `json:"termsVersion"`
				Terms        *terms `json:"terms"`
			} `json:"memberships"`
		}
		mustStatus(t, kari.Call("GET", "/me", nil, &me), 200)
		if len(me.Memberships) != 1 || me.Memberships[0].Terms == nil {
			t.Fatalf("me %+v", me)
		}
		return *me.Memberships[0].Terms
	}
	if got := myTerms(); got.ConsentDue || got.AcceptedVersion != "v1" || got.Version != "v1" {
		t.Fatalf("accepted v1: %+v", got)
	}

	setTerms("v2")
	if got := myTerms(); !got.ConsentDue || got.AcceptedVersion != "v1" || got.Version != "v2" || got.URL != "https://terms.example/v2" {
		t.Fatalf("v2 due: %+v", got)
	}
	var p struct {
		Code    string `json:"code"`
		Current string `json:"currentTermsVersion"`
	}
	mustStatus(t, kari.Call("POST", "/me/consent", map[string]string{"orgId": orgID, "termsVersion": "v1"}, &p), 409)
	if p.Code != "conflict" || p.Current != "v2" {
		t.Fatalf("stale: %+v", p)
	}
	mustStatus(t, kari.Call("POST", "/me/consent", map[string]string{"orgId": "nope", "termsVersion": "v2"}, nil), 404)
	mustStatus(t, kari.Call("POST", "/me/consent", map[string]any{"orgId": orgID, "termsVersion": "v2", "extra": 1}, nil), 422)
	mustStatus(t, kari.Call("POST", "/me/consent", map[string]string{"orgId": orgID, "termsVersion": "v2"}, nil), 204)
	if got := myTerms(); got.ConsentDue || got.AcceptedVersion != "v2" {
		t.Fatalf("after consent: %+v", got)
	}

	var trail struct {
		Items []struct {
			Action string         `json:"action"`
			After  map[string]any `json:"after"`
		} `json:"items"`
	}
	mustStatus(t, ada.Call("GET", "/orgs/"+orgID+"/audit", nil, &trail), 200)
	seen := map[string]bool{}
	for _, e := range trail.Items {
		seen[e.Action+" "+anyString(e.After["termsVersion"])] = true
	}
	for _, want := range []string{"settings.updated v2", "invitation.accepted v1", "terms.accepted v2"} {
		if !seen[want] {
			t.Errorf("no %q in the audit trail: %v", want, seen)
		}
	}
}

func anyString(v any) string { s, _ := v.(string); return s }

// A German browser opening an expired invitation link reads why in German;
// the code, type and title stay as clients switch on them.
func TestExpiredLinkDetailInTheCallersLanguageThroughRunner(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	orgID := Provision(t, s, "Sprache "+id, "ada-"+id+"@example.no")
	token, hash, _ := opaque.New()
	now := time.Now().UTC().Truncate(time.Second)
	inv := invite.Invitation{ID: invite.NewSortableID(now), OrgID: orgID, OrgName: "Sprache " + id,
		Email: "late-" + id + "@example.no", Language: "de", Role: "member", Units: []string{}, Attributes: org.Attributes{},
		Status: invite.Pending, DeliveryStatus: invite.DeliverySent, InvitedBy: "system", TokenHash: hash,
		ExpiresAt: now.Add(-time.Hour)}
	store := ddb.New(testenv.DynamoDBClient(), s.Table, time.Now)
	if err := store.LoadInvitations(context.Background(), testenv.DynamoDBClient(), []invite.Invitation{inv}, true); err != nil {
		t.Fatal(err)
	}
	german := &Client{t: t, base: s.APIURL, headers: map[string]string{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}}
	var p struct {
		Type, Title, Code, Detail string
	}
	res := german.Call("POST", "/invitations/preview", map[string]string{"token": token}, &p)
	mustStatus(t, res, 410)
	if res.Header.Get("Content-Language") != "de" || p.Detail != "diese Einladung ist abgelaufen; bitten Sie um eine neue" ||
		p.Code != "gone" || p.Type != "urn:onboarding:problem:gone" || p.Title != "Gone" {
		t.Fatalf("%s %+v", res.Header.Get("Content-Language"), p)
	}
}

package authtoken_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"onboarding/shared/authtoken"
	"onboarding/shared/signer"
)

func TestIssueVerify(t *testing.T) {
	key, _ := signer.NewKey()
	now := time.Now()
	clock := func() time.Time { return now }
	iss, err := authtoken.NewIssuer(context.Background(), signer.Local{Key: key}, "urn:test", 15*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok, life, err := iss.Issue(context.Background(), "u1", "kari@example.no", "s1")
	if err != nil || life != 15*time.Minute {
		t.Fatal(err)
	}
	v := authtoken.NewVerifier("urn:test", &key.PublicKey)
	c, err := v.Verify(tok)
	if err != nil || c.Subject != "u1" || c.Email != "kari@example.no" || c.SessionID != "s1" {
		t.Fatalf("verify: %+v %v", c, err)
	}

	other, _ := signer.NewKey()
	cases := map[string]*authtoken.Verifier{
		"other issuer": authtoken.NewVerifier("urn:other", &key.PublicKey),
		"other key":    authtoken.NewVerifier("urn:test", &other.PublicKey),
	}
	for name, v := range cases {
		if _, err := v.Verify(tok); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	// Tampered payload.
	parts := strings.Split(tok, ".")
	if _, err := v.Verify(parts[0] + "." + parts[1] + "x." + parts[2]); err == nil {
		t.Error("tampered token verified")
	}
	// Expired.
	now = now.Add(-time.Hour)
	old, _, _ := iss.Issue(context.Background(), "u1", "e@x.no", "")
	if _, err := v.Verify(old); err == nil {
		t.Error("expired token verified")
	}
	// alg none.
	if _, err := v.Verify("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9."); err == nil {
		t.Error("alg none verified")
	}
}

func TestJWKRoundTrip(t *testing.T) {
	key, _ := signer.NewKey()
	j := authtoken.PublicJWK(&key.PublicKey)
	back, err := authtoken.KeyFromJWK(j)
	if err != nil || !back.Equal(&key.PublicKey) || j.Kid != authtoken.Thumbprint(&key.PublicKey) {
		t.Fatalf("round trip: %v", err)
	}
}

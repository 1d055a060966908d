package authtoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto/x509"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func TestIssueVerify(t *testing.T) {
	key, _ := NewKey()
	now := time.Now()
	clock := func() time.Time { return now }
	iss, err := NewIssuer(context.Background(), KeySigner{key}, "urn:test", 15*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok, life, err := iss.Issue(context.Background(), "u1", "kari@example.no")
	if err != nil || life != 15*time.Minute {
		t.Fatal(err)
	}
	v := NewVerifier("urn:test", &key.PublicKey)
	c, err := v.Verify(tok)
	if err != nil || c.Subject != "u1" || c.Email != "kari@example.no" {
		t.Fatalf("verify: %+v %v", c, err)
	}

	other, _ := NewKey()
	cases := map[string]*Verifier{
		"other issuer": NewVerifier("urn:other", &key.PublicKey),
		"other key":    NewVerifier("urn:test", &other.PublicKey),
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
	old, _, _ := iss.Issue(context.Background(), "u1", "e@x.no")
	if _, err := v.Verify(old); err == nil {
		t.Error("expired token verified")
	}
	// alg none.
	if _, err := v.Verify("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9."); err == nil {
		t.Error("alg none verified")
	}
}

func TestJWKRoundTrip(t *testing.T) {
	key, _ := NewKey()
	j := PublicJWK(&key.PublicKey)
	back, err := KeyFromJWK(j)
	if err != nil || !back.Equal(&key.PublicKey) || j.Kid != Thumbprint(&key.PublicKey) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.pem")
	a, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKeyFile(path)
	if err != nil || !a.Equal(b) {
		t.Fatalf("reload: %v", err)
	}
}

// fakeKMS signs like KMS does: DER signatures, DER public keys.
type fakeKMS struct{ key *ecdsa.PrivateKey }

func (f fakeKMS) Sign(_ context.Context, in *kms.SignInput, _ ...func(*kms.Options)) (*kms.SignOutput, error) {
	digest := sha256.Sum256(in.Message)
	der, err := ecdsa.SignASN1(nil, f.key, digest[:])
	return &kms.SignOutput{Signature: der}, err
}
func (f fakeKMS) GetPublicKey(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	der, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	return &kms.GetPublicKeyOutput{PublicKey: der}, err
}

func TestKMSSignerShapes(t *testing.T) {
	key, _ := NewKey()
	s := &KMSSigner{Client: fakeKMS{key}, KeyID: "k"}
	digest := sha256.Sum256([]byte("x"))
	raw, err := s.Sign(context.Background(), []byte("x"))
	if err != nil || len(raw) != 64 {
		t.Fatalf("raw signature %d %v", len(raw), err)
	}
	r, sv := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{r, sv})
	if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], der) {
		t.Fatal("converted signature does not verify")
	}
	pub, err := s.PublicKey(context.Background())
	if err != nil || !pub.Equal(&key.PublicKey) {
		t.Fatalf("public key: %v", err)
	}
}

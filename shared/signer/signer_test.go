package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

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
	s := &KMS{Client: fakeKMS{key}, KeyID: "k"}
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

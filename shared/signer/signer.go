package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"onboarding/shared/authtoken"
)

// KMSClient is the part of the KMS API the signer uses.
type KMSClient interface {
	Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

// KMS signs with an ECC_NIST_P256 KMS key; the private key never
// leaves KMS. The public key is read once and cached.
type KMS struct {
	Client KMSClient
	KeyID  string

	once sync.Once
	pub  *ecdsa.PublicKey
	err  error
}

// Sign asks KMS to sign message (KMS hashes it with SHA-256; a JWT's signing
// input is far below the 4 KB limit of a raw message) and converts KMS's DER
// signature to the raw r||s form JWS uses.
func (s *KMS) Sign(ctx context.Context, message []byte) ([]byte, error) {
	if len(message) > 4096 {
		return nil, errors.New("kms sign: message over 4 KB")
	}
	out, err := s.Client.Sign(ctx, &kms.SignInput{
		KeyId: &s.KeyID, Message: message,
		MessageType: types.MessageTypeRaw, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, fmt.Errorf("kms sign: %w", err)
	}
	return rawSignature(out.Signature)
}

// PublicKey returns the key's public half.
func (s *KMS) PublicKey(ctx context.Context) (*ecdsa.PublicKey, error) {
	s.once.Do(func() {
		out, err := s.Client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: &s.KeyID})
		if err != nil {
			s.err = fmt.Errorf("kms get public key: %w", err)
			return
		}
		s.pub, s.err = parsePublic(out.PublicKey)
	})
	return s.pub, s.err
}

func parsePublic(der []byte) (*ecdsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("signing key is not ECC P-256")
	}
	return ec, nil
}

// rawSignature converts an ASN.1 DER ECDSA signature to 64-byte r||s.
func rawSignature(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return nil, fmt.Errorf("parse signature: %w", err)
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

// Local signs with an in-process key; the local runner uses one kept in a
// file, and tests use fresh ones.
type Local struct{ Key *ecdsa.PrivateKey }

// Sign signs message's SHA-256.
func (s Local) Sign(_ context.Context, message []byte) ([]byte, error) {
	digest := sha256.Sum256(message)
	der, err := ecdsa.SignASN1(rand.Reader, s.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return rawSignature(der)
}

// PublicKey returns the public half.
func (s Local) PublicKey(context.Context) (*ecdsa.PublicKey, error) { return &s.Key.PublicKey, nil }

// NewKey returns a fresh P-256 key.
func NewKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// LoadOrCreateKeyFile reads a PEM EC private key, creating the file (0600)
// with a fresh key when it does not exist.
func LoadOrCreateKeyFile(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err := NewKey()
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
			return nil, err
		}
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	k, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Load returns the signer a deployment configures (the key file at
// keyFile when set, as the local runner does; else the KMS key keyID) and
// its public key, read once.
func Load(ctx context.Context, keyFile string, client KMSClient, keyID string) (authtoken.Signer, *ecdsa.PublicKey, error) {
	signer, err := newSigner(keyFile, client, keyID)
	if err != nil {
		return nil, nil, err
	}
	key, err := signer.PublicKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	return signer, key, nil
}

func newSigner(keyFile string, client KMSClient, keyID string) (authtoken.Signer, error) {
	if keyFile != "" {
		key, err := LoadOrCreateKeyFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("signing key file: %w", err)
		}
		return Local{Key: key}, nil
	}
	if keyID == "" {
		return nil, errors.New("no signing key: set SIGNING_KEY_ID (or SIGNING_KEY_FILE locally)")
	}
	return &KMS{Client: client, KeyID: keyID}, nil
}

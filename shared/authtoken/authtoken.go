// Package authtoken issues and verifies the service's access tokens: ES256
// JWTs signed by a key that, in AWS, never leaves KMS (locally, a key file in
// the runner's state folder). It also publishes the public key as a JWKS.
package authtoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Audience is the aud claim of tokens for the admin API.
const Audience = "onboarding-api"

// Signer signs with a P-256 key (ECDSA with SHA-256, as ES256 needs).
type Signer interface {
	// Sign returns the raw (r||s, 64 bytes) signature of message's SHA-256.
	Sign(ctx context.Context, message []byte) ([]byte, error)
	PublicKey(ctx context.Context) (*ecdsa.PublicKey, error)
}

// Issuer issues access tokens.
type Issuer struct {
	Signer   Signer
	Issuer   string
	Lifetime time.Duration
	Now      func() time.Time

	kid string
}

// NewIssuer returns an issuer; it reads the public key once, for the key id.
func NewIssuer(ctx context.Context, s Signer, issuer string, lifetime time.Duration, now func() time.Time) (*Issuer, error) {
	pub, err := s.PublicKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("read signing public key: %w", err)
	}
	return &Issuer{Signer: s, Issuer: issuer, Lifetime: lifetime, Now: now, kid: Thumbprint(pub)}, nil
}

// Claims are the claims of an access token.
type Claims struct {
	Email string `json:"email"`
	// SessionID names the session (refresh token family) the token was
	// issued in; empty for tokens issued outside one.
	SessionID string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// Issue returns a signed token for a user, issued in session sessionID
// ("" for none).
func (i *Issuer) Issue(ctx context.Context, userID, email, sessionID string) (string, time.Duration, error) {
	now := i.Now().UTC().Truncate(time.Second)
	claims := Claims{Email: email, SessionID: sessionID, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: i.Issuer, Subject: userID, Audience: jwt.ClaimStrings{Audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(i.Lifetime)),
	}}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": i.kid})
	body, err := json.Marshal(claims)
	if err != nil {
		return "", 0, err
	}
	b64 := base64.RawURLEncoding
	signing := b64.EncodeToString(header) + "." + b64.EncodeToString(body)
	sig, err := i.Signer.Sign(ctx, []byte(signing))
	if err != nil {
		return "", 0, fmt.Errorf("sign token: %w", err)
	}
	return signing + "." + b64.EncodeToString(sig), i.Lifetime, nil
}

// Verifier checks tokens against known public keys.
type Verifier struct {
	Issuer string
	keys   map[string]*ecdsa.PublicKey
	parser *jwt.Parser
}

// NewVerifier returns a verifier that trusts the given keys for issuer.
func NewVerifier(issuer string, keys ...*ecdsa.PublicKey) *Verifier {
	v := &Verifier{Issuer: issuer, keys: map[string]*ecdsa.PublicKey{}}
	for _, k := range keys {
		v.keys[Thumbprint(k)] = k
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second),
	)
	return v
}

// Verify parses and checks a token (signature, issuer, audience, time) and
// returns its claims.
func (v *Verifier) Verify(token string) (Claims, error) {
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, ok := v.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id")
		}
		return k, nil
	})
	if err != nil {
		return Claims{}, err
	}
	if c.Subject == "" {
		return Claims{}, fmt.Errorf("token has no subject")
	}
	return c, nil
}

// BearerToken extracts the token from an Authorization header value.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// JWK is a public key in JSON Web Key form.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK returns k as a JWK.
func PublicJWK(k *ecdsa.PublicKey) JWK {
	x, y := coords(k)
	return JWK{Kty: "EC", Crv: "P-256", X: x, Y: y, Use: "sig", Alg: "ES256", Kid: Thumbprint(k)}
}

// Thumbprint is the RFC 7638 JWK thumbprint of k, used as its key id.
func Thumbprint(k *ecdsa.PublicKey) string {
	x, y := coords(k)
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func coords(k *ecdsa.PublicKey) (x, y string) {
	b64 := base64.RawURLEncoding
	pad := func(n *big.Int) []byte { return n.FillBytes(make([]byte, 32)) }
	return b64.EncodeToString(pad(k.X)), b64.EncodeToString(pad(k.Y))
}

// KeyFromJWK parses an EC P-256 JWK.
func KeyFromJWK(j JWK) (*ecdsa.PublicKey, error) {
	if j.Kty != "EC" || j.Crv != "P-256" {
		return nil, fmt.Errorf("unsupported key %s/%s", j.Kty, j.Crv)
	}
	b64 := base64.RawURLEncoding
	x, err := b64.DecodeString(j.X)
	if err != nil {
		return nil, err
	}
	y, err := b64.DecodeString(j.Y)
	if err != nil {
		return nil, err
	}
	k := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	if !k.Curve.IsOnCurve(k.X, k.Y) {
		return nil, fmt.Errorf("point not on curve")
	}
	return k, nil
}

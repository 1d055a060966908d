package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretBytes is the length of a generated webhook key (Standard Webhooks
// asks for 24 to 64 bytes).
const SecretBytes = 32

// NewSecret generates a webhook signing secret.
func NewSecret() (string, error) {
	b := make([]byte, SecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

// Headers are a message's Standard Webhooks headers: its id (the same on
// every attempt), the time of sending and the signature by each secret.
func Headers(secrets []string, id string, at time.Time, body []byte) (map[string]string, error) {
	sig, err := Sign(secrets, id, at, body)
	if err != nil {
		return nil, err
	}
	return map[string]string{"content-type": "application/json", "webhook-id": id,
		"webhook-timestamp": fmt.Sprint(at.Unix()), "webhook-signature": sig}, nil
}

// Sign returns the Standard Webhooks signature header for a message: a
// space-separated "v1,<base64 HMAC-SHA256>" for each secret, over
// "<id>.<unix seconds>.<body>".
func Sign(secrets []string, id string, at time.Time, body []byte) (string, error) {
	var sigs []string
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			return "", fmt.Errorf("webhook secret is not base64")
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}

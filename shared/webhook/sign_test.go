package webhook

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestSecretsAndSignature(t *testing.T) {
	s, err := NewSecret()
	if err != nil || !strings.HasPrefix(s, "whsec_") {
		t.Fatal(s, err)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if len(key) < 24 {
		t.Fatalf("%d bytes", len(key))
	}
	// The Standard Webhooks specification's example.
	sig, err := Sign([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || sig != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("%s %v", sig, err)
	}
}

// The headers carry the id, the time in Unix seconds and one signature per
// secret, newest first, as the specification's example signs them.
func TestHeaders(t *testing.T) {
	spec := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	other, _ := NewSecret()
	at := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	h, err := Headers([]string{other, spec}, "msg_p5jXN8AQM9LWM0D4loKWxJek", at, body)
	if err != nil {
		t.Fatal(err)
	}
	newest, _ := Sign([]string{other}, "msg_p5jXN8AQM9LWM0D4loKWxJek", at, body)
	want := map[string]string{"content-type": "application/json", "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
		"webhook-timestamp": "1614265330", "webhook-signature": newest + " v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
	if len(h) != len(want) {
		t.Fatalf("%v", h)
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("%s: %q, want %q", k, h[k], v)
		}
	}
	if _, err := Headers([]string{"whsec_not base64!"}, "msg", at, body); err == nil {
		t.Fatal("a secret that is not base64 signed")
	}
}

package partner

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestWebhookURLs(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://alarm.example/hooks": true, "http://alarm.example/hooks": false, "https://10.1.2.3/x": false,
		"https://169.254.169.254/": false, "https://[::1]/x": false, "https://localhost/x": false, "ftp://alarm.example": false,
		"https://user:pw@alarm.example/": false, "/relative": false, "https://8.8.8.8/x": true,
	} {
		if err := checkURL(url, false); (err == nil) != ok {
			t.Errorf("%s: %v", url, err)
		}
	}
	if err := checkURL("http://127.0.0.1:8080/x", true); err != nil {
		t.Errorf("loopback allowed locally: %v", err)
	}
}

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

func TestRotationKeepsTheOldSecretForItsGrace(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	url := &struct {
		URL string `json:"url"`
	}{"https://alarm.example/hooks"}
	p, first, err := Apply(nil, Config{Name: "Vakt", Webhook: url}, Rules{}, now)
	if err != nil || first == "" {
		t.Fatal(err)
	}
	hours := 2
	p2, second, err := Apply(&p, Config{Name: "Vakt", Webhook: url, RotateSecret: true, SecretGraceHours: &hours}, Rules{}, now)
	if err != nil || second == "" || second == first {
		t.Fatal(err)
	}
	if live := p2.Webhook.LiveSecrets(now.Add(time.Hour)); len(live) != 2 || live[0] != second {
		t.Fatalf("within the grace: %d", len(live))
	}
	if live := p2.Webhook.LiveSecrets(now.Add(3 * time.Hour)); len(live) != 1 || live[0] != second {
		t.Fatalf("after the grace: %d", len(live))
	}
	if _, again, _ := Apply(&p2, Config{Name: "Vakt 24", Webhook: url}, Rules{}, now); again != "" {
		t.Fatal("a save without rotation made a new secret")
	}
	if _, _, err := Apply(nil, Config{Name: "Vakt"}, Rules{}, now); err == nil {
		t.Fatal("a partner without a channel")
	}
}

package poster_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/poster"
	"onboarding/shared/webhook"
)

// A webhook that cannot be reached fails without its URL in the error:
// the error is logged and shown as the delivery's last error, and a URL's
// query may hold the partner's credentials.
func TestUnreachableWebhookErrorHasNoURL(t *testing.T) {
	_, err := poster.New(true).Post(context.Background(), "http://127.0.0.1:1/hook?key=partner-credential", nil, []byte("{}"))
	if err == nil || strings.Contains(err.Error(), "partner-credential") {
		t.Fatalf("%v", err)
	}
}

// Without the local runner's allowance, a webhook whose host resolves to a
// loopback, private or link-local address is never connected to.
func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	p := poster.New(false)
	recv := testenv.NewReceiver(t, "")
	for _, url := range []string{recv.URL, "http://localhost:1/x", "http://169.254.169.254/latest", "http://10.0.0.1/x"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := p.Post(ctx, url, nil, []byte("{}"))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "not a public one") {
			t.Errorf("%s: %v", url, err)
		}
	}
	if len(recv.Messages()) != 0 {
		t.Fatal("posted to a loopback receiver")
	}
	for _, ip := range []string{"8.8.8.8", "2001:4860:4860::8888"} {
		if !webhook.PublicAddress(netip.MustParseAddr(ip)) {
			t.Errorf("%s is public", ip)
		}
	}
}

// The local runner's allowance is loopback only: its receivers are on this
// machine, and a private or link-local address stays refused.
func TestLoopbackAllowanceAdmitsOnlyLoopback(t *testing.T) {
	p := poster.New(true)
	recv := testenv.NewReceiver(t, "")
	recv.Answer(202, 0)
	if status, err := p.Post(context.Background(), recv.URL, nil, []byte("{}")); err != nil || status != 202 {
		t.Fatalf("loopback receiver: %d %v", status, err)
	}
	for _, url := range []string{"http://169.254.169.254/latest", "http://10.0.0.1/x", "http://192.168.1.1/x", "http://[fd00::1]/x", "http://[64:ff9b::7f00:1]/x"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := p.Post(ctx, url, nil, []byte("{}"))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "not a public one") {
			t.Errorf("%s: %v", url, err)
		}
	}
}

// A message posted with Headers is accepted by a receiver that verifies it
// as the specification says (testenv's, written apart from this package)
// with either of two live secrets, and refused by one that trusts neither.
func TestPostedMessageVerifies(t *testing.T) {
	older, _ := webhook.NewSecret()
	newer, _ := webhook.NewSecret()
	body := []byte(`{"type":"worker.events","data":{"events":[]}}`)
	p := poster.New(true)
	recv := testenv.NewReceiver(t, older)
	for i, trusted := range []string{older, newer, "whsec_" + strings.Repeat("A", 44)} {
		recv.Trust(trusted)
		h, err := webhook.Headers([]string{newer, older}, "msg_"+string(rune('a'+i)), time.Now(), body)
		if err != nil {
			t.Fatal(err)
		}
		status, err := p.Post(context.Background(), recv.URL, h, body)
		if want := map[bool]int{true: 204, false: 401}[i < 2]; err != nil || status != want {
			t.Fatalf("trusting secret %d: %d %v, want %d", i, status, err, want)
		}
	}
	if len(recv.Messages()) != 2 || len(recv.Rejected()) != 1 {
		t.Fatalf("%d accepted, rejected %v", len(recv.Messages()), recv.Rejected())
	}
}

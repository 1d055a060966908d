package webhook

import (
	"net/netip"
	"testing"

	"onboarding/shared/webhook/webhooktest"
)

func TestWebhookURLs(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://alarm.example/hooks": true, "http://alarm.example/hooks": false, "https://10.1.2.3/x": false,
		"https://169.254.169.254/": false, "https://[::1]/x": false, "https://localhost/x": false, "ftp://alarm.example": false,
		"https://user:pw@alarm.example/": false, "/relative": false, "https://8.8.8.8/x": true,
		"https://[64:ff9b::a00:1]/x": false, "https://[2002:a9fe:a9fe::1]/x": false, "https://[::ffff:10.0.0.1]/x": false,
	} {
		if err := CheckURL(url, false); (err == nil) != ok {
			t.Errorf("%s: %v", url, err)
		}
	}
	if err := CheckURL("http://127.0.0.1:8080/x", true); err != nil {
		t.Errorf("loopback allowed locally: %v", err)
	}
	// Locally, only loopback joins the public addresses.
	for _, url := range []string{"http://10.0.0.1/x", "https://10.0.0.1/x", "https://169.254.169.254/", "http://[fe80::1]/x"} {
		if CheckURL(url, true) == nil {
			t.Errorf("%s allowed locally", url)
		}
	}
}

// An IPv6 address that carries an IPv4 one (NAT64, 6to4, mapped,
// compatible, translated, ISATAP, Teredo) is refused when that IPv4 address
// is not public: a translator or tunnel would carry the connection there.
// NAT64, Teredo and the IPv4-compatible form are refused whatever they carry.
// (The poster's dialer is tested on the same addresses.)
func TestEmbeddedIPv4AddressesAreChecked(t *testing.T) {
	for addr, public := range webhooktest.Addresses {
		if got := PublicAddress(netip.MustParseAddr(addr)); got != public {
			t.Errorf("PublicAddress(%s) = %v", addr, got)
		}
	}
}

package poster

import (
	"errors"
	"net/netip"
	"testing"

	"onboarding/shared/webhook"
	"onboarding/shared/webhook/webhooktest"
)

// Addresses that are not public, and whether each is loopback (an IPv4-mapped
// loopback address is: the socket connects to 127.0.0.1).
var notPublic = map[string]bool{
	"127.0.0.1": true, "127.1.2.3": true, "::1": true, "::ffff:127.0.0.1": true,
	"10.0.0.1": false, "192.168.1.1": false, "172.16.0.1": false, "169.254.169.254": false, "100.64.0.1": false,
	"0.0.0.0": false, "::": false, "fe80::1": false, "fd00::1": false, "64:ff9b::127.0.0.1": false, "::127.0.0.1": false,
}

// The dialer refuses exactly the addresses that are not public (webhook's
// rules, tested on the same addresses); allowing loopback admits loopback
// addresses and nothing else.
func TestDialerRefusesWhatIsNotPublic(t *testing.T) {
	for addr, public := range webhooktest.Addresses {
		address := netip.AddrPortFrom(netip.MustParseAddr(addr), 443).String()
		for _, allow := range []bool{false, true} {
			want := public || allow && notPublic[addr]
			if err := refuse(allow)("tcp", address, nil); (err == nil) != want {
				t.Errorf("dialling %s (loopback allowed: %v): %v", addr, allow, err)
			}
		}
	}
	for addr, loopback := range notPublic {
		address := netip.AddrPortFrom(netip.MustParseAddr(addr), 80).String()
		if err := refuse(false)("tcp", address, nil); !errors.Is(err, webhook.ErrPrivateAddress) {
			t.Errorf("dialling %s without loopback allowed: %v", addr, err)
		}
		if err := refuse(true)("tcp", address, nil); (err == nil) != loopback {
			t.Errorf("dialling %s with loopback allowed: %v", addr, err)
		}
	}
}

package webhook

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// CheckURL admits HTTPS endpoints at a public address, and http on a
// loopback address when allowed (local development). The dialer checks
// the address again after name resolution (shared/poster).
func CheckURL(raw string, loopback bool) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 2000 {
		return fmt.Errorf("not an absolute URL")
	}
	if loopback && isLoopback(u.Hostname()) && (u.Scheme == "http" || u.Scheme == "https") {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf("the webhook must use https")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !PublicAddress(ip) || isLoopback(u.Hostname()) {
		return fmt.Errorf("the webhook must be at a public address")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Ranges PublicAddress refuses beyond the standard library's tests.
var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	sharedNAT   = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT
	// IPv6 addresses that a gateway or tunnel turns into IPv4 connections
	// the dialler never sees: NAT64 (RFC 6052, and RFC 8215's local-use
	// prefix), Teredo, and the deprecated IPv4-compatible form. No
	// webhook lives at one, so they are refused whatever they carry.
	translated = []netip.Prefix{
		netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48"),
		netip.MustParsePrefix("2001::/32"), netip.MustParsePrefix("::/96"),
	}
	sixToFour = netip.MustParsePrefix("2002::/16")
	siit      = netip.MustParsePrefix("::ffff:0:0:0/96") // IPv4-translated (RFC 2765)
)

// PublicAddress reports whether ip is a public unicast address. An IPv6
// address that carries an IPv4 one (mapped, translated, 6to4, ISATAP) is
// public only if that IPv4 address is; NAT64, Teredo and IPv4-compatible
// addresses never are.
func PublicAddress(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("") // a zoned address matches no prefix
	if ip.Is4() {
		return publicIPv4(ip)
	}
	for _, p := range translated {
		if p.Contains(ip) {
			return false
		}
	}
	if v4, ok := embeddedIPv4(ip); ok && !publicIPv4(v4) {
		return false
	}
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast()
}

func publicIPv4(ip netip.Addr) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!sharedNAT.Contains(ip) && !thisNetwork.Contains(ip)
}

// embeddedIPv4 is the IPv4 address an IPv6 address carries: a 6to4
// prefix's (bits 16 to 48), an IPv4-translated address's or an ISATAP
// interface id's (the last 32 bits).
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	case siit.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case b[8]&^0x03 == 0 && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe:
		// ISATAP: 00-00-5E-FE, the u and g bits possibly set.
		return netip.AddrFrom4([4]byte(b[12:16])), true
	}
	return netip.Addr{}, false
}

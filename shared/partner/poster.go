package partner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	neturl "net/url"
	"syscall"
	"time"
)

// HTTPPoster posts webhooks over HTTP. Redirects are not followed (a
// moved endpoint answers 3xx, which counts as a failure): the partner's
// configured URL is the only place events go. Unless AllowPrivate is set
// (the local runner), it refuses to connect to addresses that are not
// public (loopback, private, link-local such as the instance metadata
// address, unspecified, or an IPv6 address that translates to one of
// those: see PublicAddress), whatever the URL's host name resolves to, so a
// webhook cannot be pointed inside the network the service runs in.
type HTTPPoster struct {
	Client *http.Client
}

// NewHTTPPoster returns a poster with WebhookTimeout as its limit.
func NewHTTPPoster(allowPrivate bool) HTTPPoster {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return HTTPPoster{Client: &http.Client{
		Timeout:       WebhookTimeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// errPrivateAddress is a webhook host that resolves inside the network.
var errPrivateAddress = errors.New("the webhook's address is not a public one")

// refusePrivate is a dialer control: it sees the address actually dialled,
// after name resolution.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("unexpected address %q", address)
	}
	if !PublicAddress(ip) {
		return errPrivateAddress
	}
	return nil
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

// Post sends body with header and returns the status code. The response
// body is read (up to 64 KB, so the connection can be reused) and dropped:
// it never reaches a log or the deliveries API.
func (p HTTPPoster) Post(ctx context.Context, url string, header map[string]string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.Header.Set("user-agent", "onboarding-partner-webhooks/1")
	res, err := p.Client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return 0, errPrivateAddress
		}
		// Without the URL, whose query may hold the partner's credentials:
		// the error is logged and shown as the delivery's last error.
		if ue := (*neturl.Error)(nil); errors.As(err, &ue) {
			return 0, ue.Err
		}
		return 0, err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}

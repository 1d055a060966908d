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
	"syscall"
	"time"
)

// HTTPPoster posts webhooks over HTTP. Redirects are not followed (a
// moved endpoint answers 3xx, which counts as a failure): the partner's
// configured URL is the only place events go. Unless AllowPrivate is set
// (the local runner), it refuses to connect to addresses that are not
// public (loopback, private, link-local such as the instance metadata
// address, unspecified), whatever the URL's host name resolves to, so a
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

// PublicAddress reports whether ip is a public unicast address.
func PublicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) // carrier-grade NAT
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
		return 0, err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}

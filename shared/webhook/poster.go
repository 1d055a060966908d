// Package webhook is the transport of partner webhooks: Standard Webhooks
// signing, the checks that keep a webhook's address outside the network the
// service runs in (at save and at dial), and the HTTP poster. What is sent,
// to whom and when is the partner package's business.
package webhook

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

// Timeout is how long a webhook may take to answer.
const Timeout = 15 * time.Second

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

// NewHTTPPoster returns a poster with Timeout as its limit.
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
		Timeout:       Timeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ErrPrivateAddress is a webhook host that resolves inside the network.
var ErrPrivateAddress = errors.New("the webhook's address is not a public one")

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
		return ErrPrivateAddress
	}
	return nil
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
		if errors.Is(err, ErrPrivateAddress) {
			return 0, ErrPrivateAddress
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

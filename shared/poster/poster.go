// Package poster is the HTTP transport of partner webhooks: it posts a
// signed message (shared/webhook builds its headers) and dials only public
// addresses, whatever a webhook's host name resolves to.
package poster

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

	"onboarding/shared/webhook"
)

// HTTP posts webhooks over HTTP. Redirects are not followed (a moved
// endpoint answers 3xx, which counts as a failure): the partner's
// configured URL is the only place events go. It connects only to public
// addresses (not loopback, private, link-local such as the instance
// metadata address, unspecified, or an IPv6 address that translates to one
// of those: see webhook.PublicAddress), whatever the URL's host name
// resolves to, so a webhook cannot be pointed inside the network the
// service runs in.
type HTTP struct {
	Client *http.Client
}

// New returns a poster with webhook.Timeout as its limit. allowLoopback
// lets it connect to loopback addresses (127.0.0.0/8, ::1) as well: the
// local runner's test receivers listen there. Other addresses that are not
// public stay refused.
func New(allowLoopback bool) HTTP {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: refuse(allowLoopback)}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return HTTP{Client: &http.Client{
		Timeout:       webhook.Timeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// refuse returns a dialer control: it sees the address actually dialled,
// after name resolution, and refuses one that is not public (nor loopback,
// when allowLoopback).
func refuse(allowLoopback bool) func(network, address string, c syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("unexpected address %q", address)
		}
		if allowLoopback && ip.Unmap().WithZone("").IsLoopback() {
			return nil
		}
		if !webhook.PublicAddress(ip) {
			return webhook.ErrPrivateAddress
		}
		return nil
	}
}

// Post sends body with header and returns the status code. The response
// body is read (up to 64 KB, so the connection can be reused) and dropped:
// it never reaches a log or the deliveries API.
func (p HTTP) Post(ctx context.Context, url string, header map[string]string, body []byte) (int, error) {
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
		if errors.Is(err, webhook.ErrPrivateAddress) {
			return 0, webhook.ErrPrivateAddress
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

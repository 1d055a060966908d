package partner

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// HTTPPoster posts webhooks over HTTP. Redirects are not followed (a
// moved endpoint answers 3xx, which counts as a failure): the partner's
// configured URL is the only place events go.
type HTTPPoster struct {
	Client *http.Client
}

// NewHTTPPoster returns a poster with WebhookTimeout as its limit.
func NewHTTPPoster() HTTPPoster {
	return HTTPPoster{Client: &http.Client{
		Timeout:       WebhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
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
		return 0, err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}

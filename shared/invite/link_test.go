package invite

import (
	"context"
	"testing"
)

// A configured acceptance page wins; without one, the page of the API the
// request came to (which the admin routes put in the context); without
// either, no page (the template always gives the functions with no
// request one).
func TestAcceptanceLinks(t *testing.T) {
	ctx := WithAcceptURL(context.Background(), "https://api.example.no/accept")
	cases := []struct {
		configured string
		ctx        context.Context
		link, app  string
	}{
		{"https://app.example.no/accept", ctx, "https://app.example.no/accept#token=t", "https://app.example.no"},
		{"", ctx, "https://api.example.no/accept#token=t", "https://api.example.no"},
		{"", context.Background(), "#token=t", ""},
	}
	for _, c := range cases {
		s := &Service{AcceptURL: c.configured}
		if got := s.link(c.ctx, "t"); got != c.link {
			t.Errorf("configured %q: link %q, want %q", c.configured, got, c.link)
		}
		if got := s.appURL(c.ctx); got != c.app {
			t.Errorf("configured %q: app %q, want %q", c.configured, got, c.app)
		}
	}
}

package adminapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/invite"
)

// list is one list route with its path and filters.
type list struct {
	name   string
	route  string
	params map[string]string
	query  map[string]string
}

// get calls a GET route as actor and returns the status and the JSON body.
func (w *world) get(actor string, l list, extra map[string]string) (int, map[string]any) {
	w.t.Helper()
	token, _, _ := w.issuer.Issue(context.Background(), w.actors[actor], "x@example.no", "")
	path := l.route[strings.Index(l.route, " ")+1:]
	for k, v := range l.params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	query := map[string]string{}
	for k, v := range l.query {
		query[k] = v
	}
	for k, v := range extra {
		query[k] = v
	}
	res, err := w.router.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
		RouteKey: l.route, RawPath: path, PathParameters: l.params, QueryStringParameters: query,
		Headers:        map[string]string{"authorization": "Bearer " + token},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "cursor", DomainName: "api.example"},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal([]byte(res.Body), &body)
	return res.StatusCode, body
}

// firstCursor returns the nextCursor of l's first page of one item.
func (w *world) firstCursor(actor string, l list) string {
	w.t.Helper()
	status, body := w.get(actor, l, map[string]string{"limit": "1"})
	next, _ := body["nextCursor"].(string)
	if status != 200 || next == "" {
		w.t.Fatalf("%s: %d, no next page (%v)", l.name, status, body)
	}
	return next
}

// rewriteKey decodes the key inside a cursor (base64url JSON, before any
// signature), edits it and encodes it again, keeping the rest.
func rewriteKey(t *testing.T, cursor string, edit func(map[string]string)) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatalf("cursor %q is not base64url: %v", cursor, err)
	}
	// Sealed: the store's key cannot be read from it, so a forger writes
	// one of their own.
	for _, plain := range []string{"MEMBER#", "INVITE#", "AUDIT#", "ORG#", "SK"} {
		if strings.Contains(string(b), plain) {
			t.Fatalf("cursor %q shows %q", cursor, plain)
		}
	}
	k := map[string]string{"PK": "ORG#x", "SK": "MEMBER#a"}
	edit(k)
	b, _ = json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestTamperedCursors: a cursor reaches the store only unchanged and only on
// the list (route, organisation, filters) that gave it out; anything else is
// a 400 naming the cursor, never a 500 and never another list's data.
func TestTamperedCursors(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := "org-wide admin"
	w.pendingIn("member")
	w.pendingIn("member")
	w.join(w.owner, "member")
	vakt, post := w.partner(), w.partner()
	for range 2 {
		w.delivery(vakt)
		w.delivery(post)
	}
	// Another organisation the same caller administers, with lists of its own.
	otherEmail := w.email("second")
	p, err := w.svc.Provision(ctx, invite.ProvisionRequest{Name: "Second Org", AdminEmail: otherEmail})
	if err != nil {
		t.Fatal(err)
	}
	w.actors["second org's admin"] = w.acceptProvisioned(p.InvitationID, otherEmail, p.OrgID)
	for range 2 {
		if _, err := w.svc.Invite(ctx, w.actors["second org's admin"], p.OrgID, invite.Request{Email: w.email("p"), Role: "member"}); err != nil {
			t.Fatal(err)
		}
	}

	o := map[string]string{"orgId": w.orgID}
	lists := []list{
		{"invitations", "GET /orgs/{orgId}/invitations", o, nil},
		{"pending invitations", "GET /orgs/{orgId}/invitations", o, map[string]string{"status": "pending"}},
		{"accepted invitations", "GET /orgs/{orgId}/invitations", o, map[string]string{"status": "accepted"}},
		{"members", "GET /orgs/{orgId}/members", o, nil},
		{"members who are members", "GET /orgs/{orgId}/members", o, map[string]string{"role": "member"}},
		{"audit", "GET /orgs/{orgId}/audit", o, nil},
		{"vakt's deliveries", "GET /orgs/{orgId}/partners/{partnerId}/deliveries", map[string]string{"orgId": w.orgID, "partnerId": vakt}, nil},
		{"post's deliveries", "GET /orgs/{orgId}/partners/{partnerId}/deliveries", map[string]string{"orgId": w.orgID, "partnerId": post}, nil},
	}
	units := list{"units", "GET /orgs/{orgId}/units", o, nil}
	cursors := map[string]string{}
	for _, l := range lists {
		cursors[l.name] = w.firstCursor(admin, l)
	}
	second := map[string]string{"orgId": p.OrgID}
	fromSecondOrg := map[string]string{
		"invitations": w.firstCursor("second org's admin", list{"second org's invitations", "GET /orgs/{orgId}/invitations", second, nil}),
		"audit":       w.firstCursor("second org's admin", list{"second org's audit", "GET /orgs/{orgId}/audit", second, nil}),
	}

	refused := func(t *testing.T, l list, cursor string) {
		t.Helper()
		status, body := w.get(admin, l, map[string]string{"cursor": cursor})
		errs, _ := body["errors"].([]any)
		field := ""
		if len(errs) == 1 {
			field, _ = errs[0].(map[string]any)["field"].(string)
		}
		if status != 400 || body["code"] != "malformed" || field != "cursor" {
			t.Errorf("%s with cursor %q: %d %v; want 400 naming the cursor", l.name, cursor, status, body)
		}
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			c := cursors[l.name]
			// Unchanged, the cursor works, with any limit.
			if status, body := w.get(admin, l, map[string]string{"cursor": c, "limit": "2"}); status != 200 {
				t.Fatalf("the cursor as given: %d %v", status, body)
			}
			// One character changed, anywhere.
			for _, i := range []int{0, len(c) / 3, len(c) / 2, len(c) - 1} {
				b := []byte(c)
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				refused(t, l, string(b))
			}
			// The key moved: to another organisation, or elsewhere in this one.
			refused(t, l, rewriteKey(t, c, func(k map[string]string) {
				for name, v := range k {
					k[name] = strings.ReplaceAll(v, w.orgID, p.OrgID)
				}
			}))
			for _, sk := range []string{"META", "AUDIT#9999", "MEMBER#zzz", "INVITE#zzz", "~"} {
				refused(t, l, rewriteKey(t, c, func(k map[string]string) { k["SK"] = sk }))
			}
			refused(t, l, rewriteKey(t, c, func(k map[string]string) { k["extra"] = "x" }))
			// A cursor from another list, or from the same list of another organisation.
			for _, from := range lists {
				if from.name != l.name {
					refused(t, l, cursors[from.name])
				}
			}
			for _, c := range fromSecondOrg {
				refused(t, l, c)
			}
			refused(t, l, "junk")
		})
	}
	t.Run("units", func(t *testing.T) {
		// One page: no cursor is ever given out, so none is taken.
		for _, c := range cursors {
			refused(t, units, c)
		}
	})
}

package adminapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/fault"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/adminapi"
)

// routeCase is one admin route called as it should be, and what the
// domain is asked.
type routeCase struct {
	route  string
	params map[string]string
	query  map[string]string
	body   string
	status int    // when the domain agrees
	call   string // the call the route makes, decoded
	// badType is a body with a member of the wrong type, and the member
	// the 422 names ("" for routes without a body).
	badType, field string
	// list: the route pages with limit and a signed cursor.
	list bool
}

func fakeRoutes(d *domain) *httpapi.Router {
	rt := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), fakeTokens{})
	(&adminapi.Routes{Invitations: invitations{d}, Members: members{d}, Orgs: orgs{d}, Directory: directory{d}, Partners: partners{d},
		Sessions: sessions{d}, Cursors: httpapi.NewCursors(bytes.Repeat([]byte{9}, 32)),
		Self: self{d}, Erasure: erasureFake{d}, Roles: roleTables{d}}).Register(rt)
	return rt
}

// serve calls route as the caller (token "" for none) and returns the
// status, the Content-Type and the body as JSON.
func serve(t *testing.T, rt *httpapi.Router, tc routeCase, token string, query map[string]string, body string) (int, string, map[string]any) {
	t.Helper()
	path := tc.route[strings.Index(tc.route, " ")+1:]
	for k, v := range tc.params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	headers := map[string]string{}
	if token != "" {
		headers["authorization"] = "Bearer " + token
	}
	res, err := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: tc.route, RawPath: path,
		PathParameters: tc.params, QueryStringParameters: query, Headers: headers, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1", DomainName: "api.example",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{SourceIP: "203.0.113.9"}}})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal([]byte(res.Body), &out)
	return res.StatusCode, res.Headers["Content-Type"], out
}

func adminRouteCases() []routeCase {
	o := map[string]string{"orgId": "o1"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"orgId": "o1"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	return []routeCase{
		{route: "GET /me", status: 200, call: `Me("caller")`},
		{route: "GET /me/sessions", status: 200, call: `Sessions.List("caller", "s-caller")`},
		{route: "DELETE /me/sessions/{sessionId}", params: map[string]string{"sessionId": "s9"}, status: 204, call: `Sessions.Revoke("caller", "s9")`},
		{route: "POST /orgs/{orgId}/invitations", params: o, body: `{"email":"kari@example.no","role":"member","units":["u-a"],"attributes":{"ansattnr":"7"}}`,
			status: 201, call: `Invite("caller", "o1", {"attributes":{"ansattnr":"7"},"email":"kari@example.no","role":"member","units":["u-a"]})`,
			badType: `{"email":"kari@example.no","units":"u-a"}`, field: "units"},
		{route: "GET /orgs/{orgId}/invitations", params: o, query: map[string]string{"status": "pending", "limit": "5"}, status: 200, list: true,
			call: `Invitations.List("caller", "o1", {"Limit":5,"Status":"pending"})`},
		{route: "GET /orgs/{orgId}/invitations/{invitationId}", params: with("invitationId", "i9"), status: 200,
			call: `Invitations.Get("caller", "o1", "i9")`},
		{route: "POST /orgs/{orgId}/invitations/{invitationId}/resend", params: with("invitationId", "i9"), status: 200,
			call: `Resend("caller", "o1", "i9")`},
		{route: "DELETE /orgs/{orgId}/invitations/{invitationId}", params: with("invitationId", "i9"), status: 200,
			call: `Invitations.Remove("caller", "o1", "i9")`},
		{route: "GET /orgs/{orgId}/members", params: o, query: map[string]string{"role": "member", "unit": "u-a", "limit": "5"}, status: 200, list: true,
			call: `Members.List("caller", "o1", {"Limit":5,"Role":"member","Unit":"u-a"})`},
		{route: "PATCH /orgs/{orgId}/members/{userId}", params: with("userId", "m1"), body: `{"role":"reporter","units":[]}`, status: 200,
			call: `Members.Update("caller", "o1", "m1", {"role":"reporter","units":[]})`, badType: `{"role":7}`, field: "role"},
		{route: "DELETE /orgs/{orgId}/members/{userId}", params: with("userId", "m1"), status: 204,
			call: `Members.Remove("caller", "o1", "m1")`},
		{route: "GET /orgs/{orgId}/members/{userId}/monitoring", params: with("userId", "m1"), status: 200,
			call: `Monitoring("caller", "o1", "m1")`},
		{route: "PUT /orgs/{orgId}/members/{userId}/monitoring", params: with("userId", "m1"),
			body: `{"escalationContacts":[{"name":"Ola","phone":"+4741234567"}],"safeWord":"","version":2}`, status: 200,
			call:    `SetMonitoring("caller", "o1", "m1", {"escalationContacts":[{"name":"Ola","phone":"+4741234567"}],"safeWord":"","version":2})`,
			badType: `{"version":"2"}`, field: "version"},
		{route: "GET /orgs/{orgId}/units", params: o, status: 200, call: `ListUnits("caller", "o1")`},
		{route: "POST /orgs/{orgId}/units", params: o, body: `{"name":"Nord"}`, status: 201,
			call: `CreateUnit("caller", "o1", "Nord")`, badType: `{"name":["Nord"]}`, field: "name"},
		{route: "PATCH /orgs/{orgId}/units/{unitId}", params: with("unitId", "u-a"), body: `{"name":"Sør"}`, status: 200,
			call: `RenameUnit("caller", "o1", "u-a", "Sør")`, badType: `{"name":1}`, field: "name"},
		{route: "DELETE /orgs/{orgId}/units/{unitId}", params: with("unitId", "u-a"), status: 204,
			call: `DeleteUnit("caller", "o1", "u-a")`},
		{route: "GET /orgs/{orgId}/settings", params: o, status: 200, call: `Settings("caller", "o1")`},
		{route: "PATCH /orgs/{orgId}/settings", params: o, body: `{"invitationLifetimeDays":30,"existingAccounts":"invite"}`, status: 200,
			call:    `UpdateSettings("caller", "o1", {"existingAccounts":"invite","invitationLifetimeDays":30})`,
			badType: `{"invitationLifetimeDays":"30"}`, field: "invitationLifetimeDays"},
		{route: "GET /orgs/{orgId}/roles", params: o, status: 200, call: `Roles("caller", "o1")`},
		{route: "PUT /orgs/{orgId}/roles", params: o, body: `{"version":3,"roles":[{"key":"admin","names":{"en":"Boss"}}]}`, status: 200,
			call:    `PutRoles("caller", "o1", {"roles":[{"key":"admin","names":{"en":"Boss"},"owner":false,"mayInvite":null,"configureUnits":false,"readLists":false,"readAudit":false,"managePartners":false,"manageSettings":false,"importRosters":false,"monitored":false}],"version":3})`,
			badType: `{"version":"3"}`, field: "version"},
		{route: "GET /orgs/{orgId}/audit", params: o, query: map[string]string{"limit": "5"}, status: 200, list: true,
			call: `AuditTrail("caller", "o1", 5, "")`},
		{route: "GET /orgs/{orgId}/partners", params: o, status: 200, call: `Partners.List("caller", "o1")`},
		{route: "GET /orgs/{orgId}/partners/{partnerId}", params: with("partnerId", "vakt"), status: 200,
			call: `Partners.Get("caller", "o1", "vakt")`},
		{route: "PUT /orgs/{orgId}/partners/{partnerId}", params: with("partnerId", "vakt"),
			body: `{"name":"Vakt 24","webhook":{"url":"https://alarm.example/hooks"},"rotateSecret":true}`, status: 200,
			call:    `Partners.Put("caller", "o1", "vakt", {"name":"Vakt 24","rotateSecret":true,"webhook":{"url":"https://alarm.example/hooks"}})`,
			badType: `{"name":"Vakt","units":"u-a"}`, field: "units"},
		{route: "DELETE /orgs/{orgId}/partners/{partnerId}", params: with("partnerId", "vakt"), status: 204,
			call: `Partners.Delete("caller", "o1", "vakt")`},
		{route: "GET /orgs/{orgId}/partners/{partnerId}/deliveries", params: with("partnerId", "vakt"), query: map[string]string{"limit": "5"},
			status: 200, list: true, call: `Deliveries("caller", "o1", "vakt", 5, "")`},
		{route: "POST /orgs/{orgId}/partners/{partnerId}/deliveries/{deliveryId}/redeliver", params: with("partnerId", "vakt", "deliveryId", "d1"),
			status: 202, call: `Redeliver("caller", "o1", "vakt", "d1")`},
		{route: "POST /orgs/{orgId}/partners/{partnerId}/roster", params: with("partnerId", "vakt"), status: 202,
			call: `RequestRoster("caller", "o1", "vakt")`},
		{route: "GET /me/export", status: 200, call: `Export("caller")`},
		{route: "DELETE /me", body: `{"password":"secret words"}`, status: 204,
			call: `EraseSelf("caller", "secret words", "203.0.113.9")`, badType: `{"password":7}`, field: "password"},
	}
}

// Each admin route, on fakes: what it decodes and hands the domain, the
// status it answers, and how refusals and failures become problem+json.
func TestAdminRoutesOnFakes(t *testing.T) {
	cases := append(adminRouteCases(), selfRouteCases()...)
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.route] = true
		t.Run(tc.route, func(t *testing.T) {
			d := &domain{}
			rt := fakeRoutes(d)
			status, contentType, _ := serve(t, rt, tc, callerToken, tc.query, tc.body)
			if status != tc.status || strings.Join(d.calls, " ") != tc.call {
				t.Fatalf("got %d and\n  %s\nwant %d and\n  %s", status, strings.Join(d.calls, " "), tc.status, tc.call)
			}
			if status != 204 && contentType != "application/json" {
				t.Errorf("Content-Type %q", contentType)
			}

			// No token: the domain is not asked.
			d.calls = nil
			if status, contentType, body := serve(t, rt, tc, "", tc.query, tc.body); status != 401 || contentType != "application/problem+json" ||
				body["code"] != "unauthorized" || len(d.calls) > 0 {
				t.Errorf("signed out: %d %s %v, calls %v", status, contentType, body, d.calls)
			}

			// The domain's refusals keep their code and message; anything
			// else is an opaque 500.
			for _, refusal := range []struct {
				err    error
				status int
				code   string
			}{
				{fault.New(fault.Forbidden, "your role may not"), 403, "forbidden"},
				{fault.New(fault.NotFound, "no such thing"), 404, "not_found"},
				{fault.New(fault.Conflict, "changed meanwhile"), 409, "conflict"},
				{fault.New(fault.Invalid, "the request has invalid fields"), 422, "invalid"},
				{errors.New("dynamodb: ConditionalCheckFailed on PK=ORG#o1"), 500, "internal"},
			} {
				d.err = refusal.err
				status, contentType, body := serve(t, rt, tc, callerToken, tc.query, tc.body)
				detail, _ := body["detail"].(string)
				if status != refusal.status || contentType != "application/problem+json" || body["code"] != refusal.code ||
					body["status"] != float64(refusal.status) || body["instance"] != "req-1" || strings.Contains(detail, "dynamodb") {
					t.Errorf("%v: %d %s %v", refusal.err, status, contentType, body)
				}
				if e, ok := fault.As(refusal.err); ok && detail != e.Message {
					t.Errorf("%v: detail %q", refusal.err, detail)
				}
			}
			d.err = nil

			if tc.body != "" {
				// A body that is not JSON, or not an object, or has data
				// after it ({} so that routes refusing unknown fields see
				// none), is a 400 and a
				// member of the wrong type a 422 naming it, before the
				// domain is asked.
				for _, bad := range []string{`{"name":`, `["a"]`, ``, `{} {"b":2}`} {
					d.calls = nil
					if status, _, body := serve(t, rt, tc, callerToken, tc.query, bad); status != 400 || body["code"] != "malformed" || len(d.calls) > 0 {
						t.Errorf("body %q: %d %v, calls %v", bad, status, body, d.calls)
					}
				}
				d.calls = nil
				status, _, body := serve(t, rt, tc, callerToken, tc.query, tc.badType)
				if errs, _ := body["errors"].([]any); status != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != tc.field || len(d.calls) > 0 {
					t.Errorf("body %s: %d %v, calls %v", tc.badType, status, body, d.calls)
				}
			}

			if tc.list {
				listQuery := func(extra ...string) map[string]string {
					q := map[string]string{}
					for k, v := range tc.query {
						q[k] = v
					}
					for i := 0; i < len(extra); i += 2 {
						q[extra[i]] = extra[i+1]
					}
					return q
				}
				// A limit that is not a number is a 422 naming it.
				d.calls = nil
				status, _, body := serve(t, rt, tc, callerToken, listQuery("limit", "ten"), "")
				if errs, _ := body["errors"].([]any); status != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "limit" || len(d.calls) > 0 {
					t.Errorf("limit=ten: %d %v, calls %v", status, body, d.calls)
				}
				// A parameter the list does not read (a misspelt filter)
				// is named back, and nothing is listed.
				d.calls = nil
				status, _, body = serve(t, rt, tc, callerToken, listQuery("qq", "ann"), "")
				if errs, _ := body["errors"].([]any); status != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "qq" || len(d.calls) > 0 {
					t.Errorf("qq=ann: %d %v, calls %v", status, body, d.calls)
				}
				// The store's next cursor goes out sealed, and comes back
				// to the store as it was.
				d.next = "c2"
				_, _, body = serve(t, rt, tc, callerToken, tc.query, "")
				sealed, _ := body["nextCursor"].(string)
				if sealed == "" || strings.Contains(sealed, "c2") {
					t.Fatalf("nextCursor %v", body["nextCursor"])
				}
				d.calls, d.next = nil, ""
				if status, _, _ := serve(t, rt, tc, callerToken, listQuery("cursor", sealed), ""); status != 200 || len(d.calls) != 1 ||
					!strings.Contains(d.calls[0], `"c2"`) && !strings.Contains(d.calls[0], `"Cursor":"c2"`) {
					t.Errorf("cursor back: %d %v", status, d.calls)
				}
				// One not given out by this list is a 400, unasked.
				d.calls = nil
				for _, forged := range []string{"c2", "c2." + strings.Repeat("A", 22), sealed + "x"} {
					if status, _, body := serve(t, rt, tc, callerToken, listQuery("cursor", forged), ""); status != 400 || body["code"] != "malformed" ||
						len(d.calls) > 0 {
						t.Errorf("cursor %q: %d %v, calls %v", forged, status, body, d.calls)
					}
				}
			}
		})
	}
	for _, r := range fakeRoutes(&domain{}).Routes() {
		if !covered[r] {
			t.Errorf("route %s has no case on fakes", r)
		}
	}
}

// The answers whose status depends on what the domain says: a revoked
// invitation is shown (200), a deleted one is gone (204); a new partner is
// 201, a changed one 200. The units list has one page: any cursor is a 400.
func TestAdminRouteStatusesOnFakes(t *testing.T) {
	d := &domain{}
	rt := fakeRoutes(d)
	cases := map[string]routeCase{}
	for _, tc := range adminRouteCases() {
		cases[tc.route] = tc
	}
	remove := cases["DELETE /orgs/{orgId}/invitations/{invitationId}"]
	d.removed.Deleted = true
	if status, _, _ := serve(t, rt, remove, callerToken, nil, ""); status != 204 {
		t.Errorf("deleted invitation: %d", status)
	}
	d.removed.Deleted = false
	d.removed.Invitation.ID = "i9"
	if status, _, body := serve(t, rt, remove, callerToken, nil, ""); status != 200 || body["invitationId"] != "i9" {
		t.Errorf("revoked invitation: %d %v", status, body)
	}
	put := cases["PUT /orgs/{orgId}/partners/{partnerId}"]
	d.created = true
	if status, _, _ := serve(t, rt, put, callerToken, nil, put.body); status != 201 {
		t.Errorf("new partner: %d", status)
	}
	d.calls = nil
	units := cases["GET /orgs/{orgId}/units"]
	if status, _, body := serve(t, rt, units, callerToken, map[string]string{"cursor": "x"}, ""); status != 400 || body["code"] != "malformed" || len(d.calls) > 0 {
		t.Errorf("units with a cursor: %d %v %v", status, body, d.calls)
	}
	if status, _, body := serve(t, rt, units, callerToken, nil, ""); status != 200 || body["nextCursor"] != nil {
		t.Errorf("units: %d %v", status, body)
	}
}

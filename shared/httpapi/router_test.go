package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/authtoken"
	"onboarding/shared/fault"
	"onboarding/shared/signer"
)

func testRouter(t *testing.T) (*Router, string) {
	t.Helper()
	key, _ := signer.NewKey()
	iss, _ := authtoken.NewIssuer(context.Background(), signer.Local{Key: key}, "urn:test", time.Minute, time.Now)
	token, _, _ := iss.Issue(context.Background(), "u1", "u1@example.no", "")
	rt := NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:test", &key.PublicKey))
	rt.Public("POST /echo", func(_ context.Context, r *Request) (Response, error) {
		var in map[string]any
		if err := r.Decode(&in); err != nil {
			return Response{}, err
		}
		return JSON(http.StatusOK, in)
	})
	rt.Public("GET /fail/{kind}", func(_ context.Context, r *Request) (Response, error) {
		switch r.Param("kind") {
		case "internal":
			return Response{}, errors.New("dynamodb: connection refused to 10.0.0.1 with secret=abc")
		case "panic":
			panic("boom")
		case "conflict":
			return Response{}, fault.New(fault.Conflict, "exists").With("invitationId", "i1")
		case "throttle":
			e := fault.New(fault.TooMany, "slow down")
			e.RetryAfter = 1500 * time.Millisecond
			return Response{}, e
		}
		return Response{}, nil
	})
	rt.Authed("GET /whoami", func(_ context.Context, r *Request) (Response, error) {
		return JSON(http.StatusOK, map[string]string{"userId": r.UserID()})
	})
	return rt, token
}

func call(t *testing.T, rt *Router, routeKey, body string, headers map[string]string, params map[string]string) (Response, map[string]any) {
	t.Helper()
	if headers == nil {
		headers = map[string]string{}
	}
	res, err := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
		RouteKey: routeKey, Body: body, Headers: headers, PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1"},
	})
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	var m map[string]any
	json.Unmarshal([]byte(res.Body), &m)
	return res, m
}

func TestRouter(t *testing.T) {
	rt, token := testRouter(t)
	cases := []struct {
		name    string
		route   string
		body    string
		headers map[string]string
		params  map[string]string
		status  int
		code    string
	}{
		{"echo", "POST /echo", `{"a":1}`, nil, nil, 200, ""},
		{"malformed JSON", "POST /echo", `{"a":`, nil, nil, 400, "malformed"},
		{"not an object", "POST /echo", `[1]`, nil, nil, 400, "malformed"},
		{"trailing data", "POST /echo", `{"a":1} {"b":2}`, nil, nil, 400, "malformed"},
		{"empty body", "POST /echo", ``, nil, nil, 400, "malformed"},
		{"too large", "POST /echo", `{"a":"` + strings.Repeat("x", MaxBody) + `"}`, nil, nil, 413, "too_large"},
		{"unknown route", "GET /nowhere", "", nil, nil, 404, "not_found"},
		{"internal error hides detail", "GET /fail/{kind}", "", nil, map[string]string{"kind": "internal"}, 500, "internal"},
		{"panic is a 500", "GET /fail/{kind}", "", nil, map[string]string{"kind": "panic"}, 500, "internal"},
		{"conflict carries the id", "GET /fail/{kind}", "", nil, map[string]string{"kind": "conflict"}, 409, "conflict"},
		{"throttled", "GET /fail/{kind}", "", nil, map[string]string{"kind": "throttle"}, 429, "too_many"},
		{"no token", "GET /whoami", "", nil, nil, 401, "unauthorized"},
		{"not a bearer", "GET /whoami", "", map[string]string{"authorization": "Basic abc"}, nil, 401, "unauthorized"},
		{"forged token", "GET /whoami", "", map[string]string{"authorization": "Bearer " + token + "x"}, nil, 401, "unauthorized"},
		{"valid token", "GET /whoami", "", map[string]string{"authorization": "Bearer " + token}, nil, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := call(t, rt, tc.route, tc.body, tc.headers, tc.params)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, res.Body)
			}
			if tc.code == "" {
				return
			}
			if res.Headers["Content-Type"] != "application/problem+json" || body["code"] != tc.code || body["instance"] != "req-1" {
				t.Fatalf("problem %v %v", res.Headers, body)
			}
			if strings.Contains(res.Body, "secret") || strings.Contains(res.Body, "10.0.0.1") || strings.Contains(res.Body, "boom") {
				t.Fatalf("internal detail leaked: %s", res.Body)
			}
		})
	}
	res, body := call(t, rt, "GET /fail/{kind}", "", nil, map[string]string{"kind": "conflict"})
	if body["invitationId"] != "i1" {
		t.Fatalf("conflict body %s", res.Body)
	}
	res, _ = call(t, rt, "GET /fail/{kind}", "", nil, map[string]string{"kind": "throttle"})
	if res.Headers["Retry-After"] != "2" {
		t.Fatalf("Retry-After %q", res.Headers["Retry-After"])
	}
	res, _ = call(t, rt, "GET /whoami", "", nil, nil)
	if !strings.HasPrefix(res.Headers["WWW-Authenticate"], "Bearer") {
		t.Fatalf("401 without WWW-Authenticate: %v", res.Headers)
	}
	_, body = call(t, rt, "GET /whoami", "", map[string]string{"authorization": "Bearer " + token}, nil)
	if body["userId"] != "u1" {
		t.Fatalf("whoami %v", body)
	}
}

func TestBase64Body(t *testing.T) {
	rt, _ := testRouter(t)
	res, err := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
		RouteKey: "POST /echo", IsBase64Encoded: true, Body: base64.StdEncoding.EncodeToString([]byte(`{"ø":"å"}`)),
	})
	if err != nil || res.StatusCode != 200 || !strings.Contains(res.Body, "å") {
		t.Fatalf("%d %s %v", res.StatusCode, res.Body, err)
	}
}

func TestDecodeTypeErrorNamesField(t *testing.T) {
	r := &Request{Body: []byte(`{"units":"north"}`)}
	var in struct {
		Units []string `json:"units"`
	}
	e, ok := fault.As(r.Decode(&in))
	if !ok || e.Code != fault.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "units" {
		t.Fatalf("%+v", e)
	}
}

// A route that decodes strictly names a member of the body it does not
// know, where Decode would drop it.
func TestDecodeStrictNamesUnknownField(t *testing.T) {
	type body struct {
		FullRoster bool              `json:"fullRoster"`
		Columns    map[string]string `json:"columns"`
	}
	for _, tc := range []struct{ body, field string }{
		{`{"fullRoster":true,"full_roster":true}`, "full_roster"},
		{`{"columns":{"A":"email"},"mapping":{"B":"email"}}`, "mapping"},
	} {
		var in body
		e, ok := fault.As((&Request{Body: []byte(tc.body)}).DecodeStrict(&in))
		if !ok || e.Code != fault.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field || e.Fields[0].Code != "unknown" {
			t.Errorf("%s: %+v", tc.body, e)
		}
	}
	var in body
	if err := (&Request{Body: []byte(`{"fullRoster":true,"columns":{"Any header":"email"}}`)}).DecodeStrict(&in); err != nil || !in.FullRoster {
		t.Fatalf("%v %+v", err, in)
	}
	if err := (&Request{Body: []byte(`{"fullRoster":true,"x":1}`)}).Decode(&in); err != nil {
		t.Fatalf("Decode: %v", err)
	}
}

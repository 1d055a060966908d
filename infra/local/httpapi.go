package local

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Route binds an HTTP API route to a function.
type Route struct {
	Method   string // GET, POST, ... or ANY
	Path     string // /orgs/{orgId}/invitations, /{proxy+}
	Function *Function
}

// HTTPAPI serves an API Gateway HTTP API (payload format 2.0) over the
// functions: route matching, the request event, the response mapping and
// the gateway's own errors, as API Gateway does.
type HTTPAPI struct {
	Routes []Route
	Log    *slog.Logger
	// MaxBody is API Gateway's payload limit (10 MB).
	MaxBody int64
	// Domain is the API's own address, given to functions as
	// requestContext.domainName: API Gateway puts its domain there, never a
	// client's Host header.
	Domain string
}

const stage = "$default"

// match finds the route for a request as API Gateway does: of the routes
// that match, the most specific (most literal segments; a greedy variable
// last) wins, so /imports/template beats /imports/{importId}.
func (a *HTTPAPI) match(method, path string) (*Route, map[string]string) {
	var best *Route
	var bestParams map[string]string
	bestScore := -1
	for i := range a.Routes {
		r := &a.Routes[i]
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		params, ok := matchPath(r.Path, path)
		if !ok {
			continue
		}
		score := 0
		for _, seg := range strings.Split(r.Path, "/") {
			switch {
			case strings.HasSuffix(seg, "+}"):
			case strings.HasPrefix(seg, "{"):
				score++
			default:
				score += 2
			}
		}
		if r.Method == method {
			score++ // an exact method beats ANY
		}
		if score > bestScore {
			best, bestParams, bestScore = r, params, score
		}
	}
	return best, bestParams
}

// matchPath matches a request path against a route template.
func matchPath(tmpl, path string) (map[string]string, bool) {
	ts := strings.Split(strings.Trim(tmpl, "/"), "/")
	ps := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(ps) {
				return nil, false
			}
			params[t[1:len(t)-2]] = strings.Join(ps[i:], "/")
			return params, true
		}
		if i >= len(ps) {
			return nil, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if ps[i] == "" {
				return nil, false
			}
			params[t[1:len(t)-1]] = ps[i]
			continue
		}
		if t != ps[i] {
			return nil, false
		}
	}
	if len(ts) != len(ps) {
		return nil, false
	}
	return params, true
}

func gatewayError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func (a *HTTPAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		a.preflight(w, r)
		return
	}
	route, params := a.match(r.Method, r.URL.Path)
	if route == nil {
		gatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	maxBody := a.MaxBody
	if maxBody == 0 {
		maxBody = 10 << 20
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if int64(len(body)) > maxBody {
		gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := a.event(r, route, params, body)

	payload, _ := json.Marshal(ev)
	out, err := route.Function.Invoke(r.Context(), payload)
	if err != nil {
		a.Log.Error("http integration failed", "route", ev.RouteKey, "error", err.Error())
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	status := writeResponse(w, out)
	a.Log.Info("http", "route", ev.RouteKey, "status", status, "ms", time.Since(start).Milliseconds())
}

func (a *HTTPAPI) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,OPTIONS")
	h.Set("Access-Control-Allow-Headers", "authorization,content-type,idempotency-key")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// event builds the payload format 2.0 request event.
func (a *HTTPAPI) event(r *http.Request, route *Route, params map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	var cookies []string
	if c, ok := headers["cookie"]; ok {
		for _, part := range strings.Split(c, ";") {
			cookies = append(cookies, strings.TrimSpace(part))
		}
		delete(headers, "cookie")
	}
	headers["x-forwarded-proto"] = "http"
	headers["x-forwarded-for"] = remoteIP(r)
	query := map[string]string{}
	for k, vs := range r.URL.Query() {
		query[k] = strings.Join(vs, ",")
	}
	routeKey := route.Method + " " + route.Path
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, AccountID: "000000000000", Stage: stage, APIID: "local",
			DomainName: a.Domain, DomainPrefix: strings.Split(a.Domain, ".")[0],
			RequestID: newRequestID(), Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: remoteIP(r), UserAgent: r.UserAgent(),
			},
		},
	}
	if len(query) > 0 {
		ev.QueryStringParameters = query
	}
	if len(params) == 0 {
		ev.PathParameters = nil
	}
	if len(body) > 0 {
		if utf8.Valid(body) && isText(headers["content-type"]) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

func isText(contentType string) bool {
	ct := strings.ToLower(contentType)
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") ||
		strings.Contains(ct, "xml") || strings.Contains(ct, "x-www-form-urlencoded") || strings.Contains(ct, "javascript")
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// writeResponse maps a payload 2.0 response to HTTP, inferring the format
// as API Gateway does when the function returned something else.
func writeResponse(w http.ResponseWriter, out []byte) int {
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) != nil || probe["statusCode"] == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(out)
		return http.StatusOK
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError
	}
	h := w.Header()
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range res.Cookies {
		h.Add("Set-Cookie", c)
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(res.Body)
		if err != nil {
			gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return http.StatusInternalServerError
		}
		body = b
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := res.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(body)
	return status
}

// InvokeAPI serves the Lambda Invoke API
// (POST /2015-03-31/functions/{name}/invocations), as `sam local
// start-lambda` does, so `aws lambda invoke --endpoint-url` works.
type InvokeAPI struct {
	Functions map[string]*Function // by logical id
	Names     map[string]string    // physical name -> logical id
	Log       *slog.Logger
}

// invokedFunction is the function an Invoke request names (a name or an
// ARN), from POST /2015-03-31/functions/<function>/invocations.
func invokedFunction(r *http.Request) (string, bool) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) || !strings.HasSuffix(r.URL.Path, suffix) {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), suffix), true
}

func (a *InvokeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := invokedFunction(r)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"Type": "User", "message": "unknown operation"})
		return
	}
	if i := strings.LastIndex(name, ":function:"); i >= 0 { // an ARN
		name = name[i+len(":function:"):]
	}
	if logical, ok := a.Names[name]; ok {
		name = logical
	}
	fn, ok := a.Functions[name]
	if !ok {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		writeJSON(w, http.StatusNotFound, map[string]string{"Type": "User", "Message": "Function not found: " + name})
		return
	}
	payload, _ := io.ReadAll(io.LimitReader(r.Body, 6<<20))
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if r.Header.Get("X-Amz-Invocation-Type") == "Event" {
		go func() {
			ctx, cancel := contextWithTimeout(15 * time.Minute)
			defer cancel()
			if _, err := fn.Invoke(ctx, payload); err != nil {
				a.Log.Error("async invoke failed", "function", name, "error", err.Error())
			}
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	out, err := fn.Invoke(r.Context(), payload)
	var fe *FunctionError
	switch {
	case errors.As(err, &fe):
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(fe.Payload)
	case err != nil:
		w.Header().Set("X-Amzn-ErrorType", "ServiceException")
		writeJSON(w, http.StatusInternalServerError, map[string]string{"Type": "Service", "Message": err.Error()})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(out)
	}
}

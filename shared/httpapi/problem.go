package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/fault"
)

// statusOf maps error codes to HTTP statuses: the one place that does.
var statusOf = map[fault.Code]int{
	fault.Invalid:      http.StatusUnprocessableEntity,
	fault.Malformed:    http.StatusBadRequest,
	fault.TooLarge:     http.StatusRequestEntityTooLarge,
	fault.Unauthorized: http.StatusUnauthorized,
	fault.Forbidden:    http.StatusForbidden,
	fault.NotFound:     http.StatusNotFound,
	fault.Conflict:     http.StatusConflict,
	fault.Gone:         http.StatusGone,
	fault.TooMany:      http.StatusTooManyRequests,
	fault.Unavailable:  http.StatusServiceUnavailable,
	fault.Internal:     http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string             `json:"type"`
	Title    string             `json:"title"`
	Status   int                `json:"status"`
	Detail   string             `json:"detail,omitempty"`
	Instance string             `json:"instance,omitempty"`
	Code     fault.Code         `json:"code"`
	Errors   []fault.FieldError `json:"errors,omitempty"`
}

// problemResponse turns any error into problem+json. Only *fault.Error
// messages reach the caller; anything else is an opaque 500.
func problemResponse(err error, requestID string) events.APIGatewayV2HTTPResponse {
	e, ok := fault.As(err)
	if !ok || e.Code == fault.Internal {
		e = fault.New(fault.Internal, "something went wrong on our side; the request id identifies it in our logs")
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := Problem{
		Type: "urn:onboarding:problem:" + string(e.Code), Title: http.StatusText(status),
		Status: status, Detail: e.Message, Instance: requestID, Code: e.Code, Errors: e.Fields,
	}
	body := map[string]any{}
	b, _ := json.Marshal(p)
	json.Unmarshal(b, &body)
	for k, v := range e.Extra {
		if _, taken := body[k]; !taken {
			body[k] = v
		}
	}
	b, _ = json.Marshal(body)
	headers := map[string]string{"Content-Type": "application/problem+json", "Cache-Control": "no-store"}
	if status == http.StatusUnauthorized {
		headers["WWW-Authenticate"] = `Bearer realm="onboarding"`
	}
	if e.Language != "" {
		headers["Content-Language"] = e.Language
	}
	if e.RetryAfter > 0 {
		headers["Retry-After"] = strconv.Itoa(int(e.RetryAfter.Seconds() + 0.999))
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(b)}
}

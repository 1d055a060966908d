package local

import (
	"encoding/json"
	"net/http"
	"sync"
)

// A Fault answers a function's AWS call in place of the service, as the
// service fails one: tests make DynamoDB throttle or SES refuse a recipient
// to see what the functions do, and log, then.
type Fault func(w http.ResponseWriter)

// DynamoDBError is DynamoDB's answer with an exception (typ, such as
// "ProvisionedThroughputExceededException") and its message; fields are
// added to the document (e.g. "CancellationReasons").
func DynamoDBError(typ, message string, fields map[string]any) Fault {
	return func(w http.ResponseWriter) {
		doc := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + typ, "message": message}
		for k, v := range fields {
			doc[k] = v
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(doc)
	}
}

// SESError is SES v2's answer with an error type (such as
// "MessageRejected") and message.
func SESError(status int, typ, message string) Fault {
	return func(w http.ResponseWriter) {
		w.Header().Set("X-Amzn-ErrorType", typ)
		writeJSON(w, status, map[string]string{"message": message})
	}
}

// S3Error is S3's XML error.
func S3Error(status int, code, message string) Fault {
	return func(w http.ResponseWriter) { writeS3Error(w, status, code, message) }
}

// faults are the injected failures the gateways consult, by service.
type faults struct {
	mu    sync.Mutex
	rules map[string][]*faultRule
}

type faultRule struct {
	fail func(r *http.Request, body []byte) Fault
}

// Inject makes the gateway of service ("dynamodb", "ses", "s3", "lambda")
// answer each call of a function for which fail returns a Fault with it,
// until remove is called. Calls the runner makes itself are not affected.
func (s *Stack) Inject(service string, fail func(r *http.Request, body []byte) Fault) (remove func()) {
	rule := &faultRule{fail: fail}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules[service] = append(s.faults.rules[service], rule)
	return func() {
		s.faults.mu.Lock()
		defer s.faults.mu.Unlock()
		rules := s.faults.rules[service]
		for i, r := range rules {
			if r == rule {
				s.faults.rules[service] = append(rules[:i:i], rules[i+1:]...)
				return
			}
		}
	}
}

// find returns the fault injected for this call, or nil.
func (f *faults) find(service string, r *http.Request, body []byte) Fault {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	rules := f.rules[service]
	f.mu.Unlock()
	for _, rule := range rules {
		if fault := rule.fail(r, body); fault != nil {
			return fault
		}
	}
	return nil
}

package local

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// gateway fronts one AWS service's emulator: it names the caller by the
// access key the request is signed with, works out which IAM actions on
// which resources the request needs, and answers as AWS does when the
// caller's role does not allow one of them. Requests it lets through go on
// to next unchanged but for the access key (see forwardAs).
type gateway struct {
	service  string // for the logs: dynamodb, ses, s3, lambda
	iam      *IAM
	classify func(r *http.Request, body []byte) ([]Call, error)
	deny     func(w http.ResponseWriter, d Denial)
	next     http.Handler
	log      *slog.Logger
	// forwardAs, when set, replaces a function's access key in the signature
	// before the request goes on: DynamoDB Local keeps one database per
	// access key, and every caller must see the same one.
	forwardAs string
	// now is the clock presigned URLs are checked against.
	now func() time.Time
	// faults are failures tests inject (faults.go).
	faults *faults
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// accessKey is the access key id a request is signed with (header or
// presigned query), or "".
func accessKey(r *http.Request) string {
	if m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		id, _, _ := strings.Cut(c, "/")
		return id
	}
	return ""
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if expired, msg := presignExpired(r, g.now()); g.service == "s3" && expired {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", msg)
		return
	}
	key := accessKey(r)
	if key == "" && g.service != "lambda" {
		// Unsigned: AWS answers no anonymous call (the bucket blocks public
		// access). The Invoke API stays open to local tools, as
		// `sam local start-lambda` is.
		g.denyAnonymous(w)
		return
	}
	p := g.iam.Principal(key)
	if p == nil {
		g.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if g.service == "s3" && r.URL.Query().Has("X-Amz-Signature") && !presignedSignatureMatches(r, p) {
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return
	}
	calls, err := g.classify(r, body)
	if err != nil {
		http.Error(w, "local IAM check: "+err.Error(), http.StatusBadRequest)
		return
	}
	if d := p.Check(calls); d != nil {
		g.log.Warn("IAM: access denied", "function", p.Function, "action", d.Action, "resource", d.Resource)
		g.deny(w, *d)
		return
	}
	if fault := g.faults.find(g.service, r, body); fault != nil {
		fault(w)
		return
	}
	if g.forwardAs != "" {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Credential="+p.AccessKey+"/", "Credential="+g.forwardAs+"/", 1))
	}
	g.next.ServeHTTP(w, r)
}

func (g *gateway) denyAnonymous(w http.ResponseWriter) {
	g.log.Warn("IAM: an unsigned request refused", "service", g.service)
	if g.service == "s3" {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": "MissingAuthenticationTokenException", "Message": "Request is missing Authentication Token"})
}

// presignExpired reports a presigned request past X-Amz-Date + X-Amz-Expires,
// which AWS refuses whoever signed it.
func presignExpired(r *http.Request, now time.Time) (bool, string) {
	q := r.URL.Query()
	date, expires := q.Get("X-Amz-Date"), q.Get("X-Amz-Expires")
	if date == "" || expires == "" {
		return false, ""
	}
	signed, err := time.Parse("20060102T150405Z", date)
	secs, err2 := strconv.Atoi(expires)
	if err != nil || err2 != nil || secs < 1 || secs > 604800 {
		return true, "X-Amz-Expires must be between 1 and 604800 seconds, with a valid X-Amz-Date"
	}
	if now.After(signed.Add(time.Duration(secs) * time.Second)) {
		return true, "Request has expired"
	}
	return false, ""
}

// presignedSignatureMatches signs the request again with the secret of the
// function whose key the URL names and compares, as S3 checks a presigned
// URL: the method, the path, every query parameter and each header
// X-Amz-SignedHeaders lists must be as they were signed. An upload URL
// presigned with a size signs content-length, so a PUT of another length
// fails here as it does on AWS.
func presignedSignatureMatches(r *http.Request, p *Principal) bool {
	q := r.URL.Query()
	given := q.Get("X-Amz-Signature")
	signedHeaders := q.Get("X-Amz-SignedHeaders")
	scope := strings.Split(q.Get("X-Amz-Credential"), "/") // key/date/region/service/aws4_request
	at, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil || len(scope) != 5 || given == "" {
		return false
	}
	// The request as it was presigned: without the parameters the signer
	// adds (it adds them again), and with only the headers it signed.
	for _, k := range []string{"X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Security-Token"} {
		q.Del(k)
	}
	u := *r.URL
	u.Scheme, u.Host, u.RawQuery = "http", r.Host, q.Encode()
	again, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return false
	}
	for _, h := range strings.Split(signedHeaders, ";") {
		switch h {
		case "host":
		case "content-length":
			again.ContentLength = r.ContentLength
		default:
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }) // as S3 signs
	creds := aws.Credentials{AccessKeyID: p.AccessKey, SecretAccessKey: p.SecretKey, SessionToken: p.Token}
	signed, _, err := signer.PresignHTTP(context.Background(), creds, again, "UNSIGNED-PAYLOAD", scope[3], scope[2], at)
	if err != nil {
		return false
	}
	su, err := url.Parse(signed)
	if err != nil {
		return false
	}
	want := su.Query()
	return want.Get("X-Amz-SignedHeaders") == signedHeaders &&
		hmac.Equal([]byte(want.Get("X-Amz-Signature")), []byte(given))
}

func proxyTo(endpoint string) (http.Handler, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bad endpoint %q", endpoint)
	}
	return httputil.NewSingleHostReverseProxy(u), nil
}

// ---- DynamoDB (and DynamoDB Streams, on the same endpoint)

func (c arns) classifyDynamoDB(r *http.Request, body []byte) ([]Call, error) {
	target := r.Header.Get("X-Amz-Target")
	prefix, op, ok := strings.Cut(target, ".")
	if !ok {
		return nil, fmt.Errorf("no X-Amz-Target")
	}
	var in struct {
		TableName     string
		IndexName     string
		StreamArn     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("DynamoDB %s body: %w", op, err)
	}
	if strings.HasPrefix(prefix, "DynamoDBStreams") {
		res := in.StreamArn
		if res == "" {
			res = c.table(in.TableName) + "/stream/*"
		}
		return []Call{call("dynamodb:"+op, res)}, nil
	}
	switch op {
	case "BatchGetItem":
		var calls []Call
		for t := range in.RequestItems {
			calls = append(calls, call("dynamodb:BatchGetItem", c.table(t)))
		}
		return calls, nil
	case "BatchWriteItem":
		// The batch's own action on each table, and each request's.
		var calls []Call
		for t, raw := range in.RequestItems {
			calls = append(calls, call("dynamodb:BatchWriteItem", c.table(t)))
			var reqs []map[string]json.RawMessage
			json.Unmarshal(raw, &reqs)
			for _, req := range reqs {
				if _, ok := req["PutRequest"]; ok {
					calls = append(calls, call("dynamodb:PutItem", c.table(t)))
				}
				if _, ok := req["DeleteRequest"]; ok {
					calls = append(calls, call("dynamodb:DeleteItem", c.table(t)))
				}
			}
		}
		return calls, nil
	case "TransactWriteItems", "TransactGetItems":
		// Checked item by item: a transaction needs each item's action.
		itemAction := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
			"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var calls []Call
		for _, item := range in.TransactItems {
			for kind, v := range item {
				a, ok := itemAction[kind]
				if !ok {
					return nil, fmt.Errorf("unknown transaction item %s", kind)
				}
				calls = append(calls, call("dynamodb:"+a, c.table(v.TableName)))
			}
		}
		return calls, nil
	case "Query", "Scan":
		if in.IndexName != "" {
			return []Call{call("dynamodb:"+op, c.table(in.TableName)+"/index/"+in.IndexName)}, nil
		}
	case "ListTables":
		return []Call{call("dynamodb:ListTables", "*")}, nil
	}
	return []Call{call("dynamodb:"+op, c.table(in.TableName))}, nil
}

func denyJSON(typePrefix string, status int) func(http.ResponseWriter, Denial) {
	return func(w http.ResponseWriter, d Denial) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": typePrefix + "AccessDeniedException", "Message": d.Message()})
	}
}

// ---- KMS (JSON protocol)

func (c arns) classifyKMS(r *http.Request, body []byte) ([]Call, error) {
	_, op, ok := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if !ok {
		return nil, fmt.Errorf("no X-Amz-Target")
	}
	var in struct{ KeyId string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("KMS %s body: %w", op, err)
	}
	res := in.KeyId
	switch {
	case res == "":
		res = "*"
	case strings.HasPrefix(res, "arn:"):
	case strings.HasPrefix(res, "alias/"):
		res = c.arn("kms", res)
	default:
		res = c.arn("kms", "key/"+res)
	}
	return []Call{call("kms:"+op, res)}, nil
}

// ---- SES v2 (REST)

func (c arns) classifySES(r *http.Request, body []byte) ([]Call, error) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v2/email/outbound-emails":
		var in struct {
			FromEmailAddress     string
			ConfigurationSetName string
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, fmt.Errorf("SendEmail body: %w", err)
		}
		addr := in.FromEmailAddress
		if i := strings.LastIndex(addr, "<"); i >= 0 {
			addr = strings.TrimSuffix(addr[i+1:], ">")
		}
		_, domain, _ := strings.Cut(addr, "@")
		// Sent as the address's own identity or its domain's, whichever is
		// verified: either ARN in the policy allows it.
		calls := []Call{call("ses:SendEmail", c.arn("ses", "identity/"+addr), c.arn("ses", "identity/"+domain))}
		if in.ConfigurationSetName != "" {
			calls = append(calls, call("ses:SendEmail", c.arn("ses", "configuration-set/"+in.ConfigurationSetName)))
		}
		return calls, nil
	case r.Method == http.MethodGet && r.URL.Path == "/v2/email/account":
		return []Call{call("ses:GetAccount", "*")}, nil
	}
	// Anything else a function has no business calling: name it so that
	// no policy allows it by accident.
	return []Call{call("ses:"+r.Method+" "+r.URL.Path, "*")}, nil
}

func denySES(w http.ResponseWriter, d Denial) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
	w.WriteHeader(http.StatusForbidden)
	json.NewEncoder(w).Encode(map[string]string{"message": d.Message()})
}

// ---- Lambda (the Invoke API)

func (c arns) classifyLambda(r *http.Request, _ []byte) ([]Call, error) {
	name, ok := invokedFunction(r)
	if !ok {
		// The runner serves only Invoke: name what else was asked so that no
		// policy allows it by accident.
		return []Call{call("lambda:"+r.Method+" "+r.URL.Path, "*")}, nil
	}
	if !strings.HasPrefix(name, "arn:") {
		name = c.arn("lambda", "function:"+name)
	}
	return []Call{call("lambda:InvokeFunction", name)}, nil
}

func denyLambda(w http.ResponseWriter, d Denial) {
	w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
	writeJSON(w, http.StatusForbidden, map[string]string{"Type": "User", "Message": d.Message()})
}

// ---- S3 (path-style, as the local clients use it)

func (c arns) classifyS3(r *http.Request, _ []byte) ([]Call, error) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	object := "arn:aws:s3:::" + bucket + "/" + key
	if key == "" {
		b := "arn:aws:s3:::" + bucket
		switch {
		case r.Method == http.MethodGet && q.Has("versions"):
			return []Call{call("s3:ListBucketVersions", b)}, nil
		case r.Method == http.MethodGet, r.Method == http.MethodHead:
			return []Call{call("s3:ListBucket", b)}, nil
		case r.Method == http.MethodPost && q.Has("delete"):
			return []Call{call("s3:DeleteObject", b+"/*")}, nil
		case r.Method == http.MethodPut:
			return []Call{call("s3:CreateBucket", b)}, nil
		case r.Method == http.MethodDelete:
			return []Call{call("s3:DeleteBucket", b)}, nil
		}
		return []Call{call("s3:"+r.Method+"Bucket", b)}, nil
	}
	versioned := q.Get("versionId") != ""
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if versioned {
			return []Call{call("s3:GetObjectVersion", object)}, nil
		}
		return []Call{call("s3:GetObject", object)}, nil
	case http.MethodPut, http.MethodPost:
		calls := []Call{call("s3:PutObject", object)}
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
			src, _ = url.PathUnescape(strings.TrimPrefix(src, "/"))
			src, _, _ = strings.Cut(src, "?")
			calls = append(calls, call("s3:GetObject", "arn:aws:s3:::"+src))
		}
		return calls, nil
	case http.MethodDelete:
		if versioned {
			return []Call{call("s3:DeleteObjectVersion", object)}, nil
		}
		return []Call{call("s3:DeleteObject", object)}, nil
	}
	return []Call{call("s3:"+r.Method+"Object", object)}, nil
}

func denyS3(w http.ResponseWriter, d Denial) {
	writeS3Error(w, http.StatusForbidden, "AccessDenied", d.Message())
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}{Code: code, Message: msg, RequestID: newRequestID()})
}

// arns builds the ARNs of the local account and region.
type arns struct{ account string }

func (c arns) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + Region + ":" + c.account + ":" + resource
}

// table is a table's ARN from a name or an ARN (the API takes either).
func (c arns) table(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return c.arn("dynamodb", "table/"+name)
}

package redact

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	stdlog "log"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestMasks(t *testing.T) {
	if got := Email("kari.nordmann@example.no"); got != "k***@example.no" {
		t.Error(got)
	}
	if got := Email("nonsense"); got != "***" {
		t.Error(got)
	}
	if got := Phone("+4791512345"); got != "***45" {
		t.Error(got)
	}
	if got := Email("åse@example.no"); got != "å***@example.no" {
		t.Error(got)
	}
}

const (
	token  = "Zm9vYmFyYmF6cXV4LW5vdC1hLXJlYWwtdG9rZW4tMDE" // 43 characters of base64url
	jwt    = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
	secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+b/9nl4Q7jM="
)

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		// Addresses, wherever they sit: keys, paths, quotes, SES's lists.
		"get EMAIL#kari@example.no/ACCOUNT: throttled":      "get EMAIL#k***@example.no/ACCOUNT: throttled",
		"ORG#o1/PENDING#ola.nordmann+x@example.no":          "ORG#o1/PENDING#o***@example.no",
		"take quota org#o1#recipient#kari@example.no: boom": "take quota org#o1#recipient#k***@example.no: boom",
		`SIGNIN#"kari@example.no"`:                          `SIGNIN#"k***@example.no"`,
		"imports/o1/kari@example.no.csv":                    "imports/o1/k***@example.no.csv",
		"failed the check: a@b.no, kari@example.no":         "failed the check: a***@b.no, k***@example.no",
		"invalid: kari@@example..no and ola@localhost":      "invalid: k***@example..no and o***@localhost",
		"email=kari@example.no":                             "email=k***@example.no",
		"åse.ødegård@eksempel.no":                           "å***@eksempel.no",
		// Phone numbers as stored and as typed.
		"phone +4791512345 given":         "phone ***45 given",
		"phone 915 12 345, or 915.12.345": "phone ***45, or ***45",
		"(555) 123-4567":                  "***67",
		"tel:+47 915 12 345.":             "tel:***45.",
		// Tokens and secrets.
		"token " + token + " used":      "token [token] used",
		"#token=" + token:               "#token=[token]",
		"Bearer " + jwt:                 "Bearer [jwt]",
		"secret " + secret + " rotated": "secret whsec_*** rotated",
		// Left alone: times, dates, addresses of machines, ids, counts,
		// module versions in stack traces, AWS account numbers in ARNs.
		"2026-12-02T01:10:43.766Z":                             "2026-12-02T01:10:43.766Z",
		"2026-12-02 01:10:43":                                  "2026-12-02 01:10:43",
		"dial tcp 192.168.100.200:443: refused":                "dial tcp 192.168.100.200:443: refused",
		"RequestID: 1524a42d-d1eb-07e9-5e88-f58c14685da5":      "RequestID: 1524a42d-d1eb-07e9-5e88-f58c14685da5",
		"ORG#bf5cc9fde6e6c06673abdfc5254825c7":                 "ORG#bf5cc9fde6e6c06673abdfc5254825c7",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOP": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOP",
		"row 1234 of 5000":                                     "row 1234 of 5000",
		"github.com/aws/aws-lambda-go@v1.55.0/lambda/x.go":     "github.com/aws/aws-lambda-go@v1.55.0/lambda/x.go",
		"arn:aws:sts::123456789012:assumed-role/r/f":           "arn:aws:sts::123456789012:assumed-role/r/f",
		"": "",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q)\n = %q\nwant %q", in, got, want)
		}
		if got := Text(Text(in)); got != Text(in) {
			t.Errorf("masking %q again gives %q", in, got)
		}
	}
}

type report struct {
	Sent    int               `json:"sent"`
	To      []string          `json:"to"`
	ByEmail map[string]int    `json:"byEmail"`
	Extra   map[string]string `json:"extra"`
}

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("kari@example.no") }

// Every string a record carries is masked, however it is passed; numbers
// and times are not touched.
func TestHandlerMasksEveryString(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil)))
	wrapped := errors.Join(errors.New("ses send email: rejected kari@example.no"), fs.ErrNotExist)
	log.With("user", "ola@example.no").WithGroup("g").Error("failed for kari@example.no +4791512345",
		"error", wrapped,
		"key", "PENDING#kari@example.no",
		"token", token,
		"auth", "Bearer "+jwt,
		"secret", secret,
		"phone", "915 12 345",
		slog.Group("who", "email", "kari@example.no", "n", 12345678901),
		"report", report{Sent: 12345678, To: []string{"kari@example.no"}, ByEmail: map[string]int{"ola@example.no": 91512345},
			Extra: map[string]string{"phone": "+4791512345"}},
		"lazy", valuer{},
		"ms", int64(20261202011043),
		"at", time.Date(2026, 12, 2, 1, 10, 43, 0, time.UTC),
		"wait", 1500*time.Millisecond,
	)
	line := buf.String()
	for _, leak := range []string{"kari@", "ola@", "4791512345", "915 12 345", token, jwt, secret, "MfKQ9r8"} {
		if strings.Contains(line, leak) {
			t.Errorf("%q in %s", leak, line)
		}
	}
	for _, kept := range []string{`"msg":"failed for k***@example.no ***45"`, `"user":"o***@example.no"`,
		`"key":"PENDING#k***@example.no"`, `"n":12345678901`, `"sent":12345678`, `"o***@example.no":91512345`,
		`"ms":20261202011043`, `"at":"2026-12-02T01:10:43Z"`, `"wait":1500000000`, `"lazy":"k***@example.no"`,
		`"error":"ses send email: rejected k***@example.no\nfile does not exist"`} {
		if !strings.Contains(line, kept) {
			t.Errorf("no %s in %s", kept, line)
		}
	}
}

// The standard library's log package, which the Lambda runtime library
// prints returned errors and panics with, goes through the handler once
// it is the default.
func TestHandlerAsDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	defer slog.SetDefault(old)
	slog.SetDefault(slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))))
	stdlog.Printf("%s", `{"errorMessage":"get EMAIL#kari@example.no/ACCOUNT: throttled","errorType":"wrapError"}`)
	if strings.Contains(buf.String(), "kari@") || !strings.Contains(buf.String(), "k***@example.no") {
		t.Fatal(buf.String())
	}
}

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Fatal("nil")
	}
	err := Error(errors.Join(errors.New("read imports/o1/kari@example.no.csv"), context.DeadlineExceeded))
	if err.Error() != "read imports/o1/k***@example.no.csv\ncontext deadline exceeded" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	if Error(err) != err {
		t.Fatal("masked twice")
	}
}

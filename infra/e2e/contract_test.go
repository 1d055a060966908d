package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"onboarding/infra/local"
	"onboarding/infra/samtemplate"
	"onboarding/infra/testenv"
	"onboarding/shared/importjob"
	"onboarding/shared/roster"
)

var (
	contractOnce   sync.Once
	contractRouter routers.Router
	contractDoc    *openapi3.T
	contractErr    error
)

// contract loads the OpenAPI document the web apps are written against.
func contract(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	contractOnce.Do(func() {
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", openapi3filter.FileBodyDecoder)
		loader := openapi3.NewLoader()
		contractDoc, contractErr = loader.LoadFromFile(filepath.Join(testenv.RepoRoot(), "shared", "httpapi", "openapi.yaml"))
		if contractErr != nil {
			return
		}
		if contractErr = contractDoc.Validate(loader.Context); contractErr != nil {
			return
		}
		contractDoc.Servers = nil // match any host: the tests run on free ports
		contractRouter, contractErr = legacy.NewRouter(contractDoc)
	})
	if contractErr != nil {
		t.Fatalf("openapi.yaml: %v", contractErr)
	}
	return contractDoc, contractRouter
}

// checkContract validates one real request and its response against the
// OpenAPI document. A route the document does not describe fails the test.
func checkContract(t *testing.T, req *http.Request, reqBody []byte, res *http.Response, resBody []byte) {
	t.Helper()
	_, router := contract(t)
	route, params, err := router.FindRoute(req)
	if err != nil {
		if res.StatusCode == http.StatusNotFound {
			return // an unknown route is the gateway's 404, not the contract's
		}
		t.Fatalf("%s %s is not in openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	// Only requests the service accepted must match the request schema: the
	// tests also send bad ones on purpose.
	if res.StatusCode < 400 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("request %s %s does not match openapi.yaml: %v", req.Method, req.URL.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	out.SetBodyBytes(resBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("response %d to %s %s does not match openapi.yaml: %v", res.StatusCode, req.Method, req.URL.Path, err)
	}
}

// TestEveryRouteIsDocumented checks that template.yaml and openapi.yaml name
// the same routes.
func TestEveryRouteIsDocumented(t *testing.T) {
	doc, _ := contract(t)
	tpl, err := samtemplate.Load(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions(samtemplate.Context{
		Refs:   map[string]string{"Table": "t", "SigningKey": "k", "Bucket": "b"},
		Attrs:  map[string]string{},
		Pseudo: map[string]string{"AWS::StackName": "s", "AWS::Region": local.Region, "AWS::AccountId": "0", "AWS::Partition": "aws"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var inTemplate, inDoc []string
	for _, f := range fns {
		for _, r := range f.Routes {
			inTemplate = append(inTemplate, r.Key())
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inDoc = append(inDoc, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(inTemplate)
	sort.Strings(inDoc)
	if strings.Join(inTemplate, "\n") != strings.Join(inDoc, "\n") {
		t.Fatalf("routes differ\ntemplate.yaml:\n  %s\nopenapi.yaml:\n  %s", strings.Join(inTemplate, "\n  "), strings.Join(inDoc, "\n  "))
	}
}

// TestRosterFieldsAreDocumented checks that the fields a column mapping may
// name, and the reasons a column is not read, are the ones openapi.yaml
// lists.
func TestRosterFieldsAreDocumented(t *testing.T) {
	doc, _ := contract(t)
	enum := func(schema *openapi3.Schema) []string {
		var out []string
		for _, v := range schema.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	if got, want := enum(doc.Components.Schemas["RosterField"].Value), roster.MappingFields(); !slices.Equal(got, want) {
		t.Errorf("RosterField\nopenapi.yaml: %v\ncode:         %v", got, want)
	}
	reasons := []string{roster.NotRecognised, roster.Repeated, roster.NoHeader, roster.MappedToIgnore, roster.NotInFile}
	if got := enum(doc.Components.Schemas["ColumnWarning"].Value.Properties["reason"].Value); !slices.Equal(got, reasons) {
		t.Errorf("ColumnWarning.reason\nopenapi.yaml: %v\ncode:         %v", got, reasons)
	}
	if got := doc.Components.Schemas["Import"].Value.Properties["warnings"].Value.MaxItems; got == nil || *got != importjob.MaxColumnWarnings {
		t.Errorf("Import.warnings maxItems %v, code %d", got, importjob.MaxColumnWarnings)
	}
}

package httpapi_test

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"onboarding/infra/samtemplate"
	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/authtoken"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/adminapi"
	"onboarding/shared/httpapi/importapi"
	"onboarding/shared/httpapi/publicapi"
	"onboarding/shared/partner"
)

type noTokens struct{}

func (noTokens) Verify(string) (authtoken.Claims, error) {
	return authtoken.Claims{}, errors.New("none")
}

// routeTables are the route tables each HTTP function's main registers,
// by the function's directory under functions/; the routes exist whatever
// the services (nothing is called here).
var routeTables = map[string]func(*httpapi.Router){
	"invite":  (&adminapi.Routes{Partners: &partner.Service{}, Sessions: &account.Sessions{}, Cursors: httpapi.NewCursors(make([]byte, 32))}).Register,
	"accept":  (&publicapi.Routes{}).Register,
	"imports": (&importapi.Routes{}).Register,
}

// Each function's route table registers exactly the routes template.yaml
// sends it, and all of them together exactly the operations openapi.yaml
// describes: a route added in one place and not the others fails here.
// (infra/e2e checks the same of template.yaml and openapi.yaml, and every
// answer against openapi.yaml.)
func TestRouteTablesMatchTemplateAndOpenAPI(t *testing.T) {
	tpl, err := samtemplate.Load(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions(samtemplate.Context{
		Refs:   map[string]string{"Table": "t", "SigningKey": "k", "Bucket": "b"},
		Attrs:  map[string]string{},
		Pseudo: map[string]string{"AWS::StackName": "s", "AWS::Region": "eu-north-1", "AWS::AccountId": "0", "AWS::Partition": "aws"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var inCode []string
	served := map[string]bool{}
	for _, f := range fns {
		var inTemplate []string
		for _, r := range f.Routes {
			inTemplate = append(inTemplate, r.Key())
		}
		register, ok := routeTables[f.Dir]
		if !ok {
			if len(inTemplate) > 0 {
				t.Errorf("functions/%s serves routes in template.yaml but has no route table here: %v", f.Dir, inTemplate)
			}
			continue
		}
		served[f.Dir] = true
		rt := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), noTokens{})
		register(rt)
		routes := rt.Routes()
		inCode = append(inCode, routes...)
		slices.Sort(routes)
		slices.Sort(inTemplate)
		if !slices.Equal(routes, inTemplate) {
			t.Errorf("functions/%s\n  code:          %s\n  template.yaml: %s", f.Dir, strings.Join(routes, "\n                 "),
				strings.Join(inTemplate, "\n                 "))
		}
	}
	for dir := range routeTables {
		if !served[dir] {
			t.Errorf("functions/%s is not in template.yaml", dir)
		}
	}

	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var inDoc []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				inDoc = append(inDoc, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(inCode)
	slices.Sort(inDoc)
	if !slices.Equal(inCode, inDoc) {
		t.Errorf("routes differ\n  code:\n    %s\n  openapi.yaml:\n    %s", strings.Join(inCode, "\n    "), strings.Join(inDoc, "\n    "))
	}
}

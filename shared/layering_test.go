// The packages under shared/ are layered: domain packages decide and import
// no AWS code and no adapter; adapters each wrap one outside service or transport and
// import no other adapter (the domain's types are what they share); the
// wiring builds adapters and hands them to the domain and the handlers.
package shared_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// adapters wrap one outside service or transport each.
// A package below one (httpapi/adminapi) is part of it.
var adapters = []string{"ddb", "httpapi", "mail", "objects", "streams", "signer", "invoke", "poster"}

// wiring may import adapters (it builds them); no adapter imports it.
var wiring = []string{"config", "trigger"}

const module = "onboarding/shared/"

// sharedImports returns each package under shared/ (by its path below it)
// with what its non-test files import.
func sharedImports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(out[pkg], p) {
				out[pkg] = append(out[pkg], p)
			}
		}
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNoAdapterImportsAnother(t *testing.T) {
	pkgs := sharedImports(t)
	for _, name := range append(slices.Clone(adapters), wiring...) {
		if _, ok := pkgs[name]; !ok {
			t.Errorf("shared/%s is listed here but has no Go files", name)
		}
	}
	for pkg, imps := range pkgs {
		from := root(pkg)
		if !slices.Contains(adapters, from) {
			continue
		}
		for _, imp := range imps {
			to, ok := strings.CutPrefix(imp, module)
			if to = root(to); !ok || to == from || !slices.Contains(adapters, to) && !slices.Contains(wiring, to) {
				continue
			}
			t.Errorf("adapter %s imports %s: move what they share into a domain package (or into the wiring)", from, to)
		}
	}
}

// Domain packages are tested without AWS: they import neither the SDK nor
// aws-lambda-go's event types (the store reads stream records, the
// handlers read events).
func TestDomainImportsNoAWS(t *testing.T) {
	for pkg, imps := range sharedImports(t) {
		if slices.Contains(adapters, root(pkg)) || slices.Contains(wiring, pkg) {
			continue
		}
		for _, imp := range imps {
			if strings.HasPrefix(imp, "github.com/aws/") {
				t.Errorf("domain package shared/%s imports %s (if it is an adapter, list it in adapters)", pkg, imp)
			}
		}
	}
}

// Domain packages declare the interfaces they need and are handed adapters
// by the wiring; one importing an adapter directly would take its transport
// (and its tests' emulators) along. Test support (packages whose name ends
// in "test") builds real adapters for tests and is exempt.
func TestDomainImportsNoAdapter(t *testing.T) {
	for pkg, imps := range sharedImports(t) {
		if slices.Contains(adapters, root(pkg)) || slices.Contains(wiring, pkg) || strings.HasSuffix(pkg, "test") {
			continue
		}
		for _, imp := range imps {
			to, ok := strings.CutPrefix(imp, module)
			if ok && slices.Contains(adapters, root(to)) {
				t.Errorf("domain package shared/%s imports adapter %s: declare an interface for what it needs, or move the pure part out of the adapter", pkg, to)
			}
		}
	}
}

// root is the first element of a package's path below shared/.
func root(pkg string) string {
	first, _, _ := strings.Cut(pkg, "/")
	return first
}

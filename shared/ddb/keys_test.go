package ddb

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// keyLiteral is how a key format shows in code: an upper-case prefix and
// "#" ("ORG#", "PSTATE#").
var keyLiteral = regexp.MustCompile(`^[A-Z]+#`)

// stringLiterals returns the string literals of the package's non-test
// files, by file name. Tests may spell keys out: they check the format
// from outside.
func stringLiterals(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out[name] = append(out[name], s)
				}
			}
			return true
		})
	}
	return out
}

// Every key format is built in keys.go: a key literal anywhere else in the
// store is a format a reader of keys.go would not see.
func TestKeysAreBuiltOnlyInKeysGo(t *testing.T) {
	for name, lits := range stringLiterals(t) {
		if name == "keys.go" {
			continue
		}
		for _, s := range lits {
			if keyLiteral.MatchString(s) {
				t.Errorf("%s: key literal %q (build keys in keys.go)", name, s)
			}
		}
	}
}

// keys.go's table names every prefix and fixed key part it builds.
func TestKeyTableListsEveryKey(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "keys.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	table := f.Doc.Text()
	part := regexp.MustCompile(`[A-Z]{2,}#|^[A-Z]{2,}$`)
	lits := stringLiterals(t)["keys.go"]
	if len(lits) < 20 {
		t.Fatalf("only %d literals in keys.go: the parse is wrong", len(lits))
	}
	for _, s := range lits {
		for _, p := range part.FindAllString(s, -1) {
			if !strings.Contains(table, p) {
				t.Errorf("keys.go builds %q (from %q) but its table does not list it", p, s)
			}
		}
	}
}

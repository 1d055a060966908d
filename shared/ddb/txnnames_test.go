package ddb

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A transaction's cancellation is read by item name, so a name asked for
// (t.failed, t.failure) that no t.add gives would never match: a typo
// would silently turn a conflict into a 500. Every name asked for must be
// one some transaction is built with.
func TestCancellationNamesAreItemNames(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	consts := map[string]string{}
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		ast.Inspect(f, func(n ast.Node) bool {
			if spec, ok := n.(*ast.ValueSpec); ok {
				for i, id := range spec.Names {
					if i < len(spec.Values) {
						if lit, ok := spec.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
			return true
		})
	}
	// name resolves an argument to the name it stands for: a literal or a
	// constant; "" for a computed name (unitItem(id)), which is checked by
	// the function that computes it.
	name := func(e ast.Expr) string {
		switch v := e.(type) {
		case *ast.BasicLit:
			s, _ := strconv.Unquote(v.Value)
			return s
		case *ast.Ident:
			return consts[v.Name]
		}
		return ""
	}
	added := map[string]bool{}
	type ask struct {
		name string
		at   token.Position
	}
	var asked []ask
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch {
			case sel.Sel.Name == "add" && len(call.Args) >= 1:
				if s := name(call.Args[0]); s != "" {
					added[s] = true
				}
			case (sel.Sel.Name == "failed" || sel.Sel.Name == "failure") && len(call.Args) == 2:
				if s := name(call.Args[1]); s != "" {
					asked = append(asked, ask{s, fset.Position(call.Pos())})
				}
			}
			return true
		})
	}
	if len(asked) < 20 {
		t.Fatalf("found %d lookups by name: the test no longer sees them", len(asked))
	}
	for _, a := range asked {
		if !added[a.name] {
			t.Errorf("%s: asks whether %q failed, but no transaction has an item of that name", a.at, a.name)
		}
	}
}

package samtemplate

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"
)

// A function's main only wires: it reads the environment, builds clients
// (shared/config), builds the handler (shared/trigger, or a route table)
// and hands it to lambda.Start. Logic in a main is reached only by the
// end-to-end tests, so it has no room to grow: 60 lines, one function.
func TestMainsOnlyWire(t *testing.T) {
	mains, err := filepath.Glob("../../functions/*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no mains found: %v", err)
	}
	for _, path := range mains {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(src, []byte("\n")); n > 60 {
			t.Errorf("%s: %d lines, more than 60: move the logic into a handler in shared/trigger", path, n)
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		starts := 0
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.Name != "main" {
					t.Errorf("%s: declares func %s: handlers and helpers belong in shared/", path, d.Name.Name)
				}
			case *ast.GenDecl:
				if d.Tok == token.TYPE {
					t.Errorf("%s: declares a type: input types belong with their handler in shared/trigger", path)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Start" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "lambda" {
					starts++
				}
			}
			if lit, ok := n.(*ast.FuncLit); ok {
				t.Errorf("%s:%d: a function literal: a handler's logic belongs in shared/", path, fileLine(src, int(lit.Pos())))
			}
			return true
		})
		if starts != 1 {
			t.Errorf("%s: calls lambda.Start %d times, want once", path, starts)
		}
	}
}

func fileLine(src []byte, pos int) int { return bytes.Count(src[:pos-1], []byte("\n")) + 1 }

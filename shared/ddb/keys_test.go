package ddb

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"onboarding/shared/quota"
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

// Quotas are stored under the names they had before the domain named them
// by kind: a changed name would start every live counter again from zero.
func TestQuotaNamesAreTheStoredOnes(t *testing.T) {
	for q, want := range map[quota.Name]string{
		{Kind: quota.SignInAddress, Subject: "kari@example.no"}:           "signin#address#kari@example.no",
		{Kind: quota.SignInSource, Subject: "2001:db8::/64"}:              "signin#source#2001:db8::/64",
		{Kind: quota.SignInAll}:                                           "signin#all",
		{Kind: quota.OrgInvitations, Org: "o1"}:                           "org#o1#invitations",
		{Kind: quota.OrgRecipient, Org: "o1", Subject: "kari@example.no"}: "org#o1#recipient#kari@example.no",
		{Kind: quota.ResetAddress, Subject: "kari@example.no"}:            "reset#address#kari@example.no",
		{Kind: quota.ResetSource, Subject: "192.0.2.1"}:                   "reset#source#192.0.2.1",
		{Kind: quota.AddressEmails, Subject: "kari@example.no"}:           "address#kari@example.no#emails",
		{Kind: quota.EmailChangeUser, Subject: "u1"}:                      "emailchange#user#u1",
		{Kind: quota.ExportUser, Subject: "u1"}:                           "export#user#u1",
	} {
		got, err := quotaName(q)
		if err != nil || got != want {
			t.Errorf("%+v: %q %v, want %q", q, got, err, want)
		}
	}
	if got, err := quotaName(quota.Name{Subject: "kari@example.no"}); err == nil {
		t.Errorf("a quota of no kind is named %q", got)
	}
	if k := quotaWindowKey("signin#all", time.Unix(1767225600, 0)); k != (key{"QUOTA#signin#all", "WINDOW#1767225600"}) {
		t.Errorf("window key %v", k)
	}
	if k := slidingQuotaKey("org#o1#recipient#kari@example.no"); k != (key{"QUOTA#org#o1#recipient#kari@example.no", "SLIDING"}) {
		t.Errorf("sliding key %v", k)
	}
}

// keyPrefix is how a key or quota name built in keys.go starts: letters
// and "#" ("ORG#", "QUOTA#", "signin#", "org#").
var keyPrefix = regexp.MustCompile(`^[A-Za-z]+#`)

// No key string is built outside keys.go, in the store or anywhere else: a
// string literal under shared/ or functions/ (tests excepted: they check
// the format from outside) that starts as one of keys.go's literals does is
// a key format a reader of keys.go would not see.
func TestNoKeyStringOutsideKeysGo(t *testing.T) {
	prefixes := map[string]bool{}
	for _, s := range stringLiterals(t)["keys.go"] {
		if p := keyPrefix.FindString(s); p != "" {
			prefixes[p] = true
		}
	}
	for _, p := range []string{"ORG#", "MEMBER#", "QUOTA#", "signin#", "org#"} {
		if !prefixes[p] {
			t.Fatalf("keys.go builds no %q: the parse is wrong (found %v)", p, prefixes)
		}
	}
	keysGo, err := filepath.Abs("keys.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, dir := range []string{"..", "../../functions"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			if abs, _ := filepath.Abs(path); abs == keysGo {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if p := keyPrefix.FindString(s); err == nil && prefixes[p] {
					t.Errorf("%s: %q starts as a key keys.go builds (build it there)", fset.Position(lit.Pos()), s)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

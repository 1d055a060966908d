package search_test

import (
	"strings"
	"testing"

	"onboarding/shared/fault"
	"onboarding/shared/search"
)

// Case, accents and the letters no decomposition takes apart all fold to
// plain lower-case letters, so Ørjan, orjan and ORJAN are one search.
func TestFoldIgnoresCaseAndAccents(t *testing.T) {
	for in, want := range map[string]string{
		"Ørjan":            "orjan",
		"ORJAN":            "orjan",
		"orjan":            "orjan",
		"Émilie":           "emilie",
		"Åse":              "ase",
		"Ærø":              "aero",
		"Straße":           "strasse",
		"Łukasz":           "lukasz",
		"Müller":           "muller",
		"Ñúñez":            "nunez",
		"  Anna ":          "anna",
		"Per.Ola@Ex.NO":    "per.ola@ex.no",
		"Søren Kierkegård": "soren kierkegard",
		"":                 "",
	} {
		if got := search.Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// A person's terms are their folded email and names, each once, sorted.
func TestTermsAreDistinctAndFolded(t *testing.T) {
	got := strings.Join(search.Terms("ANNA@x.no", "Anna", "anna"), ",")
	if got != "anna,anna@x.no" {
		t.Fatalf("terms %q", got)
	}
	if got := search.Terms("", "", ""); len(got) != 0 {
		t.Fatalf("no terms: %q", got)
	}
}

// q is 1 to 100 characters, not only spaces, no control characters; a bad
// one is named.
func TestQueryIsCheckedAndFolded(t *testing.T) {
	var errs fault.Fields
	if got := search.Query("Ørj", &errs); got != "orj" || errs.Err() != nil {
		t.Fatalf("%q %v", got, errs.Err())
	}
	for _, bad := range []string{"   ", strings.Repeat("a", 101), "a\x00b", "\xff"} {
		var errs fault.Fields
		search.Query(bad, &errs)
		if len(errs) != 1 || errs[0].Field != "q" {
			t.Errorf("%q: %+v", bad, errs)
		}
	}
	var ok fault.Fields
	search.Query(strings.Repeat("é", 100), &ok)
	if ok.Err() != nil {
		t.Fatalf("100 characters: %v", ok.Err())
	}
}

// Anna Andersen (anna@x.no) is in the index under three terms. "an"
// matches all three: only the entry that sorts first answers. "and" only
// matches her last name: that entry answers. Each entry decides alone, so
// a cursor between them cannot list her twice or lose her.
func TestAPersonMatchingOnTwoTermsAnswersOnce(t *testing.T) {
	terms := search.Terms("anna@x.no", "Anna", "Andersen")
	sk := func(term string) string { return term + "#u1" }
	answers := func(prefix string) []string {
		var out []string
		for _, term := range terms {
			if search.Answers(prefix, term, terms, sk) {
				out = append(out, term)
			}
		}
		return out
	}
	for prefix, want := range map[string]string{
		"an":     "andersen",
		"ann":    "anna",
		"anna@":  "anna@x.no",
		"and":    "andersen",
		"b":      "",
		"anna@x": "anna@x.no",
	} {
		if got := strings.Join(answers(prefix), ","); got != want {
			t.Errorf("%q answered by %q, want %q", prefix, got, want)
		}
	}
}

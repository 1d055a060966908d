// Package search folds names and addresses into the terms a list search
// matches, and decides which index entry of a person answers a query, so a
// person matching on two terms is listed once.
package search

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"onboarding/shared/fault"
)

// MaxQuery is the longest query, in characters.
const MaxQuery = 100

// letters that no decomposition takes apart: folded by hand, the way a
// Nordic, German or Polish speaker types them without their keyboard.
var letters = strings.NewReplacer("ø", "o", "æ", "ae", "œ", "oe", "ł", "l", "đ", "d", "ð", "d", "þ", "th", "ı", "i")

var folder = cases.Fold()

// Fold is s as the index stores it and a query is matched: case folded
// (ß is ss), accents removed (é is e, å is a), ø, æ, ł and their kin
// spelled in plain letters, outer spaces trimmed.
func Fold(s string) string {
	s = folder.String(strings.TrimSpace(s))
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return letters.Replace(out)
}

// Terms are the distinct folded terms a person is found by: email, first
// and last name (empty ones left out), in order.
func Terms(email, firstName, lastName string) []string {
	var out []string
	for _, t := range []string{email, firstName, lastName} {
		if f := Fold(t); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// Query checks a q parameter and folds it; a bad one is named in errs.
func Query(q string, errs *fault.Fields) string {
	n := utf8.RuneCountInString(q)
	folded := Fold(q)
	switch {
	case !utf8.ValidString(q) || n < 1 || n > MaxQuery || folded == "":
		errs.Add("q", string(fault.Invalid), "1 to 100 characters: the start of an email, first or last name")
	case strings.ContainsFunc(q, unicode.IsControl):
		errs.Add("q", string(fault.Invalid), "no control characters")
	}
	return folded
}

// Answers reports whether the index entry of term (one of the person's
// terms, in the index under sortKey(term)) answers prefix: the term matches
// and no term of the same person that sorts before it matches too (that
// entry, read first, answered already). Cursors stay right: each entry's
// answer depends on the entry alone.
func Answers(prefix, term string, terms []string, sortKey func(string) string) bool {
	if !strings.HasPrefix(term, prefix) {
		return false
	}
	for _, u := range terms {
		if u != term && strings.HasPrefix(u, prefix) && sortKey(u) < sortKey(term) {
			return false
		}
	}
	return true
}

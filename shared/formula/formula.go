// Package formula keeps spreadsheet programs from running text the service
// writes into a cell (partners' CSV attachments, import reports) as a
// formula: OWASP's advice on CSV injection, widened to what spreadsheets
// accept as the start of one.
package formula

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Neutralize puts an apostrophe before a cell a spreadsheet could run:
// one whose first character after any white space (which spreadsheets
// skip) is = + - @ or its full-width form (＝ ＋ － ＠, which some read as
// the ASCII sign), and one that starts with a tab or carriage return. A
// phone number in E.164 (+ and digits only) is left as it is: it reads as
// a number at worst.
//
// The same goes for each part after a semicolon: the CSV files are
// comma-separated and their writer does not quote a semicolon, but a
// spreadsheet set to a semicolon list separator (as in most of the
// languages served) opens them split there, so "x;=HYPERLINK(...)" would
// become a cell of its own.
func Neutralize(s string) string {
	if !strings.Contains(s, ";") {
		return neutralizeCell(s)
	}
	parts := strings.Split(s, ";")
	for i, p := range parts {
		parts[i] = neutralizeCell(p)
	}
	return strings.Join(parts, ";")
}

func neutralizeCell(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '+' && len(s) > 1 && strings.Trim(s[1:], "0123456789") == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	switch r, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, unicode.IsSpace)); r {
	case '=', '+', '-', '@', '\uff1d', '\uff0b', '\uff0d', '\uff20':
		return "'" + s
	}
	return s
}

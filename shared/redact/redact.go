// Package redact masks personal data for logs: enough to correlate, not
// enough to identify. Email and Phone mask a value known to be one; Text
// finds and masks them (and tokens) in free text, such as an error's; the
// Handler applies Text to everything a log record carries, because errors
// quote keys, request data and addresses that no call site can foresee.
package redact

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Email masks an address: "kari.nordmann@example.no" -> "k***@example.no".
func Email(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return "***"
	}
	_, n := utf8.DecodeRuneInString(local)
	return local[:n] + "***@" + strings.TrimLeft(domain, "@")
}

// Phone keeps the last two digits: "+4791512345" -> "***45".
func Phone(s string) string {
	if len(s) < 4 {
		return "***"
	}
	return "***" + s[len(s)-2:]
}

var (
	// An address as people type it, valid or not (doubled @ or dots); the
	// local part stops at characters that separate fields in keys, paths
	// and log lines (# / = : quotes).
	emailRE = regexp.MustCompile(`[\p{L}\p{N}._%+\-!$&*?^{|}~]+@+[\p{L}\p{N}\-]+(?:\.+[\p{L}\p{N}\-]+)*`)
	// Eight to fifteen digits, with the separators people write numbers
	// with: +47 915 12 345, (555) 123-4567, 915.12.345.
	phoneRE = regexp.MustCompile(`\+?\(?\d[\d ().\-]{5,}\d`)
	dateRE  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
	ipv4RE  = regexp.MustCompile(`^\d{1,3}(\.\d{1,3}){3}$`)
	// Access tokens (JWTs), webhook secrets, and anything shaped like an
	// invitation token (256 bits in unpadded base64url: 43 characters).
	jwtRE    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	secretRE = regexp.MustCompile(`whsec_[A-Za-z0-9+/=_-]+`)
	tokenRE  = regexp.MustCompile(`[A-Za-z0-9_-]{43,}`)
)

// Text masks, wherever they appear in s: email addresses (as Email does),
// phone-number-like runs of 8 to 15 digits (as Phone does), JWTs, webhook
// secrets (whsec_...) and 43-character base64url strings (the shape of an
// invitation token). Dates, IPv4 addresses and the account number in an
// ARN are left alone. Masking again changes nothing.
func Text(s string) string {
	if s == "" {
		return s
	}
	if strings.Contains(s, "eyJ") {
		s = jwtRE.ReplaceAllString(s, "[jwt]")
	}
	if strings.Contains(s, "whsec_") {
		s = secretRE.ReplaceAllString(s, "whsec_***")
	}
	if len(s) >= 43 {
		s = replaceBounded(s, tokenRE, isBase64URL, func(m string) string {
			if len(m) != 43 {
				return m
			}
			return "[token]"
		})
	}
	if strings.Contains(s, "@") {
		s = emailRE.ReplaceAllStringFunc(s, func(m string) string {
			if _, domain, _ := strings.Cut(m, "@"); moduleVersion(strings.TrimLeft(domain, "@")) {
				return m
			}
			return Email(m)
		})
	}
	if digits(s) >= 8 {
		s = replaceBounded(s, phoneRE, isWordRune, func(m string) string {
			n := digits(m)
			if n < 8 || n > 15 || dateRE.MatchString(m) || ipv4RE.MatchString(m) {
				return m
			}
			return Phone(strings.TrimRight(m, " ().-"))
		})
	}
	return s
}

// replaceBounded replaces the matches of re that are not part of a longer
// word (the runes either side are not inside), as mask says.
func replaceBounded(s string, re *regexp.Regexp, inside func(rune) bool, mask func(string) string) string {
	var b strings.Builder
	last := 0
	for _, loc := range re.FindAllStringIndex(s, -1) {
		before, _ := utf8.DecodeLastRuneInString(s[:loc[0]])
		after, _ := utf8.DecodeRuneInString(s[loc[1]:])
		if loc[0] > 0 && inside(before) || loc[1] < len(s) && inside(after) ||
			before == ':' && after == ':' { // an account number in an ARN
			continue
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(mask(s[loc[0]:loc[1]]))
		last = loc[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isBase64URL(r rune) bool {
	return r < utf8.RuneSelf && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func digits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// moduleVersion reports a "domain" that is a Go module version, as in the
// paths of a stack trace (github.com/aws/aws-lambda-go@v1.55.0/...): its
// last label is a number, which no top-level domain is.
func moduleVersion(domain string) bool {
	i := strings.LastIndexByte(domain, '.')
	if i < 0 {
		return false
	}
	return strings.Trim(domain[i+1:], "0123456789") == ""
}

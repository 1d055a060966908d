// Package redact masks personal data for logs: enough to correlate, not
// enough to identify.
package redact

import "strings"

// Email masks an address: "kari.nordmann@example.no" -> "k***@example.no".
func Email(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return "***"
	}
	return local[:1] + "***@" + domain
}

// Phone keeps the last two digits: "+4791512345" -> "***45".
func Phone(s string) string {
	if len(s) < 4 {
		return "***"
	}
	return "***" + s[len(s)-2:]
}

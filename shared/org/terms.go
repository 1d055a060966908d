package org

import (
	"net/url"
	"strings"
	"time"
	"unicode"

	"onboarding/shared/fault"
)

// Limits of an organisation's terms.
const (
	MaxTermsURLLen     = 2000
	MaxTermsVersionLen = 40
)

// checkTermsURL returns the trimmed URL, or "" to remove the terms; a
// problem is added to errs. Only https: the page links to it, and a
// javascript: or http: link would run or be read on the way.
func checkTermsURL(s string, errs *fault.Fields) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case len(s) > MaxTermsURLLen:
		errs.Add("termsUrl", string(fault.Invalid), "at most 2000 characters")
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil:
		errs.Add("termsUrl", string(fault.Invalid), "an https:// URL, without a user name or password")
	}
	return s
}

// checkTermsVersion returns the trimmed version ("" removes the terms):
// 1 to 40 printable characters.
func checkTermsVersion(s string, errs *fault.Fields) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	ok := len([]rune(s)) <= MaxTermsVersionLen
	for _, r := range s {
		ok = ok && unicode.IsPrint(r)
	}
	if !ok {
		errs.Add("termsVersion", string(fault.Invalid), "1 to 40 printable characters, such as 2026-03")
	}
	return s
}

// TermsStatus is what a member is told of their organisation's terms.
type TermsStatus struct {
	URL     string `json:"url"`
	Version string `json:"version"`
	// AcceptedVersion is the version the member accepted ("" none yet).
	AcceptedVersion string     `json:"acceptedVersion"`
	AcceptedAt      *time.Time `json:"acceptedAt,omitempty"`
	// ConsentDue is set when the organisation's version is not the one
	// accepted: the member should read and accept it (POST /me/consent).
	ConsentDue bool `json:"consentDue"`
}

// Terms returns what m is told of o's terms, or nil when o has none.
func (m Member) Terms(o Organisation) *TermsStatus {
	v := o.Settings.TermsVersion
	if v == "" {
		return nil
	}
	return &TermsStatus{URL: o.Settings.TermsURL, Version: v, AcceptedVersion: m.TermsVersion,
		AcceptedAt: m.TermsAcceptedAt, ConsentDue: m.TermsVersion != v}
}

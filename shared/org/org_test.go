package org

import "testing"

func TestNormalizeLanguage(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "nb": "nb", "EN-gb": "en-GB", " fr ": "fr", "ar": "ar"} {
		got, err := NormalizeLanguage(in)
		if err != nil || got != want {
			t.Errorf("NormalizeLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "zz-not-a-tag!", "und"} {
		if _, err := NormalizeLanguage(bad); err == nil {
			t.Errorf("NormalizeLanguage(%q) succeeded", bad)
		}
	}
}

func TestNormalizeRegion(t *testing.T) {
	if got, err := NormalizeRegion("no"); err != nil || got != "NO" {
		t.Fatalf("got %q %v", got, err)
	}
	if _, err := NormalizeRegion("XX1"); err == nil {
		t.Fatal("bad region accepted")
	}
}

func TestLifetime(t *testing.T) {
	if got := NewSettings(0).InvitationLifetimeDays; got != 30 {
		t.Fatalf("default lifetime %d", got)
	}
	o := Organisation{Settings: NewSettings(7)}
	if o.Lifetime().Hours() != 7*24 {
		t.Fatalf("lifetime %v", o.Lifetime())
	}
}

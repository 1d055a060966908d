package clean

import (
	"strings"
	"testing"

	"onboarding/shared/fault"
)

func TestEmail(t *testing.T) {
	ok := map[string]string{
		" Kari.Nordmann@Example.NO ": "kari.nordmann@example.no",
		"a+tag@sub.example.com":      "a+tag@sub.example.com",
	}
	for in, want := range ok {
		got, err := Email(in)
		if err != nil || got != want {
			t.Errorf("Email(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "no-at-sign", "Kari <kari@example.no>", "a@b", "a@@b.no", strings.Repeat("a", 250) + "@x.no"} {
		if _, err := Email(bad); fault.CodeOf(err) != fault.Invalid {
			t.Errorf("Email(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestName(t *testing.T) {
	cases := []struct {
		in       string
		required bool
		want     string
		ok       bool
	}{
		{"  Åse  ", true, "Åse", true},
		{"", true, "", false},
		{"", false, "", true},
		{"Bad\x00Name", true, "", false},
		{"Bad\u202eName", true, "", false}, // right-to-left override
		{strings.Repeat("x", 101), true, "", false},
		{"محمد", true, "محمد", true},
	}
	for _, tc := range cases {
		got, err := Name(tc.in, 100, tc.required)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Name(%q) = %q, %v", tc.in, got, err)
		}
	}
}

// A message may be empty and span lines; other control characters, text
// that is not UTF-8 and text over the limit are refused.
func TestMessage(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"  Hei!\n\tSee you.\r\n ", "Hei!\n\tSee you.", true},
		{"Velkommen, Åse 👋", "Velkommen, Åse 👋", true},
		{strings.Repeat("ø", 20), strings.Repeat("ø", 20), true},
		{strings.Repeat("ø", 21), "", false},
		{"bell\x07", "", false},
		{"del\x7f", "", false},
		{"\xff\xfe", "", false},
	}
	for _, tc := range cases {
		got, err := Message(tc.in, 20)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Message(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && fault.CodeOf(err) != fault.Invalid {
			t.Errorf("Message(%q): %v, want invalid", tc.in, err)
		}
	}
}

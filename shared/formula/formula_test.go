package formula

import "testing"

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "Kari": "Kari", "kari@example.no": "kari@example.no", "a = b": "a = b", "12-3": "12-3",
		"+4791512345": "+4791512345", "+": "'+", "+47 915": "'+47 915", " +4791512345": "' +4791512345",
		"=1+1": "'=1+1", "+1": "+1", "+1+1": "'+1+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)",
		" =1": "' =1", "\t=1": "'\t=1", "\r=1": "'\r=1", "\n=1": "'\n=1", " \t\r\n-1": "' \t\r\n-1", "\u00a0@x": "'\u00a0@x",
		"\uff1d1": "'\uff1d1", "\uff0b1": "'\uff0b1", "\uff0d1": "'\uff0d1", "\uff20x": "'\uff20x", "\u3000\uff1d1": "'\u3000\uff1d1",
		"\tplain": "'\tplain", "\rplain": "'\rplain", " plain": " plain",
		// Split at a semicolon by a spreadsheet set to that list separator.
		"x;=HYPERLINK(A1);y": "x;'=HYPERLINK(A1);y", "Nordmann; -1": "Nordmann;' -1", "a;b": "a;b", "=1;=2": "'=1;'=2",
		"+4791512345;+4791512346": "+4791512345;+4791512346",
	} {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

package redact

import "testing"

func TestMasks(t *testing.T) {
	if got := Email("kari.nordmann@example.no"); got != "k***@example.no" {
		t.Error(got)
	}
	if got := Email("nonsense"); got != "***" {
		t.Error(got)
	}
	if got := Phone("+4791512345"); got != "***45" {
		t.Error(got)
	}
}

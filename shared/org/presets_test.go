package org

import (
	"slices"
	"strings"
	"testing"

	"onboarding/shared/access"
	"onboarding/shared/fault"
)

// Every preset keeps the role invariants: exactly one owner role, keyed
// "admin", with every ability; keys unique; every role it invites exists;
// names in the product's languages; its fields pass the settings check.
func TestPresetsAreValid(t *testing.T) {
	for _, name := range append(PresetNames(), "") {
		t.Run(name, func(t *testing.T) {
			p, err := FindPreset(name)
			if err != nil {
				t.Fatal(err)
			}
			// The table must be one its owners can save back unchanged.
			if _, err := CheckRoles(p.Roles, p.Roles); err != nil {
				t.Fatalf("the preset's roles fail the role table's checks: %v", err)
			}
			owners := 0
			keys := map[string]bool{}
			for _, r := range p.Roles {
				if keys[r.Key] {
					t.Fatalf("role %s twice", r.Key)
				}
				keys[r.Key] = true
				if r.Owner {
					owners++
					if r.Key != access.Owner {
						t.Fatalf("the owner role is keyed %q", r.Key)
					}
					for _, ab := range access.Abilities {
						if !r.Has(ab) {
							t.Fatalf("the owner lacks %s", ab)
						}
					}
				}
				for _, lang := range []string{"en", "nb"} {
					if r.Names[lang] == "" {
						t.Fatalf("role %s has no %s name", r.Key, lang)
					}
				}
			}
			if owners != 1 {
				t.Fatalf("%d owner roles", owners)
			}
			owner, _ := p.Roles.Find(access.Owner)
			for _, r := range p.Roles {
				if !slices.Contains(owner.MayInvite, r.Key) {
					t.Fatalf("the owner may not invite %s", r.Key)
				}
				for _, k := range r.MayInvite {
					if !keys[k] {
						t.Fatalf("role %s invites %q, which does not exist", r.Key, k)
					}
				}
			}
			if name != "" && name != PresetNone {
				for _, r := range p.Roles {
					for _, lang := range []string{"sv", "da", "fi", "de", "nl", "fr", "es", "pl", "id", "ar"} {
						if r.Names[lang] == "" {
							t.Fatalf("role %s has no %s name", r.Key, lang)
						}
					}
				}
			}
			var errs fault.Fields
			CheckCustomFields(p.Fields, &errs)
			s := p.Settings(30)
			if len(errs) != 0 || s.CustomFields == nil {
				t.Fatalf("fields: %v", errs)
			}
		})
	}
	lw, _ := FindPreset(PresetLoneWorker)
	if got := lw.Roles.MonitoredKeys(); !slices.Equal(got, []string{"lone-worker"}) || lw.Settings(30).DefaultLanguage != "nb" {
		t.Fatalf("lone-worker: monitored %v", got)
	}
	sm, _ := FindPreset(PresetServiceManager)
	for _, r := range sm.Roles {
		if !r.Owner && len(r.MayInvite) > 0 {
			t.Fatalf("service-manager: %s invites; only admins do", r.Key)
		}
	}
	_, err := FindPreset("lone worker")
	if e, ok := fault.As(err); !ok || e.Code != fault.Invalid || !strings.Contains(e.Message, "lone-worker, video-call, service-manager, health-services, none") {
		t.Fatalf("unknown preset: %v", err)
	}
}

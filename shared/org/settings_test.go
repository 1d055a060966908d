package org

import (
	"context"
	"strings"
	"testing"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
)

// settingsStore holds one organisation whose only member is an
// organisation-wide admin; calls beyond these are not expected.
type settingsStore struct {
	Store
	org   Organisation
	saved *Settings
}

func (s *settingsStore) Actor(context.Context, string, string) (Organisation, *Member, error) {
	return s.org, &Member{UserID: "ada", Role: access.Admin}, nil
}

func (s *settingsStore) UpdateSettings(_ context.Context, _ string, st Settings, _ audit.Entry) error {
	s.saved = &st
	return nil
}

func TestExistingAccountsSetting(t *testing.T) {
	// Settings stored before the setting existed read as "add".
	old := NewSettings(30)
	old.ExistingAccounts = ""
	store := &settingsStore{org: Organisation{ID: "o1", Settings: old, Roles: access.DefaultRoles()}}
	svc := &Service{Store: store, Now: func() time.Time { return time.Unix(0, 0) }}
	ctx := context.Background()
	st, err := svc.Settings(ctx, "ada", "o1")
	if err != nil || st.ExistingAccounts != ExistingAccountsAdd || !st.AddsExistingAccounts() {
		t.Fatalf("default: %q %v", st.ExistingAccounts, err)
	}
	if NewSettings(30).ExistingAccounts != ExistingAccountsAdd {
		t.Fatal("a new organisation adds existing accounts, as the Video Call product does")
	}

	bad := "sometimes"
	_, err = svc.UpdateSettings(ctx, "ada", "o1", SettingsChange{ExistingAccounts: &bad})
	if e, ok := fault.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != "existingAccounts" || store.saved != nil {
		t.Fatalf("an unknown value: %v (saved %v)", err, store.saved)
	}
	invite := " invite "
	st, err = svc.UpdateSettings(ctx, "ada", "o1", SettingsChange{ExistingAccounts: &invite})
	if err != nil || st.ExistingAccounts != ExistingAccountsInvite || st.AddsExistingAccounts() ||
		store.saved == nil || store.saved.ExistingAccounts != ExistingAccountsInvite {
		t.Fatalf("invite: %+v %v", st, err)
	}
}

func TestTermsSettings(t *testing.T) {
	store := &settingsStore{org: Organisation{ID: "o1", Settings: NewSettings(30), Roles: access.DefaultRoles()}}
	var entry audit.Entry
	svc := &Service{Store: &auditingStore{store, &entry}, Now: func() time.Time { return time.Unix(0, 0) }}
	ctx := context.Background()
	str := func(s string) *string { return &s }
	long := "https://example.com/" + strings.Repeat("a", 1981)
	for _, c := range []struct {
		name, url, version, field string
	}{
		{"http", "http://example.com/terms", "v1", "termsUrl"},
		{"script", "javascript:alert(1)", "v1", "termsUrl"},
		{"user info", "https://a:b@example.com/terms", "v1", "termsUrl"},
		{"too long", long, "v1", "termsUrl"},
		{"version too long", "https://example.com/terms", strings.Repeat("v", 41), "termsVersion"},
		{"control character", "https://example.com/terms", "v\x001", "termsVersion"},
		{"URL without version", "https://example.com/terms", "", "termsVersion"},
	} {
		_, err := svc.UpdateSettings(ctx, "ada", "o1", SettingsChange{TermsURL: str(c.url), TermsVersion: str(c.version)})
		if e, ok := fault.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != c.field || store.saved != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	ok := "https://example.com/" + strings.Repeat("a", 1980)
	st, err := svc.UpdateSettings(ctx, "ada", "o1", SettingsChange{TermsURL: str(ok), TermsVersion: str(" 2026-03 ")})
	if err != nil || st.TermsURL != ok || st.TermsVersion != "2026-03" || store.saved.TermsVersion != "2026-03" {
		t.Fatalf("2,000 characters and a version: %+v %v", st, err)
	}
	if entry.Action != audit.SettingsUpdated || entry.Before["termsVersion"] != "" || entry.After["termsVersion"] != "2026-03" {
		t.Fatalf("the new version is audited: %+v", entry)
	}
}

// auditingStore keeps the audit entry of the last settings change.
type auditingStore struct {
	*settingsStore
	entry *audit.Entry
}

func (s *auditingStore) UpdateSettings(ctx context.Context, orgID string, st Settings, e audit.Entry) error {
	*s.entry = e
	return s.settingsStore.UpdateSettings(ctx, orgID, st, e)
}

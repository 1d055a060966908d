package ddb_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
)

func cursorOf(k map[string]string) string {
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestCursorKeysStayInTheirQuery: a start key inside the caller's partition
// but outside the range a list reads (which DynamoDB refuses with an error)
// is a malformed cursor naming the field, before any query.
func TestCursorKeysStayInTheirQuery(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, _ := f.provisionAndJoin(t, "ada@example.no")
	pk := "ORG#" + orgID
	pending := pk + "#INVITES#pending"
	now := f.clock.Now()
	due := "DUE#" + now.UTC().Format("2006-01-02")
	lists := map[string]func(cursor string) error{
		"invitations": func(c string) error { _, _, err := f.store.ListInvitations(ctx, orgID, "", 10, c, now); return err },
		"pending": func(c string) error {
			_, _, err := f.store.ListInvitations(ctx, orgID, invite.Pending, 10, c, now)
			return err
		},
		"members":    func(c string) error { _, _, err := f.store.ListMembers(ctx, orgID, "", "", 10, c); return err },
		"audit":      func(c string) error { _, _, err := f.store.AuditTrail(ctx, orgID, 10, c); return err },
		"deliveries": func(c string) error { _, _, err := f.store.Deliveries(ctx, orgID, "vakt", 10, c); return err },
		"due":        func(c string) error { _, err := f.store.Due(ctx, now, now, c); return err },
	}
	cases := map[string][]map[string]string{
		"invitations": {{"PK": pk, "SK": "META"}, {"PK": pk, "SK": "MEMBER#x"}, {"PK": pk, "SK": "INVITE#"}, {"PK": pk, "SK": "~"}},
		"pending": {{"PK": pk, "SK": "MEMBER#x", "GSI1PK": pending, "GSI1SK": "x"}, {"PK": pk, "SK": "INVITE#y", "GSI1PK": pending, "GSI1SK": "x"},
			{"PK": pk, "SK": "INVITE#x", "GSI1PK": pending, "GSI1SK": ""}},
		"members":    {{"PK": pk, "SK": "AUDIT#x"}, {"PK": pk, "SK": "INVITE#x"}, {"PK": pk, "SK": "META"}},
		"audit":      {{"PK": pk, "SK": "MEMBER#x"}, {"PK": pk, "SK": "AUDIT#"}, {"PK": pk, "SK": "ZZZ"}},
		"deliveries": {{"PK": pk, "SK": "DELIVERY#other#x"}, {"PK": pk, "SK": "MEMBER#x"}},
		"due": {{"PK": pk, "SK": "INVITE#x", "DuePK": due, "DueSK": now.Add(time.Hour).UTC().Format(time.RFC3339) + "#o#x"},
			{"PK": pk, "SK": "INVITE#x", "DuePK": due, "DueSK": "~"}},
	}
	for name, keys := range cases {
		for _, k := range keys {
			err := lists[name](cursorOf(k))
			e, ok := fault.As(err)
			if !ok || e.Code != fault.Malformed || len(e.Fields) != 1 || e.Fields[0].Field != "cursor" {
				t.Errorf("%s from %v: %v; want a malformed cursor", name, k, err)
			}
		}
	}
	// Keys in range still work.
	if err := lists["members"](cursorOf(map[string]string{"PK": pk, "SK": "MEMBER#0"})); err != nil {
		t.Errorf("a key in range: %v", err)
	}
}

func TestCursorKeyIsMadeOnceAndShared(t *testing.T) {
	client, table := testenv.Table(t)
	ctx := context.Background()
	keys := make([][]byte, 4)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() { // cold starts at once agree on one key
			defer wg.Done()
			k, err := ddb.New(client, table, time.Now).CursorKey(ctx)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys {
		if len(k) != 32 || !bytes.Equal(k, keys[0]) {
			t.Fatalf("keys differ or are short: %x", keys)
		}
	}
	other, table2 := testenv.Table(t)
	k2, err := ddb.New(other, table2, time.Now).CursorKey(ctx)
	if err != nil || bytes.Equal(k2, keys[0]) {
		t.Fatalf("another deployment's key: %x %v", k2, err)
	}
}

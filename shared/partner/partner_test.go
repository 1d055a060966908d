package partner

import (
	"slices"
	"strings"
	"testing"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// Apply checks a webhook's URL as the transport will (webhook.CheckURL) and
// gives a new webhook a Standard Webhooks secret.
func TestApplyChecksTheWebhook(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for url, ok := range map[string]bool{"https://alarm.example/hooks": true, "https://10.1.2.3/x": false, "http://127.0.0.1:8080/x": false} {
		hook := &struct {
			URL string `json:"url"`
		}{url}
		p, secret, err := Apply(nil, Config{Name: "Vakt", Webhook: hook}, Rules{}, now)
		if (err == nil) != ok {
			t.Errorf("%s: %v", url, err)
		}
		if ok && (!strings.HasPrefix(secret, "whsec_") || len(p.Webhook.Secrets) != 1 || p.Webhook.Secrets[0].Value != secret) {
			t.Errorf("%s: secret %q, stored %+v", url, secret, p.Webhook)
		}
	}
	hook := &struct {
		URL string `json:"url"`
	}{"http://127.0.0.1:8080/x"}
	if _, _, err := Apply(nil, Config{Name: "Vakt", Webhook: hook}, Rules{AllowLoopback: true}, now); err != nil {
		t.Errorf("loopback allowed locally: %v", err)
	}
}

func TestRotationKeepsTheOldSecretForItsGrace(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	url := &struct {
		URL string `json:"url"`
	}{"https://alarm.example/hooks"}
	p, first, err := Apply(nil, Config{Name: "Vakt", Webhook: url}, Rules{}, now)
	if err != nil || first == "" {
		t.Fatal(err)
	}
	hours := 2
	p2, second, err := Apply(&p, Config{Name: "Vakt", Webhook: url, RotateSecret: true, SecretGraceHours: &hours}, Rules{}, now)
	if err != nil || second == "" || second == first {
		t.Fatal(err)
	}
	if live := p2.Webhook.LiveSecrets(now.Add(time.Hour)); len(live) != 2 || live[0] != second {
		t.Fatalf("within the grace: %d", len(live))
	}
	if live := p2.Webhook.LiveSecrets(now.Add(3 * time.Hour)); len(live) != 1 || live[0] != second {
		t.Fatalf("after the grace: %d", len(live))
	}
	if _, again, _ := Apply(&p2, Config{Name: "Vakt 24", Webhook: url}, Rules{}, now); again != "" {
		t.Fatal("a save without rotation made a new secret")
	}
	if _, _, err := Apply(nil, Config{Name: "Vakt"}, Rules{}, now); err == nil {
		t.Fatal("a partner without a channel")
	}
}

func TestDiff(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	p := Partner{OrgID: "o1", ID: "vakt", Generation: "g1", AddedOn: AddedOnAccept}
	src := Source{OrgID: "o1", Email: "kari@example.no", Roles: access.DefaultRoles(), Member: &org.Member{UserID: "u1", Email: "kari@example.no", FirstName: "Kari", Role: "member", Units: []string{"nord"}}}
	w, ok := p.WorkerOf(src)
	if !ok {
		t.Fatal("a member is a worker")
	}
	ev, snap := Diff(nil, w, ok, "o1", "vakt", "kari@example.no", "e1", at)
	if ev == nil || ev.Type != WorkerAdded || snap.Version != 1 || !snap.Present || ev.Worker.Meta.Version != 1 {
		t.Fatalf("added: %+v %+v", ev, snap)
	}
	if again, same := Diff(&snap, w, ok, "o1", "vakt", "kari@example.no", "e2", at); again != nil || same.Version != 1 {
		t.Fatal("no change told again")
	}
	src.Member.Phone = "+4791512345"
	w2, _ := p.WorkerOf(src)
	ev, snap2 := Diff(&snap, w2, true, "o1", "vakt", "kari@example.no", "e3", at)
	if ev == nil || ev.Type != WorkerUpdated || !slices.Equal(ev.ChangedFields, []string{"phoneNumbers"}) || snap2.Version != 2 {
		t.Fatalf("updated: %+v", ev)
	}
	// Out of the partner's units: removed, with the member's id.
	p.Units = []string{"sor"}
	w3, ok3 := p.WorkerOf(src)
	ev, snap3 := Diff(&snap2, w3, ok3, "o1", "vakt", "kari@example.no", "e4", at)
	if ok3 || ev == nil || ev.Type != WorkerRemoved || ev.Worker.Active || ev.Worker.ExternalID != "u1" || snap3.Present || snap3.Version != 3 {
		t.Fatalf("removed: %+v %+v", ev, snap3)
	}
	// Invited workers count only for partners told on invitation.
	inv := Source{OrgID: "o1", Email: "ola@example.no", Roles: access.DefaultRoles(), Invitation: &invite.Invitation{Email: "ola@example.no", Role: "member", Status: invite.Pending}}
	if _, ok := (Partner{AddedOn: AddedOnAccept}).WorkerOf(inv); ok {
		t.Fatal("an invitation for a partner told on acceptance")
	}
	if w, ok := (Partner{AddedOn: AddedOnInvite}).WorkerOf(inv); !ok || w.Monitoring.Status != "invited" {
		t.Fatal("an invitation for a partner told on invitation")
	}
	if _, ok := p.WorkerOf(Source{Roles: access.DefaultRoles(), Member: &org.Member{Role: "admin"}}); ok {
		t.Fatal("an admin is not a monitored worker")
	}
}

package partner

import (
	"context"
	"encoding/base64"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"onboarding/shared/invite"
	"onboarding/shared/org"
)

func TestWebhookURLs(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://alarm.example/hooks": true, "http://alarm.example/hooks": false, "https://10.1.2.3/x": false,
		"https://169.254.169.254/": false, "https://[::1]/x": false, "https://localhost/x": false, "ftp://alarm.example": false,
		"https://user:pw@alarm.example/": false, "/relative": false, "https://8.8.8.8/x": true,
		"https://[64:ff9b::a00:1]/x": false, "https://[2002:a9fe:a9fe::1]/x": false, "https://[::ffff:10.0.0.1]/x": false,
	} {
		if err := checkURL(url, false); (err == nil) != ok {
			t.Errorf("%s: %v", url, err)
		}
	}
	if err := checkURL("http://127.0.0.1:8080/x", true); err != nil {
		t.Errorf("loopback allowed locally: %v", err)
	}
}

// An IPv6 address that carries an IPv4 one (NAT64, 6to4, mapped,
// compatible, translated, ISATAP, Teredo) is refused when that IPv4 address
// is not public: a translator or tunnel would carry the connection there.
// NAT64, Teredo and the IPv4-compatible form are refused whatever they carry.
func TestEmbeddedIPv4AddressesAreChecked(t *testing.T) {
	for addr, public := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true, "2a00:1450:4001:830::200e": true,
		"10.0.0.1": false, "0.1.2.3": false, "100.64.0.1": false,
		// NAT64: the well-known prefix and the local-use one.
		"64:ff9b::10.0.0.1": false, "64:ff9b::127.0.0.1": false, "64:ff9b::169.254.169.254": false,
		"64:ff9b::8.8.8.8": false, "64:ff9b:1::a00:1": false, "64:ff9b:1:ffff::7f00:1": false,
		// 6to4: the IPv4 address in bits 16 to 48.
		"2002:a00:1::1": false, "2002:7f00:1::1": false, "2002:a9fe:a9fe::1": false, "2002:c0a8:101::1": false,
		"2002:6440:1::1": false, "2002:ac10:1::": false, "2002:808:808::1": true,
		// IPv4-mapped, IPv4-compatible, IPv4-translated.
		"::ffff:10.0.0.1": false, "::ffff:127.0.0.1": false, "::ffff:169.254.169.254": false, "::ffff:8.8.8.8": true,
		"::10.0.0.1": false, "::127.0.0.1": false, "::169.254.169.254": false, "::8.8.8.8": false,
		"::ffff:0:10.0.0.1": false, "::ffff:0:127.0.0.1": false, "::ffff:0:8.8.8.8": true,
		// Teredo.
		"2001:0:4136:e378:8000:63bf:3fff:fdd2": false, "2001:0:a00:1::1": false,
		// ISATAP interface ids.
		"2a00:1450::5efe:a00:1": false, "2a00:1450::200:5efe:7f00:1": false, "2a00:1450::200:5efe:808:808": true,
		// Zoned addresses are judged without their zone.
		"fe80::1%eth0": false, "64:ff9b::a00:1%eth0": false,
	} {
		ip := netip.MustParseAddr(addr)
		if got := PublicAddress(ip); got != public {
			t.Errorf("PublicAddress(%s) = %v", addr, got)
		}
		err := refusePrivate("tcp", netip.AddrPortFrom(ip, 443).String(), nil)
		if (err == nil) != public {
			t.Errorf("dialling %s: %v", addr, err)
		}
	}
}

func TestSecretsAndSignature(t *testing.T) {
	s, err := NewSecret()
	if err != nil || !strings.HasPrefix(s, "whsec_") {
		t.Fatal(s, err)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if len(key) < 24 {
		t.Fatalf("%d bytes", len(key))
	}
	// The Standard Webhooks specification's example.
	sig, err := Sign([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || sig != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("%s %v", sig, err)
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
	src := Source{OrgID: "o1", Email: "kari@example.no", Member: &org.Member{UserID: "u1", Email: "kari@example.no", FirstName: "Kari", Role: "member", Units: []string{"nord"}}}
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
	inv := Source{OrgID: "o1", Email: "ola@example.no", Invitation: &invite.Invitation{Email: "ola@example.no", Role: "member", Status: invite.Pending}}
	if _, ok := (Partner{AddedOn: AddedOnAccept}).WorkerOf(inv); ok {
		t.Fatal("an invitation for a partner told on acceptance")
	}
	if w, ok := (Partner{AddedOn: AddedOnInvite}).WorkerOf(inv); !ok || w.Monitoring.Status != "invited" {
		t.Fatal("an invitation for a partner told on invitation")
	}
	if _, ok := p.WorkerOf(Source{Member: &org.Member{Role: "admin"}}); ok {
		t.Fatal("an admin is not a monitored worker")
	}
}

// A webhook that cannot be reached fails without its URL in the error:
// the error is logged and shown as the delivery's last error, and a URL's
// query may hold the partner's credentials.
func TestUnreachableWebhookErrorHasNoURL(t *testing.T) {
	_, err := NewHTTPPoster(true).Post(context.Background(), "http://127.0.0.1:1/hook?key=partner-credential", nil, []byte("{}"))
	if err == nil || strings.Contains(err.Error(), "partner-credential") {
		t.Fatalf("%v", err)
	}
}

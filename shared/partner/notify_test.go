package partner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/monitor"
	"onboarding/shared/partner"
	"onboarding/shared/phone"
	"onboarding/shared/poster"
)

type links struct {
	mu   sync.Mutex
	byTo map[string]string
}

func (l *links) SendInvitation(_ context.Context, inv invite.Invitation, link string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, tok, _ := strings.Cut(link, "#token=")
	l.byTo[inv.Email] = tok
	return nil
}
func (l *links) SendAdded(context.Context, invite.Invitation, string, string, string) error {
	return nil
}

// partnerMail records what would be emailed.
type partnerMail struct {
	mu       sync.Mutex
	changes  []partner.Delivery
	rosters  []partner.Delivery
	disabled []string
}

func (m *partnerMail) SendChanges(_ context.Context, _ partner.Partner, d partner.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.changes = append(m.changes, d)
	return nil
}

func (m *partnerMail) SendRoster(_ context.Context, _ partner.Partner, d partner.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rosters = append(m.rosters, d)
	return nil
}

func (m *partnerMail) SendWebhookDisabled(_ context.Context, p partner.Partner, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.disabled = append(m.disabled, p.ID+": "+reason)
	return nil
}

type world struct {
	t        *testing.T
	clock    *testenv.Clock
	store    *ddb.Store
	invites  *invite.Service
	members  *membership.Service
	partners *partner.Service
	mail     *links
	notifier *partner.Notifier
	pmail    *partnerMail
	recv     *testenv.Receiver
	orgID    string
	admin    string
	client   *dynamodb.Client // the test table, for what only time does to items (TTL)
	table    string
}

func newWorld(t *testing.T) *world {
	client, table := testenv.Table(t)
	clk := testenv.NewClock()
	store := ddb.New(client, table, clk.Now)
	w := &world{t: t, clock: clk, store: store, mail: &links{byTo: map[string]string{}}, pmail: &partnerMail{}, client: client, table: table}
	w.invites = &invite.Service{Store: store, Mailer: w.mail, Phones: phone.Normalize, AcceptURL: "http://localhost/accept", Now: clk.Now,
		Hasher: account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}}}
	w.members = &membership.Service{Store: store, Monitor: store, Phones: phone.Normalize, Now: clk.Now}
	w.partners = &partner.Service{Store: store, AllowLoopback: true, Now: clk.Now}
	w.notifier = &partner.Notifier{Store: store, Poster: poster.New(true), Mailer: w.pmail, Now: clk.Now}
	ctx := context.Background()
	p, err := w.invites.Provision(ctx, invite.ProvisionRequest{Name: "Nordlys Care", AdminEmail: "ada@example.no", DefaultPhoneRegion: "NO"})
	if err != nil {
		t.Fatal(err)
	}
	w.orgID = p.OrgID
	w.admin = w.accept("ada@example.no")
	w.recv = testenv.NewReceiver(t, "")
	return w
}

func (w *world) accept(email string) string {
	w.t.Helper()
	w.mail.mu.Lock()
	tok := w.mail.byTo[email]
	w.mail.mu.Unlock()
	j, err := w.invites.Accept(context.Background(), invite.AcceptRequest{Token: tok, FirstName: "Kari", LastName: "Nordmann",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		w.t.Fatalf("accept %s: %v", email, err)
	}
	return j.UserID
}

// connect adds the webhook partner "vakt" and trusts its secret.
func (w *world) connect(c partner.Config) partner.View {
	w.t.Helper()
	if c.Name == "" {
		c.Name = "Vakt 24"
	}
	if c.Webhook == nil {
		c.Webhook = &struct {
			URL string `json:"url"`
		}{w.recv.URL}
	}
	v, _, err := w.partners.Put(context.Background(), w.admin, w.orgID, "vakt", c)
	if err != nil {
		w.t.Fatal(err)
	}
	if v.Secret != "" {
		w.recv.Trust(v.Secret)
	}
	return v
}

// worker invites and accepts a monitored worker; the change is notified.
func (w *world) worker(email string) string {
	w.t.Helper()
	if _, err := w.invites.Invite(context.Background(), w.admin, w.orgID, invite.Request{Email: email, Role: "member", Phone: "915 12 345"}); err != nil {
		w.t.Fatal(err)
	}
	uid := w.accept(email)
	w.notify(partner.Change{OrgID: w.orgID, Email: email})
	return uid
}

// members250 invites and accepts 250 monitored workers (a burst) and
// returns their changes, not yet notified.
func (w *world) members250() []partner.Change {
	w.t.Helper()
	var changes []partner.Change
	for i := range 250 {
		email := fmt.Sprintf("w%03d@example.no", i)
		if _, err := w.invites.Invite(context.Background(), w.admin, w.orgID, invite.Request{Email: email, Role: "member"}); err != nil {
			w.t.Fatal(err)
		}
		w.accept(email)
		changes = append(changes, partner.Change{OrgID: w.orgID, Email: email})
	}
	return changes
}

func (w *world) notify(changes ...partner.Change) {
	w.t.Helper()
	if err := w.notifier.Notify(context.Background(), w.orgID, changes); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) setContacts(uid string, phones ...string) {
	w.t.Helper()
	var cs []monitor.Contact
	for i, p := range phones {
		cs = append(cs, monitor.Contact{Name: fmt.Sprintf("Contact %d", i+1), Phone: p})
	}
	safe := "blåbær"
	if _, err := w.members.SetMonitoring(context.Background(), w.admin, w.orgID, uid, membership.MonitoringChange{EscalationContacts: cs, SafeWord: &safe}); err != nil {
		w.t.Fatal(err)
	}
	w.notify(partner.Change{OrgID: w.orgID, UserID: uid})
}

func types(evs []testenv.ReceivedEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// A worker's life reaches the partner as added, updated, removed: each
// once, in order, signed, shaped like a SCIM user with the monitoring
// extension; the same changes again send nothing.
func TestPartnerToldOfAWorkersLife(t *testing.T) {
	w := newWorld(t)
	w.connect(partner.Config{})
	uid := w.worker("kari@example.no")
	w.setContacts(uid, "41234567", "41234568")
	w.notify(partner.Change{OrgID: w.orgID, UserID: uid}) // the stream may repeat a record
	if err := w.members.Remove(context.Background(), w.admin, w.orgID, uid); err != nil {
		t.Fatal(err)
	}
	w.notify(partner.Change{OrgID: w.orgID, Email: "kari@example.no", UserID: uid})

	evs := w.recv.Events()
	if got := types(evs); !slices.Equal(got, []string{partner.WorkerAdded, partner.WorkerUpdated, partner.WorkerRemoved}) {
		t.Fatalf("events %v (rejected %v)", got, w.recv.Rejected())
	}
	var added, updated map[string]any
	json.Unmarshal(evs[0].Worker, &added)
	json.Unmarshal(evs[1].Worker, &updated)
	ext := updated[partner.SchemaMonitoring].(map[string]any)
	contacts := ext["escalationContacts"].([]any)
	if added["externalId"] != uid || added["userName"] != "kari@example.no" || added["active"] != true ||
		len(contacts) != 2 || contacts[0].(map[string]any)["phone"] != "+4741234567" || ext["safeWord"] != "blåbær" {
		t.Fatalf("added %v / updated %v", added, updated)
	}
	if !slices.Contains(evs[1].ChangedFields, "escalationContacts") || slices.Contains(evs[1].ChangedFields, "name") {
		t.Fatalf("changed fields %v", evs[1].ChangedFields)
	}
	var removed map[string]any
	json.Unmarshal(evs[2].Worker, &removed)
	if removed["active"] != false || removed["id"] != added["id"] || removed["externalId"] != uid {
		t.Fatalf("removed %v", removed)
	}
	if w.recv.Duplicates() != 0 || len(w.recv.Rejected()) != 0 {
		t.Fatalf("duplicates %d, rejected %v", w.recv.Duplicates(), w.recv.Rejected())
	}
	page, err := w.partners.Deliveries(context.Background(), w.admin, w.orgID, "vakt", 10, "")
	if err != nil || len(page.Items) != 3 || page.Items[0].Status != partner.Delivered || page.Items[0].Attempts != 1 {
		t.Fatalf("deliveries %+v %v", page, err)
	}
	b, _ := json.Marshal(page)
	if strings.Contains(string(b), "blåbær") || strings.Contains(string(b), "+4741234567") {
		t.Fatal("the deliveries list shows workers' details")
	}
}

// The receiver down for hours loses nothing: deliveries wait in order
// behind the failing one and go out when it answers again.
func TestReceiverDownLosesNothing(t *testing.T) {
	w := newWorld(t)
	w.connect(partner.Config{})
	w.recv.Answer(500, 0)
	uid := w.worker("kari@example.no")
	w.setContacts(uid, "41234567", "41234568")
	w.worker("ola@example.no")
	if n := len(w.recv.Events()); n != 0 {
		t.Fatalf("%d events while down", n)
	}
	page, _ := w.partners.Deliveries(context.Background(), w.admin, w.orgID, "vakt", 10, "")
	var oldest partner.DeliveryView
	for _, d := range page.Items {
		if d.Events[0].Type == partner.WorkerAdded && d.Events[0].Email == "kari@example.no" {
			oldest = d
		}
	}
	if oldest.Status != partner.Pending || oldest.Attempts != 1 || oldest.NextAttemptAt == nil || !strings.Contains(oldest.LastError, "500") {
		t.Fatalf("first delivery %+v", oldest)
	}
	// Retries back off; nothing overtakes the first.
	for range 6 {
		w.clock.Add(time.Hour)
		if _, err := w.notifier.RetryDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	w.recv.Answer(0, 0)
	w.clock.Add(3 * time.Hour)
	if _, err := w.notifier.RetryDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := types(w.recv.Events())
	if !slices.Equal(got, []string{partner.WorkerAdded, partner.WorkerUpdated, partner.WorkerAdded}) {
		t.Fatalf("after the outage: %v", got)
	}
	page, _ = w.partners.Deliveries(context.Background(), w.admin, w.orgID, "vakt", 10, "")
	for _, d := range page.Items {
		if d.Status != partner.Delivered {
			t.Fatalf("%+v", d)
		}
	}
	for _, d := range page.Items {
		if d.ID == oldest.ID && d.Attempts < 3 {
			t.Fatalf("the first delivery was tried %d times", d.Attempts)
		}
	}
}

// A 410 pauses the webhook and tells the admins; saving the partner again
// sends what waited.
func TestGoneEndpointIsPausedUntilSaved(t *testing.T) {
	w := newWorld(t)
	w.connect(partner.Config{})
	w.recv.Answer(410, 0)
	w.worker("kari@example.no")
	v, err := w.partners.Get(context.Background(), w.admin, w.orgID, "vakt")
	if err != nil || v.Webhook.DisabledAt == nil || len(w.pmail.disabled) != 1 {
		t.Fatalf("%+v %v %v", v.Webhook, err, w.pmail.disabled)
	}
	w.worker("ola@example.no") // waits too
	w.clock.Add(time.Hour)
	w.notifier.RetryDue(context.Background())
	if len(w.recv.Events()) != 0 {
		t.Fatal("sent to a disabled endpoint")
	}
	w.recv.Answer(0, 0)
	w.connect(partner.Config{Version: &v.Version})
	w.notifier.RetryDue(context.Background())
	if got := types(w.recv.Events()); !slices.Equal(got, []string{partner.WorkerAdded, partner.WorkerAdded}) {
		t.Fatalf("after saving: %v", got)
	}
}

// failingStore fails recording after n successes, as a function that dies
// in the middle of a batch.
type failingStore struct {
	*ddb.Store
	mu    sync.Mutex
	left  int
	armed bool
}

func (f *failingStore) Record(ctx context.Context, ds []partner.Delivery, snaps []partner.Snapshot, prev map[partner.SnapshotKey]int) error {
	f.mu.Lock()
	if f.armed {
		if f.left == 0 {
			f.mu.Unlock()
			return errors.New("the function died")
		}
		f.left--
	}
	f.mu.Unlock()
	return f.Store.Record(ctx, ds, snaps, prev)
}

// A run that dies halfway through a burst loses nothing and duplicates
// nothing: the stream retries the batch, and what was recorded is not
// recorded again. The burst goes in deliveries of at most 100 events, a
// worker's changes in order.
func TestCrashMidBatchAndBatching(t *testing.T) {
	w := newWorld(t)
	w.connect(partner.Config{})
	ctx := context.Background()
	changes := w.members250()
	fs := &failingStore{Store: w.store, left: 1, armed: true}
	n := *w.notifier
	n.Store = fs
	if err := n.Notify(ctx, w.orgID, changes); err == nil {
		t.Fatal("the crash went unnoticed")
	}
	fs.armed = false
	if err := n.Notify(ctx, w.orgID, changes); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(ctx, w.orgID, changes); err != nil { // and once more: nothing new
		t.Fatal(err)
	}
	evs := w.recv.Events()
	seen := map[string]bool{}
	for _, e := range evs {
		var wk map[string]any
		json.Unmarshal(e.Worker, &wk)
		if seen[wk["userName"].(string)] {
			t.Fatalf("%s told twice", wk["userName"])
		}
		seen[wk["userName"].(string)] = true
	}
	if len(evs) != 250 || w.recv.Duplicates() != 0 {
		t.Fatalf("%d events, %d duplicates", len(evs), w.recv.Duplicates())
	}
	for _, m := range w.recv.Messages() {
		if len(m.Events) > partner.MaxEvents {
			t.Fatalf("a delivery of %d events", len(m.Events))
		}
	}
	t.Logf("250 workers in %d deliveries", len(w.recv.Messages()))
}

// A rotated secret keeps signing beside the new one for the grace period:
// a receiver still on the old secret verifies, then one on the new.
func TestSecretRotation(t *testing.T) {
	w := newWorld(t)
	first := w.connect(partner.Config{})
	w.worker("kari@example.no")
	v := first.Version
	rotated := w.connect(partner.Config{RotateSecret: true, Version: &v})
	if rotated.Secret == "" || rotated.Secret == first.Secret || len(rotated.Secrets) != 2 || rotated.Secrets[1].ExpiresAt == nil {
		t.Fatalf("rotation %+v", rotated)
	}
	w.recv.Trust(first.Secret) // the receiver has not switched yet
	w.worker("ola@example.no")
	w.recv.Trust(rotated.Secret)
	w.worker("per@example.no")
	if n := len(w.recv.Events()); n != 3 || len(w.recv.Rejected()) != 0 {
		t.Fatalf("%d events, rejected %v", n, w.recv.Rejected())
	}
	// After the grace period only the new secret signs.
	w.clock.Add(partner.DefaultSecretGrace + time.Minute)
	w.recv.Trust(first.Secret)
	w.recv.Answer(0, 0)
	w.worker("liv@example.no")
	if len(w.recv.Rejected()) == 0 {
		t.Fatal("the old secret still signs after its grace period")
	}
	body, _ := json.Marshal(rotated.Partner)
	if strings.Contains(string(body), "whsec_") {
		t.Fatal("the partner view shows a secret")
	}
}

// A partner covering one unit hears of that unit's workers only; a new
// partner is told of the workers there already (resync), and one that
// registers workers before they accept hears of invitations.
func TestCoverageAndResync(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.worker("kari@example.no") // no partner yet
	w.connect(partner.Config{})
	if err := w.notifier.Resync(ctx, w.orgID, "vakt"); err != nil {
		t.Fatal(err)
	}
	if got := types(w.recv.Events()); !slices.Equal(got, []string{partner.WorkerAdded}) {
		t.Fatalf("resync: %v", got)
	}
	if _, err := w.invites.Invite(ctx, w.admin, w.orgID, invite.Request{Email: "ola@example.no", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	w.notify(partner.Change{OrgID: w.orgID, Email: "ola@example.no"})
	if n := len(w.recv.Events()); n != 1 {
		t.Fatalf("an invitation reached a partner told on acceptance (%d)", n)
	}
	v, _ := w.partners.Get(ctx, w.admin, w.orgID, "vakt")
	w.connect(partner.Config{AddedOn: partner.AddedOnInvite, Version: &v.Version})
	if err := w.notifier.Resync(ctx, w.orgID, "vakt"); err != nil {
		t.Fatal(err)
	}
	evs := w.recv.Events()
	var wk map[string]any
	json.Unmarshal(evs[len(evs)-1].Worker, &wk)
	if len(evs) != 2 || evs[1].Type != partner.WorkerAdded || wk[partner.SchemaMonitoring].(map[string]any)["status"] != "invited" {
		t.Fatalf("invited worker: %v %v", types(evs), wk)
	}
}

// A receiver that does not answer in time is a failed attempt, retried.
func TestSlowReceiverTimesOut(t *testing.T) {
	w := newWorld(t)
	w.connect(partner.Config{})
	w.notifier.Timeout = 300 * time.Millisecond
	w.recv.Answer(0, 2*time.Second)
	w.worker("kari@example.no")
	page, _ := w.partners.Deliveries(context.Background(), w.admin, w.orgID, "vakt", 10, "")
	if d := page.Items[0]; d.Status != partner.Pending || d.LastError != "no answer within 300ms" || d.NextAttemptAt == nil {
		t.Fatalf("%+v", d)
	}
	w.recv.Answer(0, 0)
	w.clock.Add(time.Minute)
	w.notifier.RetryDue(context.Background())
	if n := len(w.recv.Events()); n != 1 {
		t.Fatalf("%d events after the retry", n)
	}
}

// On request, the partner's addresses get every worker it covers as they
// are now, behind whatever waits.
func TestPartnerRosterOnRequest(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := partner.Config{}
	c.Email = &struct {
		Addresses []string `json:"addresses"`
		Language  string   `json:"language"`
	}{Addresses: []string{"vakt@example.no"}, Language: "nb"}
	w.connect(c)
	uid := w.worker("kari@example.no")
	w.setContacts(uid, "41234567", "41234568")
	w.worker("ola@example.no")
	if _, err := w.invites.Invite(ctx, w.admin, w.orgID, invite.Request{Email: "bo@example.no", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	w.accept("bo@example.no") // an admin: not a monitored worker
	d, err := w.partners.RequestRoster(ctx, w.admin, w.orgID, "vakt")
	if err != nil || d.Kind != partner.KindRoster || d.Channel != partner.ChannelEmail {
		t.Fatalf("%+v %v", d, err)
	}
	w.notifier.RetryDue(ctx)
	w.pmail.mu.Lock()
	defer w.pmail.mu.Unlock()
	if len(w.pmail.rosters) != 1 {
		t.Fatalf("%d roster emails", len(w.pmail.rosters))
	}
	var who []string
	for _, e := range w.pmail.rosters[0].Events {
		who = append(who, e.Worker.UserName)
		if e.Type != partner.WorkerCurrent {
			t.Fatalf("event type %s", e.Type)
		}
	}
	slices.Sort(who)
	if !slices.Equal(who, []string{"kari@example.no", "ola@example.no"}) {
		t.Fatalf("roster %v", who)
	}
	if len(w.pmail.changes) != 3 { // kari added and updated, ola added
		t.Fatalf("%d change emails", len(w.pmail.changes))
	}
	if _, err := (&partner.Service{Store: w.store, Now: w.clock.Now}).RequestRoster(ctx, w.admin, w.orgID, "nobody"); err == nil {
		t.Fatal("a roster for no partner")
	}
}

// A partner deleted and connected again under the same id starts afresh:
// it is told of every worker again, and nothing the earlier one had
// waiting goes to it.
func TestReconnectedPartnerStartsAfresh(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.connect(partner.Config{})
	w.worker("kari@example.no")
	w.recv.Answer(500, 0)
	w.worker("ola@example.no") // waits
	if err := w.partners.Delete(ctx, w.admin, w.orgID, "vakt"); err != nil {
		t.Fatal(err)
	}
	w.recv.Answer(0, 0)
	w.connect(partner.Config{})
	if err := w.notifier.Resync(ctx, w.orgID, "vakt"); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(time.Hour)
	w.notifier.RetryDue(ctx)
	evs := w.recv.Events()
	var who []string
	for _, e := range evs {
		var wk map[string]any
		json.Unmarshal(e.Worker, &wk)
		who = append(who, e.Type+" "+wk["userName"].(string))
	}
	// The first before the deletion; then both, in any order.
	slices.Sort(who[1:])
	want := []string{"worker.added kari@example.no", "worker.added kari@example.no", "worker.added ola@example.no"}
	if !slices.Equal(who, want) {
		t.Fatalf("%v", who)
	}
	page, _ := w.partners.Deliveries(ctx, w.admin, w.orgID, "vakt", 10, "")
	failed := 0
	for _, d := range page.Items {
		if d.Status == partner.Failed && d.LastError == "the partner it was for was deleted" {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("the earlier partner's waiting delivery: %+v", page.Items)
	}
}

// An email partner gets a burst in one email, not one per delivery.
func TestEmailPartnerGetsABurstInOneEmail(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := partner.Config{Name: "Vakt på e-post"}
	c.Email = &struct {
		Addresses []string `json:"addresses"`
		Language  string   `json:"language"`
	}{Addresses: []string{"vakt@example.no"}}
	if _, _, err := w.partners.Put(ctx, w.admin, w.orgID, "post", c); err != nil {
		t.Fatal(err)
	}
	changes := w.members250()
	w.notify(changes...)
	w.pmail.mu.Lock()
	defer w.pmail.mu.Unlock()
	if len(w.pmail.changes) != 1 || len(w.pmail.changes[0].Events) != 250 {
		t.Fatalf("%d emails", len(w.pmail.changes))
	}
	page, _ := w.partners.Deliveries(ctx, w.admin, w.orgID, "post", 10, "")
	for _, d := range page.Items {
		if d.Status != partner.Delivered || d.Attempts != 1 {
			t.Fatalf("%+v", d)
		}
	}
	if len(page.Items) != 3 {
		t.Fatalf("%d deliveries", len(page.Items))
	}
}

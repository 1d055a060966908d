package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/local"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// Names the seeded people get: common in the products' countries, accents
// included, so prefixes match as many as they would in a real roster.
var (
	firstNames = []string{"Anna", "Andreas", "Anders", "Astrid", "Åse", "Bjørn", "Berit", "Camilla", "Dag", "Émilie", "Erik", "Eva",
		"Frida", "Geir", "Hanne", "Håkon", "Ida", "Ingrid", "Jan", "Jonas", "Kari", "Knut", "Lars", "Linnea", "Magnus", "Maria",
		"Nils", "Nora", "Ola", "Ørjan", "Per", "Pia", "Ragnhild", "Siri", "Sofie", "Søren", "Thomas", "Tove", "Ulla", "Vilde",
		"Wenche", "Yasmin", "Zofia", "Łukasz", "Jürgen", "Mikael", "Marta", "Ahmed", "Fatima", "Oskar"}
	lastNames = []string{"Andersen", "Berg", "Christensen", "Dahl", "Eriksen", "Fredriksen", "Gundersen", "Hansen", "Haugen",
		"Iversen", "Jensen", "Johansen", "Karlsen", "Kristiansen", "Larsen", "Lie", "Moen", "Nilsen", "Nordmann", "Olsen",
		"Pedersen", "Ruud", "Solberg", "Strand", "Sæther", "Thorsen", "Ødegård", "Østby", "Aas", "Bakken", "Lindqvist",
		"Müller", "Nowak", "Kowalski", "Virtanen", "Korhonen", "Jørgensen", "Holm", "Lund", "Wiik"}
)

// search seeds 100,000 members and 20,000 pending invitations into one
// organisation straight into DynamoDB Local (the store's own item shapes,
// BatchWriteItem in parallel), then measures searches through the runner:
// DynamoDB requests and items read per page, and latency.
func (b *bench) search() error {
	const pageSize = 50
	// BENCH_SEARCH_MEMBERS (with a fifth as many invitations) seeds fewer,
	// for a quick try of the section.
	members := 100_000
	if n, err := strconv.Atoi(os.Getenv("BENCH_SEARCH_MEMBERS")); err == nil && n > 0 {
		members = n
	}
	invitations := members / 5
	email := "search-admin-" + b.run + "@example.no"
	payload, _ := json.Marshal(map[string]string{"name": "Search Bench", "adminEmail": email, "defaultPhoneRegion": "NO"})
	res, err := http.Post(b.stack.InvokeURL+"/2015-03-31/functions/ProvisionFunction/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	var prov struct{ OrgID string }
	json.NewDecoder(res.Body).Decode(&prov)
	res.Body.Close()
	b.orgID = prov.OrgID
	if b.admin, err = b.join(email); err != nil {
		return fmt.Errorf("search: join: %w", err)
	}

	// A unit a twentieth of the members are in, and a coordinator scoped
	// to it, for the filtered and unit-scoped searches.
	var north struct{ UnitID string }
	if err := b.expect("POST", "/orgs/"+b.orgID+"/units", b.admin, map[string]string{"name": "North"}, &north, 201); err != nil {
		return fmt.Errorf("search: unit: %w", err)
	}
	scopedEmail := "search-scoped-" + b.run + "@example.no"
	if err := b.expect("POST", "/orgs/"+b.orgID+"/invitations", b.admin, map[string]any{"email": scopedEmail, "role": "coordinator",
		"units": []string{north.UnitID}}, nil, 201); err != nil {
		return fmt.Errorf("search: invite the scoped coordinator: %w", err)
	}
	scoped, err := b.join(scopedEmail)
	if err != nil {
		return fmt.Errorf("search: join the scoped coordinator: %w", err)
	}

	now := time.Now().UTC()
	name := func(i int) (string, string, string) {
		f, l := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames)+i*7)%len(lastNames)]
		return f, l, fmt.Sprintf("%s.%s.%d@example.no", strings.ToLower(f), strings.ToLower(l), i)
	}
	var ms []org.Member
	for i := range members {
		f, l, e := name(i)
		role, units := "member", []string{}
		if i%10 == 0 {
			role = "reporter"
		}
		if i%20 == 0 {
			units = []string{north.UnitID}
		}
		ms = append(ms, org.Member{UserID: fmt.Sprintf("%032x", i+1), OrgID: b.orgID, OrgName: "Search Bench", Email: e, FirstName: f, LastName: l,
			Role: role, Units: units, JoinedAt: now})
	}
	var invs []invite.Invitation
	for i := range invitations {
		f, l, e := name(members + i)
		invs = append(invs, invite.Invitation{ID: invite.NewSortableID(now), OrgID: b.orgID, OrgName: "Search Bench", Email: "inv." + e,
			FirstName: f, LastName: l, Language: "nb", Role: "member", Units: []string{}, Attributes: org.Attributes{},
			Status: invite.Pending, DeliveryStatus: invite.DeliverySent, InvitedBy: "bench", CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour),
			TokenHash: fmt.Sprintf("%064x", i)})
	}
	client := dynamodb.NewFromConfig(local.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(env("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"))
	})
	store := ddb.New(client, b.table, time.Now)
	fmt.Fprintf(os.Stderr, "bench: seeding %d members and %d invitations\n", members, invitations)
	start := time.Now()
	const parts = 4 // each load keeps 4 batch writes in flight: 16 at once
	var wg sync.WaitGroup
	errs := make([]error, parts+1)
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[p] = store.LoadMembers(context.Background(), client, ms[p*members/parts:(p+1)*members/parts])
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[parts] = store.LoadInvitations(context.Background(), client, invs, false)
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("search: seed: %w", err)
		}
	}
	seeding := time.Since(start)

	type query struct{ kind, list, q, role, unit string }
	queries := []query{
		{"1 letter", "members", "a", "", ""},
		{"2 letters", "members", "an", "", ""},
		{"3 letters", "members", "and", "", ""},
		{"accented (Ørj)", "members", "Ørj", "", ""},
		{"folded (orj)", "members", "orj", "", ""},
		{"email (kari.n)", "members", "kari.n", "", ""},
		{"full name (andersen)", "members", "andersen", "", ""},
		{"no match (qx)", "members", "qx", "", ""},
		{"2 letters, role=reporter (a tenth)", "members", "an", "reporter", ""},
		{"2 letters, unit=North (a twentieth)", "members", "an", "", north.UnitID},
		{"2 letters, caller scoped to North", "members", "an", "", "scoped"},
		{"1 letter", "invitations", "s", "", ""},
		{"3 letters, pending", "invitations", "inv.e", "", ""},
		{"accented (Søre)", "invitations", "Søre", "", ""},
	}
	get := func(q query, cursor string) (int, string, time.Duration, error) {
		v := url.Values{"q": {q.q}, "limit": {fmt.Sprint(pageSize)}}
		if q.list == "invitations" && strings.Contains(q.kind, "pending") {
			v.Set("status", "pending")
		}
		if q.role != "" {
			v.Set("role", q.role)
		}
		caller := b.admin
		switch q.unit {
		case "":
		case "scoped":
			caller = scoped
		default:
			v.Set("unit", q.unit)
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		var page struct {
			Items      []json.RawMessage
			NextCursor *string
		}
		t := time.Now()
		err := b.expect("GET", "/orgs/"+b.orgID+"/"+q.list+"?"+v.Encode(), caller, nil, &page, 200)
		d := time.Since(t)
		next := ""
		if page.NextCursor != nil {
			next = *page.NextCursor
		}
		return len(page.Items), next, d, err
	}
	out("## Search\n\n`GET /orgs/{orgId}/members` and `/invitations` with `q`, through the runner, in one organisation of %d members and %d pending "+
		"invitations (seeded straight into DynamoDB Local with the store's item shapes and search entries: %d items, BatchWriteItem, 16 in flight, in %s). "+
		"Pages of %d; the first page and the next (its cursor). DynamoDB requests and items read are counted at the proxy; every request also reads "+
		"the organisation and the caller's membership (one BatchGetItem, 2 items), shown apart. Target: items read by the search at most 1.5 x the page size.\n\n",
		members, invitations, 3*members+3*invitations+members+invitations, seeding.Round(time.Second), pageSize)
	out("| list | q | items on page 1 / 2 | Query requests per page | items the Query read per page (ScannedCount) | read / page size | other requests per page |\n|---|---|---:|---:|---:|---:|---|\n")
	for _, q := range queries {
		if _, _, _, err := get(q, ""); err != nil { // warm
			return err
		}
		b.counter.take()
		b.counter.takeItems()
		n1, next, _, err := get(q, "")
		if err != nil {
			return err
		}
		n2 := 0
		pages := 1
		if next != "" {
			if n2, _, _, err = get(q, next); err != nil {
				return err
			}
			pages = 2
		}
		ops, _, _ := b.counter.take()
		items := b.counter.takeItems()
		var other []string
		for op, n := range ops {
			if op != "Query" {
				other = append(other, fmt.Sprintf("%s %.0f (%d items)", op, float64(n)/float64(pages), items[op]/pages))
			}
		}
		sort.Strings(other)
		read := float64(items["Query"]) / float64(pages)
		out("| %s | %s `%s` | %d / %d | %.1f | %.1f | %.2f | %s |\n", q.list, q.kind, q.q, n1, n2, float64(ops["Query"])/float64(pages), read,
			read/pageSize, strings.Join(other, ", "))
	}

	// Latency: 8 workers, each searching the queries in turn (first pages).
	const workers, rounds = 8, 25
	var mu sync.Mutex
	byKind := map[string][]time.Duration{}
	var all []time.Duration
	var firstErr error
	var lw sync.WaitGroup
	for w := range workers {
		lw.Add(1)
		go func() {
			defer lw.Done()
			for r := range rounds {
				q := queries[(w+r)%len(queries)]
				_, _, d, err := get(q, "")
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				byKind[q.list+" "+q.kind] = append(byKind[q.list+" "+q.kind], d)
				all = append(all, d)
				mu.Unlock()
			}
		}()
	}
	lw.Wait()
	if firstErr != nil {
		return fmt.Errorf("search: %w", firstErr)
	}
	out("\nLatency of a first page at concurrency 8 (%d searches, the queries above in turn):\n\n| searches | p50 | p99 | max |\n|---|---:|---:|---:|\n", len(all))
	out("| all | %s | %s | %s |\n", percentile(all, 0.5).Round(100*time.Microsecond), percentile(all, 0.99).Round(100*time.Microsecond),
		percentile(all, 1).Round(100*time.Microsecond))
	var kinds []string
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		ds := byKind[k]
		out("| %s | %s | %s | %s |\n", k, percentile(ds, 0.5).Round(100*time.Microsecond), percentile(ds, 0.99).Round(100*time.Microsecond),
			percentile(ds, 1).Round(100*time.Microsecond))
	}
	out("\n")
	return b.roleChange(members-(members+9)/10, invitations) // every tenth member is a reporter
}

// roleChange measures what changing a role's abilities costs in the seeded
// organisation (#14: it must not rewrite every member): PUT
// /orgs/{orgId}/roles giving the held role "member" readLists and taking it
// back, through the runner, DynamoDB requests and capacity counted.
func (b *bench) roleChange(members, invitations int) error {
	var table struct {
		Version int               `json:"version"`
		Roles   []json.RawMessage `json:"roles"`
	}
	if err := b.expect("GET", "/orgs/"+b.orgID+"/roles", b.admin, nil, &table, 200); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	const rounds = 10
	var took []time.Duration
	var ops map[string]int
	var wcu, rcu float64
	for i := range rounds {
		roles := make([]map[string]any, len(table.Roles))
		for j, raw := range table.Roles {
			json.Unmarshal(raw, &roles[j])
			if roles[j]["key"] == "member" {
				roles[j]["readLists"] = i%2 == 0
			}
		}
		b.counter.take()
		start := time.Now()
		if err := b.expect("PUT", "/orgs/"+b.orgID+"/roles", b.admin, map[string]any{"version": table.Version, "roles": roles}, &table, 200); err != nil {
			return fmt.Errorf("roles: %w", err)
		}
		took = append(took, time.Since(start))
		o, r, w := b.counter.take()
		if i == 0 {
			ops, rcu, wcu = o, r, w
		}
	}
	var names []string
	total := 0
	for op, n := range ops {
		names = append(names, fmt.Sprintf("%s %d", op, n))
		total += n
	}
	sort.Strings(names)
	out("### Changing a role's abilities\n\n`PUT /orgs/{orgId}/roles` giving the role `member`, held by %d members and %d pending invitations, "+
		"`readLists` and taking it back (%d changes, through the runner). Members hold a role's key only, so no member item is written.\n\n"+
		"| DynamoDB requests per change | by operation | RCU | WCU | p50 | max |\n|---:|---|---:|---:|---:|---:|\n", members, invitations, rounds)
	out("| %d | %s | %.1f | %.1f | %s | %s |\n\n", total, strings.Join(names, ", "), rcu, wcu,
		percentile(took, 0.5).Round(100*time.Microsecond), percentile(took, 1).Round(100*time.Microsecond))
	return nil
}

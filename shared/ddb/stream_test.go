package ddb

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/partner"
)

type streamImage = map[string]events.DynamoDBAttributeValue

func attrS(v string) events.DynamoDBAttributeValue { return events.NewStringAttribute(v) }

func attrL(vs ...string) events.DynamoDBAttributeValue {
	var l []events.DynamoDBAttributeValue
	for _, v := range vs {
		l = append(l, attrS(v))
	}
	return events.NewListAttribute(l)
}

func streamRecord(name, pk, sk, seq string, at time.Time, old, new streamImage) events.DynamoDBEventRecord {
	var r events.DynamoDBEventRecord
	r.EventName = name
	r.Change.SequenceNumber = seq
	r.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: at}
	r.Change.Keys = streamImage{attrPK: attrS(pk), attrSK: attrS(sk)}
	r.Change.OldImage, r.Change.NewImage = old, new
	return r
}

// A batch is read into work per organisation, in the order the records
// came, each starting at its first record; people are named by email where
// the item has one, by user where it has not; partners only when their
// coverage changed.
func TestStreamChanges(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	webhook := events.NewMapAttribute(streamImage{"url": attrS("https://alarm.example/hooks")})
	saved := streamImage{"units": attrL("u1"), "addedOn": attrS("accepted"), "webhook": webhook}
	records := []events.DynamoDBEventRecord{
		streamRecord("INSERT", "ORG#a", "MEMBER#u1", "1", at, nil, streamImage{"email": attrS("kari@example.no")}),
		streamRecord("MODIFY", "ORG#b", "MONITOR#u2", "2", at, streamImage{"version": events.NewNumberAttribute("1")}, streamImage{"version": events.NewNumberAttribute("2")}),
		streamRecord("INSERT", "EMAIL#kari@example.no", "ACCOUNT", "3", at, nil, streamImage{"userId": attrS("u1")}),
		streamRecord("REMOVE", "ORG#a", "MEMBER#u3", "4", at, streamImage{"email": attrS("ola@example.no")}, nil),
		streamRecord("INSERT", "ORG#a", "INVITE#i1", "5", at, nil, streamImage{"email": attrS("per@example.no")}),
		streamRecord("INSERT", "ORG#b", "PARTNER#new", "6", at, nil, saved),
		streamRecord("MODIFY", "ORG#b", "PARTNER#same", "7", at, saved, streamImage{"units": attrL("u1"), "addedOn": attrS("accepted"), "webhook": webhook, "name": attrS("Renamed")}),
		streamRecord("MODIFY", "ORG#b", "PARTNER#units", "8", at, saved, streamImage{"units": attrL("u1", "u2"), "addedOn": attrS("accepted"), "webhook": webhook}),
		streamRecord("MODIFY", "ORG#b", "PARTNER#new", "9", at, saved, streamImage{"units": attrL("u2")}),
		streamRecord("REMOVE", "ORG#b", "PARTNER#gone", "10", at, saved, nil),
	}
	want := []partner.Work{
		{OrgID: "a", First: "1", Changes: []partner.Change{
			{OrgID: "a", Email: "kari@example.no", UserID: "u1", At: at},
			{OrgID: "a", Email: "ola@example.no", UserID: "u3", At: at},
			{OrgID: "a", Email: "per@example.no", At: at},
		}},
		{OrgID: "b", First: "2", Changes: []partner.Change{{OrgID: "b", UserID: "u2", At: at}}, Partners: []string{"new", "units"}},
	}
	if got := StreamChanges(records); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if got := StreamChanges(nil); len(got) != 0 {
		t.Fatalf("an empty batch: %+v", got)
	}
}

// A partner's coverage is which workers it is told of, and how: its units,
// when workers are added, and which channels it has (not their settings).
func TestCoverageChanged(t *testing.T) {
	hook := func(url string) events.DynamoDBAttributeValue {
		return events.NewMapAttribute(streamImage{"url": attrS(url)})
	}
	base := streamImage{"units": attrL("u1", "u2"), "addedOn": attrS("accepted"), "webhook": hook("https://a.example")}
	with := func(name string, v *events.DynamoDBAttributeValue) streamImage {
		out := streamImage{}
		for k, x := range base {
			out[k] = x
		}
		if v == nil {
			delete(out, name)
		} else {
			out[name] = *v
		}
		return out
	}
	ptr := func(v events.DynamoDBAttributeValue) *events.DynamoDBAttributeValue { return &v }
	for _, c := range []struct {
		name     string
		old, new streamImage
		want     bool
	}{
		{"new partner", nil, base, true},
		{"the same", base, with("units", ptr(attrL("u1", "u2"))), false},
		{"units reordered", base, with("units", ptr(attrL("u2", "u1"))), true},
		{"a unit more", base, with("units", ptr(attrL("u1", "u2", "u3"))), true},
		{"every unit now", base, with("units", nil), true},
		{"added on invitation", base, with("addedOn", ptr(attrS("invited"))), true},
		{"webhook URL changed", base, with("webhook", ptr(hook("https://b.example"))), false},
		{"webhook removed", base, with("webhook", nil), true},
		{"email channel added", base, with("email", ptr(events.NewMapAttribute(streamImage{"language": attrS("nb")}))), true},
		{"renamed", base, with("name", ptr(attrS("Vakt 24"))), false},
	} {
		if got := coverageChanged(c.old, c.new); got != c.want {
			t.Errorf("%s: coverageChanged = %v, want %v", c.name, got, c.want)
		}
	}
}

// A membership whose address changed names both addresses: partners know a
// worker by its address, so the old one is told it went.
func TestStreamChangesOfAnAddress(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	records := []events.DynamoDBEventRecord{
		streamRecord("MODIFY", "ORG#a", "MEMBER#u1", "1", at, streamImage{"email": attrS("kari@example.no")}, streamImage{"email": attrS("kari@example.com")}),
		streamRecord("MODIFY", "ORG#a", "MEMBER#u2", "2", at, streamImage{"email": attrS("ola@example.no")}, streamImage{"email": attrS("ola@example.no")}),
	}
	want := []partner.Work{{OrgID: "a", First: "1", Changes: []partner.Change{
		{OrgID: "a", Email: "kari@example.com", UserID: "u1", At: at},
		{OrgID: "a", Email: "kari@example.no", At: at},
		{OrgID: "a", Email: "ola@example.no", UserID: "u2", At: at},
	}}}
	if got := StreamChanges(records); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

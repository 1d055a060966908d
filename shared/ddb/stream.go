package ddb

import (
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/partner"
)

// StreamChanges reads a stream batch (the items of StreamPrefixes) into
// what it asks of partners, per organisation in the order the records came:
// the people whose membership, monitoring profile or invitation changed, and
// the partners whose coverage changed.
func StreamChanges(records []events.DynamoDBEventRecord) []partner.Work {
	var out []partner.Work
	index := map[string]int{}
	for _, r := range records {
		pk, sk := r.Change.Keys[attrPK].String(), r.Change.Keys[attrSK].String()
		orgID, ok := strings.CutPrefix(pk, orgPK(""))
		if !ok {
			continue
		}
		i, seen := index[orgID]
		if !seen {
			i = len(out)
			index[orgID] = i
			out = append(out, partner.Work{OrgID: orgID, First: r.Change.SequenceNumber})
		}
		w := &out[i]
		img := r.Change.NewImage
		if len(img) == 0 {
			img = r.Change.OldImage
		}
		at := r.Change.ApproximateCreationDateTime.Time
		str := func(name string) string {
			if v, ok := img[name]; ok && v.DataType() == events.DataTypeString {
				return v.String()
			}
			return ""
		}
		if userID, ok := strings.CutPrefix(sk, memberSK("")); ok {
			w.Changes = append(w.Changes, partner.Change{OrgID: orgID, Email: str("email"), UserID: userID, At: at})
			// A changed address: partners know a worker by it (WorkerID),
			// so the old one is looked at too, and they are told it went.
			if old, ok := r.Change.OldImage["email"]; ok && len(r.Change.NewImage) > 0 && old.DataType() == events.DataTypeString &&
				old.String() != str("email") {
				w.Changes = append(w.Changes, partner.Change{OrgID: orgID, Email: old.String(), At: at})
			}
		} else if strings.HasPrefix(sk, inviteSK("")) {
			w.Changes = append(w.Changes, partner.Change{OrgID: orgID, Email: str("email"), At: at})
		} else if userID, ok := strings.CutPrefix(sk, monitorSK("")); ok {
			w.Changes = append(w.Changes, partner.Change{OrgID: orgID, UserID: userID, At: at})
		} else if id, ok := strings.CutPrefix(sk, partnerSK("")); ok {
			if r.EventName != "REMOVE" && coverageChanged(r.Change.OldImage, r.Change.NewImage) && !slices.Contains(w.Partners, id) {
				w.Partners = append(w.Partners, id)
			}
		}
	}
	return out
}

// coverageChanged reports whether a partner's save changed which workers
// it is told of, or how (a new partner, units, when workers are added,
// the channels).
func coverageChanged(old, new map[string]events.DynamoDBAttributeValue) bool {
	if len(old) == 0 {
		return true
	}
	for _, name := range []string{"units", "addedOn", "webhook", "email"} {
		o, n := old[name], new[name]
		if name == "webhook" || name == "email" {
			if (o.DataType() == events.DataTypeMap) != (n.DataType() == events.DataTypeMap) {
				return true
			}
			continue
		}
		if !sameValue(o, n) {
			return true
		}
	}
	return false
}

func sameValue(a, b events.DynamoDBAttributeValue) bool {
	if a.DataType() != b.DataType() {
		return false
	}
	switch a.DataType() {
	case events.DataTypeString:
		return a.String() == b.String()
	case events.DataTypeList:
		la, lb := a.List(), b.List()
		if len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !sameValue(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return true // both absent or null
}

package ddb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
)

// maxTransactItems is DynamoDB's limit on the items of one transaction.
const maxTransactItems = 100

// CreateInvitations stores many pending invitations, each with its token,
// its pending guard and its audit entry as CreateInvitation does, packing
// as many as fit into each transaction (each unit they name is joined once
// per transaction: see joinUnits; each role's holder count moves once by the
// number given it). A transaction that fails because of some of them
// is written again without those, so one that cannot be stored never holds
// up the others. It returns one error or nil per invitation.
func (s *Store) CreateInvitations(ctx context.Context, invs []invite.Invitation, entries []audit.Entry) []error {
	errs := make([]error, len(invs))
	writes := make([]invitationWrite, 0, len(invs))
	for i, inv := range invs {
		w, err := s.invitationWrite(i, inv, entries[i])
		if err != nil {
			errs[i] = err
			continue
		}
		writes = append(writes, w)
	}
	for len(writes) > 0 {
		n, items, units, roles := 0, 0, map[string]bool{}, map[string]bool{}
		for n < len(writes) {
			extra := 0
			for _, u := range writes[n].inv.Units {
				if !units[u] {
					extra++
				}
			}
			if !roles[writes[n].inv.Role] {
				extra++
			}
			if n > 0 && items+len(units)+len(roles)+len(writes[n].t.items)+extra > maxTransactItems {
				break
			}
			for _, u := range writes[n].inv.Units {
				units[u] = true
			}
			roles[writes[n].inv.Role] = true
			items += len(writes[n].t.items)
			n++
		}
		s.createChunk(ctx, writes[:n], errs)
		writes = writes[n:]
	}
	return errs
}

// invitationWrite is one invitation's items in a batched create.
type invitationWrite struct {
	index int // in the caller's slice
	inv   invite.Invitation
	t     txn // invitation, guard, token, audit entry
}

func (s *Store) invitationWrite(index int, inv invite.Invitation, e audit.Entry) (invitationWrite, error) {
	t, err := s.createItems(inv)
	if err != nil {
		return invitationWrite{}, err
	}
	if err := s.withAudit(&t, e); err != nil {
		return invitationWrite{}, err
	}
	return invitationWrite{index: index, inv: inv, t: t}, nil
}

// chunkItem names item of the write at position i of a chunk.
func chunkItem(i int, item string) string { return strconv.Itoa(i) + "/" + item }

// createChunk writes ws in one transaction. When conditions fail, the
// invitations they belong to get their error and the rest is tried again.
func (s *Store) createChunk(ctx context.Context, ws []invitationWrite, errs []error) {
	for len(ws) > 0 {
		var t txn
		owner := map[string]int{} // item name -> position in ws
		for i, w := range ws {
			for k, it := range w.t.items {
				name := chunkItem(i, w.t.names[k])
				owner[name] = i
				t.add(name, it)
			}
		}
		perRole, roleOrder := map[string]int{}, []string{}
		for _, w := range ws {
			if perRole[w.inv.Role] == 0 {
				roleOrder = append(roleOrder, w.inv.Role)
			}
			perRole[w.inv.Role]++
		}
		for _, r := range roleOrder {
			s.holders(&t, ws[0].inv.OrgID, r, 0, perRole[r])
		}
		unitOf := map[string]string{} // item name -> unit id
		for _, w := range ws {
			for _, u := range w.inv.Units {
				if _, seen := unitOf[unitItem(u)]; !seen {
					unitOf[unitItem(u)] = u
					s.joinUnits(&t, w.inv.OrgID, []string{u})
				}
			}
		}
		err := s.transact(ctx, t)
		if err == nil {
			return
		}
		failed := map[int]error{}
		for _, name := range t.failedItems(err) {
			if role, ok := strings.CutPrefix(name, roleItem("")); ok {
				for j, w := range ws {
					if w.inv.Role == role {
						failed[j] = roleGone(role)
					}
				}
				continue
			}
			if u, ok := unitOf[name]; ok {
				for j, w := range ws {
					for k, wu := range w.inv.Units {
						if wu == u {
							var f fault.Fields
							f.Add(fmt.Sprintf("units[%d]", k), string(fault.Invalid), "no such unit: "+u)
							failed[j] = f.Err()
						}
					}
				}
				continue
			}
			j := owner[name]
			if name == chunkItem(j, guardItemName) {
				failed[j] = fault.New(fault.Conflict, "a pending invitation for this email exists already")
			} else {
				failed[j] = fmt.Errorf("create invitation %s: %w", ws[j].inv.ID, errors.New("an item exists already"))
			}
		}
		if len(failed) == 0 {
			// Not caused by any one of them (throttling, a conflict that
			// outlasted the retries): none is stored.
			for _, w := range ws {
				errs[w.index] = fmt.Errorf("create invitation %s: %w", w.inv.ID, err)
			}
			return
		}
		kept := ws[:0:0]
		for j, w := range ws {
			if e, ok := failed[j]; ok {
				errs[w.index] = e
			} else {
				kept = append(kept, w)
			}
		}
		ws = kept
	}
}

// RosterLookup tells which of emails are known in orgID: the address of an
// account, or of a pending invitation there. Unknown ones are new people.
// One BatchGetItem per 50 addresses.
func (s *Store) RosterLookup(ctx context.Context, orgID string, emails []string) (map[string]bool, error) {
	known := map[string]bool{}
	for start := 0; start < len(emails); start += 50 {
		chunk := emails[start:min(start+50, len(emails))]
		var keys []key
		for _, e := range chunk {
			keys = append(keys, key{emailPK(e), skAccount}, key{orgPK(orgID), pendingSK(e)})
		}
		items, err := s.batchGet(ctx, keys...)
		if err != nil {
			return nil, err
		}
		for _, e := range chunk {
			_, acct := items[emailPK(e)+"|"+skAccount]
			_, pending := items[orgPK(orgID)+"|"+pendingSK(e)]
			known[e] = acct || pending
		}
	}
	return known, nil
}

package org

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
)

// Limits of a role table.
const (
	MaxRoles       = 20
	MaxRoleKey     = 40
	MaxRoleNameLen = 60
	// MaxRoleNames bounds a role's display names: one per language the
	// products speak (12), with room for regional variants.
	MaxRoleNames = 24
)

var roleKey = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// RoleTable is an organisation's roles with the version they were stored
// at: a change names the version it was made from, so two admins do not
// overwrite each other blindly.
type RoleTable struct {
	Version int          `json:"version"`
	Roles   access.Roles `json:"roles"`
}

// RoleStore is what role management needs of storage.
type RoleStore interface {
	Actor(ctx context.Context, orgID, userID string) (Organisation, *Member, error)
	// PutRoles replaces the role table stored at version with roles, in one
	// transaction: it creates the holder counters of new roles and deletes
	// those of removed ones, if they hold no one (else Conflict naming the
	// counts), and refuses a version moved meanwhile (Conflict). It returns
	// the new version.
	PutRoles(ctx context.Context, orgID string, version int, old, roles access.Roles, e audit.Entry) (int, error)
}

// RoleService reads and changes an organisation's role table.
type RoleService struct {
	Store RoleStore
	Now   func() time.Time
}

// Roles returns the role table to members whose role reads lists or
// manages settings.
func (s *RoleService) Roles(ctx context.Context, userID, orgID string) (RoleTable, error) {
	o, a, err := ResolveActor(ctx, s.Store, orgID, userID)
	if err != nil {
		return RoleTable{}, err
	}
	if !o.Roles.Can(a, access.ReadLists) && !o.Roles.Can(a, access.ManageSettings) {
		return RoleTable{}, fault.New(fault.Forbidden, "your role may not see the roles")
	}
	return RoleTable{Version: o.RolesVersion, Roles: o.Roles}, nil
}

// PutRoles replaces the role table, for organisation-wide members whose role
// manages settings, and answers the stored table.
func (s *RoleService) PutRoles(ctx context.Context, userID, orgID string, t RoleTable) (RoleTable, error) {
	o, a, err := ResolveActor(ctx, s.Store, orgID, userID)
	if err != nil {
		return RoleTable{}, err
	}
	if err := o.Roles.Require(a, access.ManageSettings, true); err != nil {
		return RoleTable{}, err
	}
	// The table is checked against the one just read: a change made to
	// another version would be checked against the wrong one.
	if t.Version != o.RolesVersion {
		return RoleTable{}, fault.New(fault.Conflict, "the roles changed meanwhile (version %d, not %d); read them again", o.RolesVersion, t.Version).
			With("version", o.RolesVersion)
	}
	roles, err := CheckRoles(o.Roles, t.Roles)
	if err != nil {
		return RoleTable{}, err
	}
	if err := MayGrant(o.Roles, a, roles); err != nil {
		return RoleTable{}, err
	}
	e := audit.New(orgID, userID, audit.RolesUpdated, "roles", orgID, s.Now()).
		Changed(map[string]any{"roles": o.Roles}, map[string]any{"roles": roles})
	v, err := s.Store.PutRoles(ctx, orgID, t.Version, o.Roles, roles, e)
	if err != nil {
		return RoleTable{}, err
	}
	return RoleTable{Version: v, Roles: roles}, nil
}

// CheckRoles validates a new role table against the stored one and returns
// it cleaned (names trimmed, languages canonical, nil lists empty). The
// owner role must stay, hold every ability, and invite at least the roles
// it invited before; keys and names must be unambiguous for Resolve.
func CheckRoles(old, roles access.Roles) (access.Roles, error) {
	var errs fault.Fields
	if len(roles) == 0 || len(roles) > MaxRoles {
		errs.Add("roles", string(fault.Invalid), fmt.Sprintf("from 1 to %d roles", MaxRoles))
		return nil, errs.Err()
	}
	out := make(access.Roles, len(roles))
	keys := map[string]int{}
	for i, r := range roles {
		f := fmt.Sprintf("roles[%d]", i)
		r.Key = strings.TrimSpace(r.Key)
		if !roleKey.MatchString(r.Key) {
			errs.Add(f+".key", string(fault.Invalid), fmt.Sprintf("1 to %d lower-case letters, digits and -", MaxRoleKey))
		} else if _, dup := keys[r.Key]; dup {
			errs.Add(f+".key", string(fault.Invalid), "another role has this key")
		}
		keys[r.Key] = i
		names := map[string]string{}
		if len(r.Names) == 0 {
			errs.Add(f+".names", string(fault.Invalid), "at least one display name")
		}
		if len(r.Names) > MaxRoleNames {
			errs.Add(f+".names", string(fault.Invalid), fmt.Sprintf("at most %d display names", MaxRoleNames))
			out[i] = r
			continue
		}
		for lang, n := range r.Names {
			tag, err := language.Parse(lang)
			if err != nil || tag == language.Und {
				errs.Add(f+".names."+lang, string(fault.Invalid), "a BCP 47 language tag, such as en or nb")
				continue
			}
			// NFKC, so that a name written with compatibility forms
			// (full-width letters, ligatures) is the name it looks like.
			n = strings.Join(strings.Fields(norm.NFKC.String(n)), " ")
			if c := utf8.RuneCountInString(n); c < 1 || c > MaxRoleNameLen {
				errs.Add(f+".names."+lang, string(fault.Invalid), fmt.Sprintf("from 1 to %d characters", MaxRoleNameLen))
			} else if strings.IndexFunc(n, invisible) >= 0 {
				errs.Add(f+".names."+lang, string(fault.Invalid), "no control or invisible formatting characters")
			}
			names[tag.String()] = n
		}
		r.Names = names
		if r.MayInvite == nil {
			r.MayInvite = []string{}
		}
		if r.Key == access.Owner {
			if !r.Owner {
				errs.Add(f+".owner", string(fault.Invalid), "the admin role is the owner role")
			}
			for _, ab := range access.Abilities {
				if !r.Has(ab) {
					errs.Add(f+"."+string(ab), string(fault.Invalid), "the owner role holds every ability")
				}
			}
		} else if r.Owner {
			errs.Add(f+".owner", string(fault.Invalid), fmt.Sprintf("only the %q role is the owner", access.Owner))
		}
		out[i] = r
	}
	if _, ok := out.Find(access.Owner); !ok {
		errs.Add("roles", string(fault.Invalid), fmt.Sprintf("the owner role %q cannot be removed", access.Owner))
	}
	// Which roles each folded key and name belongs to: one pass, so the
	// check of names stays linear in their number.
	folded := map[string][]string{}
	for _, r := range out {
		seen := map[string]bool{}
		for _, n := range append([]string{r.Key}, mapValues(r.Names)...) {
			if k := access.FoldName(n); !seen[k] {
				seen[k] = true
				folded[k] = append(folded[k], r.Key)
			}
		}
	}
	for i, r := range out {
		f := fmt.Sprintf("roles[%d]", i)
		for j, k := range r.MayInvite {
			if _, ok := keys[k]; !ok {
				errs.Add(fmt.Sprintf("%s.mayInvite[%d]", f, j), string(fault.Invalid), "no role has this key")
			}
		}
		if r.Key == access.Owner {
			if was, ok := old.Find(access.Owner); ok {
				for _, k := range was.MayInvite {
					if _, kept := keys[k]; kept && !slices.Contains(r.MayInvite, k) {
						errs.Add(f+".mayInvite", string(fault.Invalid), fmt.Sprintf("the owner role may not stop inviting %q", k))
					}
				}
			}
		}
		// A display name that folds to another role's key or name would make
		// Resolve pick one of two roles.
		for lang, n := range r.Names {
			if clash := folded[access.FoldName(n)]; len(clash) > 1 || (len(clash) == 1 && clash[0] != r.Key) {
				other := clash[0]
				if other == r.Key {
					other = clash[1]
				}
				errs.Add(f+".names."+lang, string(fault.Invalid), fmt.Sprintf("the role %q is already called this", other))
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// invisible reports control and formatting characters (zero-width spaces,
// direction marks), which would let two names that look alike differ.
func invisible(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800': // fillers and the blank Braille cell: letters that show nothing
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// MayGrant checks that the actor gives no ability it lacks: a role holding
// an ability or inviting a role it did not before needs the actor's role to
// have that ability or invite that role. Only owners change the owner role,
// and only a role the actor may invite has its monitored flag changed.
func MayGrant(old access.Roles, a access.Actor, roles access.Roles) error {
	mine, _ := old.Find(a.Role)
	if mine.Owner {
		return nil
	}
	for _, r := range old {
		if _, kept := roles.Find(r.Key); !kept && !slices.Contains(mine.MayInvite, r.Key) {
			return fault.New(fault.Forbidden, "you may delete only roles your role may invite; not %q", r.Key)
		}
	}
	for _, r := range roles {
		was, existed := old.Find(r.Key)
		if r.Key == access.Owner {
			if !sameRole(was, r) {
				return fault.New(fault.Forbidden, "only the owner role may change the owner role")
			}
			continue
		}
		// A role is managed by those who may invite it: any other change
		// to a role one may not invite (one's own included) is refused.
		if existed && !sameRole(was, r) && !slices.Contains(mine.MayInvite, r.Key) {
			return fault.New(fault.Forbidden, "you may change only roles your role may invite; not %q", r.Key)
		}
		for _, ab := range access.Abilities {
			if r.Has(ab) && !(existed && was.Has(ab)) && !mine.Has(ab) {
				return fault.New(fault.Forbidden, "you may not grant the %s ability, which your role lacks", ab).With("ability", string(ab))
			}
		}
		for _, k := range r.MayInvite {
			if !(existed && slices.Contains(was.MayInvite, k)) && !slices.Contains(mine.MayInvite, k) {
				return fault.New(fault.Forbidden, "you may not let a role invite %q, which your role may not invite", k)
			}
		}
		if r.Monitored != (existed && was.Monitored) && !slices.Contains(mine.MayInvite, r.Key) {
			return fault.New(fault.Forbidden, "you may change whether %q is monitored only if your role may invite it", r.Key)
		}
	}
	return nil
}

// sameRole reports whether a and b are equal in every field.
func sameRole(a, b access.Role) bool {
	if a.Key != b.Key || a.Owner != b.Owner || a.Monitored != b.Monitored || len(a.Names) != len(b.Names) ||
		!slices.Equal(a.MayInvite, b.MayInvite) {
		return false
	}
	for k, v := range a.Names {
		if b.Names[k] != v {
			return false
		}
	}
	for _, ab := range access.Abilities {
		if a.Has(ab) != b.Has(ab) {
			return false
		}
	}
	return true
}

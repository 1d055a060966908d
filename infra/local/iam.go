package local

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"onboarding/infra/samtemplate"
)

// IAM is the local stand-in for the functions' execution roles. Each
// function process gets credentials of its own; every AWS call it makes
// reaches an emulator through a gateway that names the caller by the
// access key in the request's signature and checks the call against that
// function's statements in template.yaml, as IAM would. A call signed with
// keys the runner did not hand out (a developer's own, the tests') is the
// account's administrator and passes.
type IAM struct {
	mu         sync.RWMutex
	principals map[string]*Principal // by access key id
}

// Principal is one function's role session.
type Principal struct {
	Function   string // logical id
	AccessKey  string
	SecretKey  string
	Token      string
	SessionARN string // arn:aws:sts::<account>:assumed-role/<role>/<function name>
	Statements []samtemplate.Statement
}

// NewIAM returns an empty set of roles.
func NewIAM() *IAM { return &IAM{principals: map[string]*Principal{}} }

// Issue makes credentials for a function with these statements.
func (m *IAM) Issue(fn samtemplate.Function, account string) *Principal {
	p := &Principal{
		Function:   fn.Name,
		AccessKey:  "ASIA" + strings.ToUpper(randomHex(8)),
		SecretKey:  randomHex(20),
		Token:      randomHex(32),
		SessionARN: fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", account, fn.RoleName, fn.PhysicalName),
		Statements: fn.Policies,
	}
	m.mu.Lock()
	m.principals[p.AccessKey] = p
	m.mu.Unlock()
	return p
}

// Principal returns the role session of an access key, or nil for keys the
// runner did not issue.
func (m *IAM) Principal(accessKey string) *Principal {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.principals[accessKey]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Allowed evaluates one action on one resource as IAM evaluates identity
// policies: an explicit Deny wins, otherwise some Allow must match. (There
// are no resource policies, permission boundaries or SCPs locally.)
func (p *Principal) Allowed(action, resource string) bool {
	allowed, _ := p.decide(action, resource)
	return allowed
}

// decide is Allowed, also saying whether an explicit Deny decided it.
func (p *Principal) decide(action, resource string) (allowed, explicitDeny bool) {
	for _, s := range p.Statements {
		if !s.Matches(action, resource) {
			continue
		}
		if s.Effect == "Deny" {
			// A Deny with a condition is taken not to apply: the local
			// check does not evaluate conditions (README).
			if !s.HasCondition {
				return false, true
			}
			continue
		}
		allowed = true
	}
	return allowed, false
}

// Denial is an AWS call the caller's role does not allow.
type Denial struct {
	Principal    *Principal
	Action       string
	Resource     string
	ExplicitDeny bool // a Deny statement matched (else no Allow did)
}

// Message is the text AWS gives an AccessDenied for an identity policy.
func (d Denial) Message() string {
	why := "because no identity-based policy allows the " + d.Action + " action"
	if d.ExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", d.Principal.SessionARN, d.Action, d.Resource, why)
}

// Check returns the first of the calls the principal may not make; a call
// is allowed on any one of its resources.
func (p *Principal) Check(calls []Call) *Denial {
	for _, c := range calls {
		if d := p.checkCall(c); d != nil {
			return d
		}
	}
	return nil
}

func (p *Principal) checkCall(c Call) *Denial {
	denied := false
	for _, res := range c.Resources {
		allowed, explicit := p.decide(c.Action, res)
		if allowed {
			return nil
		}
		denied = denied || explicit
	}
	return &Denial{Principal: p, Action: c.Action, Resource: c.Resources[0], ExplicitDeny: denied}
}

// Call is one action an API request needs, on any of its resources (SES
// accepts an address's identity or its domain's).
type Call struct {
	Action    string
	Resources []string
}

func call(action string, resources ...string) Call { return Call{Action: action, Resources: resources} }

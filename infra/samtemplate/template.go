// Package samtemplate reads template.yaml for everything that runs the
// service outside AWS (the local runner, tests, benchmarks): functions,
// their routes, environment and events, and the table definition. The
// template stays the one source of truth; nothing here repeats it.
package samtemplate

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed SAM template whose CloudFormation short forms (!Ref,
// !Sub, ...) have been turned into their long forms.
type Template struct {
	Parameters map[string]any
	Globals    map[string]any
	Conditions map[string]any
	Resources  map[string]Resource
}

// Resource is one entry of Resources.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// Load reads and parses a template file.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses template text.
func Parse(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("empty template")
	}
	root, ok := decode(doc.Content[0]).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is not a mapping")
	}
	t := &Template{Parameters: map[string]any{}, Resources: map[string]Resource{}}
	if ps, ok := root["Parameters"].(map[string]any); ok {
		for name, p := range ps {
			if pm, ok := p.(map[string]any); ok {
				t.Parameters[name] = pm["Default"]
			}
		}
	}
	t.Globals, _ = root["Globals"].(map[string]any)
	t.Conditions, _ = root["Conditions"].(map[string]any)
	rs, _ := root["Resources"].(map[string]any)
	for name, r := range rs {
		rm, _ := r.(map[string]any)
		res := Resource{}
		res.Type, _ = rm["Type"].(string)
		res.Properties, _ = rm["Properties"].(map[string]any)
		res.Metadata, _ = rm["Metadata"].(map[string]any)
		if res.Properties == nil {
			res.Properties = map[string]any{}
		}
		t.Resources[name] = res
	}
	return t, nil
}

// decode turns a YAML node into plain Go values, expanding short-form tags.
func decode(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = decode(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			s = append(s, decode(c))
		}
		v = s
	case yaml.AliasNode:
		return decode(n.Alias)
	default:
		var x any
		if err := n.Decode(&x); err != nil || isShortForm(n.Tag) {
			x = n.Value
		}
		v = x
	}
	if isShortForm(n.Tag) {
		name := strings.TrimPrefix(n.Tag, "!")
		switch name {
		case "Ref", "Condition":
			return map[string]any{name: v}
		case "GetAtt":
			if s, ok := v.(string); ok {
				parts := strings.SplitN(s, ".", 2)
				sl := []any{}
				for _, p := range parts {
					sl = append(sl, p)
				}
				v = sl
			}
			return map[string]any{"Fn::GetAtt": v}
		default:
			return map[string]any{"Fn::" + name: v}
		}
	}
	return v
}

// Context resolves references for one environment: parameter values
// (defaults overridden), each resource's Ref value, and GetAtt values keyed
// "Resource.Attribute".
type Context struct {
	Parameters map[string]any
	Refs       map[string]string
	Attrs      map[string]string
	Pseudo     map[string]string // AWS::Region, AWS::StackName, ...
}

var subVar = regexp.MustCompile(`\$\{([^}]+)\}`)

// Resolve evaluates the intrinsic functions in v.
func (t *Template) Resolve(v any, c Context) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				switch k {
				case "Ref":
					return c.ref(fmt.Sprint(arg), t)
				case "Fn::GetAtt":
					parts, _ := arg.([]any)
					if len(parts) != 2 {
						return nil, fmt.Errorf("bad GetAtt %v", arg)
					}
					key := fmt.Sprintf("%v.%v", parts[0], parts[1])
					if val, ok := c.Attrs[key]; ok {
						return val, nil
					}
					if val, ok := c.defaultAttr(t, fmt.Sprint(parts[0]), fmt.Sprint(parts[1])); ok {
						return val, nil
					}
					return nil, fmt.Errorf("no local value for GetAtt %s", key)
				case "Fn::Sub":
					s, ok := arg.(string)
					if !ok {
						return nil, fmt.Errorf("only the one-argument form of Sub is supported")
					}
					var firstErr error
					out := subVar.ReplaceAllStringFunc(s, func(m string) string {
						name := m[2 : len(m)-1]
						var val any
						var err error
						if strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::") {
							parts := strings.SplitN(name, ".", 2)
							val, err = t.Resolve(map[string]any{"Fn::GetAtt": []any{parts[0], parts[1]}}, c)
						} else {
							val, err = c.ref(name, t)
						}
						if err != nil && firstErr == nil {
							firstErr = err
						}
						return fmt.Sprint(val)
					})
					return out, firstErr
				case "Fn::If":
					args, _ := arg.([]any)
					if len(args) != 3 {
						return nil, fmt.Errorf("bad If %v", arg)
					}
					yes, err := t.condition(fmt.Sprint(args[0]), c)
					if err != nil {
						return nil, err
					}
					if yes {
						return t.Resolve(args[1], c)
					}
					return t.Resolve(args[2], c)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			r, err := t.Resolve(e, c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if r == NoValue {
				continue // AWS::NoValue removes the property
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := t.Resolve(e, c)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

// NoValue is what Ref AWS::NoValue resolves to: the property is dropped.
const NoValue = noValue("AWS::NoValue")

type noValue string

// condition evaluates one of the template's Conditions with the context's
// parameter values (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition).
func (t *Template) condition(name string, c Context) (bool, error) {
	def, ok := t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	return t.evalCondition(def, c)
}

func (t *Template) evalCondition(v any, c Context) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("bad condition %v", v)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			return t.condition(fmt.Sprint(arg), c)
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("bad Equals %v", arg)
			}
			a, err := t.Resolve(args[0], c)
			if err != nil {
				return false, err
			}
			b, err := t.Resolve(args[1], c)
			if err != nil {
				return false, err
			}
			return fmt.Sprint(a) == fmt.Sprint(b), nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			var vals []bool
			for _, a := range args {
				b, err := t.evalCondition(a, c)
				if err != nil {
					return false, err
				}
				vals = append(vals, b)
			}
			switch {
			case fn == "Fn::Not" && len(vals) == 1:
				return !vals[0], nil
			case fn == "Fn::And":
				return !slices.Contains(vals, false), nil
			case fn == "Fn::Or":
				return slices.Contains(vals, true), nil
			}
		}
	}
	return false, fmt.Errorf("bad condition %v", v)
}

func (c Context) ref(name string, t *Template) (any, error) {
	if name == "AWS::NoValue" {
		return NoValue, nil
	}
	if v, ok := c.Pseudo[name]; ok {
		return v, nil
	}
	switch name { // pseudo parameters that do not depend on where it runs
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if v, ok := c.Parameters[name]; ok {
		return v, nil
	}
	if v, ok := t.Parameters[name]; ok {
		return v, nil
	}
	if v, ok := c.Refs[name]; ok {
		return v, nil
	}
	if r, ok := t.Resources[name]; ok && r.Type == "AWS::Serverless::Function" {
		return c.PhysicalName(name), nil // as CloudFormation names it
	}
	if r, ok := t.Resources[name]; ok && r.Type == "AWS::Serverless::HttpApi" {
		// An API's id: ten lower-case characters, as API Gateway makes them.
		p := c.PhysicalName(name)
		return strings.ToLower(p[len(p)-10:]), nil
	}
	return nil, fmt.Errorf("no local value for Ref %s", name)
}

// Names returns the logical ids of resources of the given type, sorted.
func (t *Template) Names(typ string) []string {
	var names []string
	for name, r := range t.Resources {
		if r.Type == typ {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// isShortForm reports whether a tag is a CloudFormation short form (!Ref),
// not a YAML core tag (!!str).
func isShortForm(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

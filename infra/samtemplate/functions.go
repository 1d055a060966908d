package samtemplate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Function is an AWS::Serverless::Function with its globals applied.
type Function struct {
	Name string // logical id, e.g. InviteFunction
	// PhysicalName is the function's name as CloudFormation would make it
	// (what AWS_LAMBDA_FUNCTION_NAME, a Ref and the ARN hold).
	PhysicalName string
	RoleName     string      // its execution role's name
	Policies     []Statement // its execution role's statements, resolved
	Dir          string      // build name under functions/, e.g. invite
	MemoryMB     int
	TimeoutSec   int
	// ReservedConcurrency is ReservedConcurrentExecutions (0: none): the
	// most instances that may run at once.
	ReservedConcurrency int
	Environment         map[string]string
	Routes              []Route
	Schedules           []Schedule
	Uploads             []Upload
	Streams             []Stream
}

// Stream is a DynamoDB event: the function reads a table's stream.
type Stream struct {
	Table                 string   // logical id of the table (from !GetAtt <Table>.StreamArn)
	BatchSize             int      // default 100
	StartingPosition      string   // TRIM_HORIZON or LATEST
	Filters               []string // filter patterns (JSON), any of which lets a record through
	ReportFailures        bool     // FunctionResponseTypes has ReportBatchItemFailures
	BisectOnError         bool
	MaximumRetryAttempts  int // -1: until the record expires
	MaximumBatchingWindow int // seconds
}

// Upload is an S3 event: objects created in a bucket, filtered by key.
type Upload struct {
	Bucket         string // logical id of the bucket
	Prefix, Suffix string
}

// Schedule is a ScheduleV2 (EventBridge Scheduler) or Schedule event.
type Schedule struct {
	Name       string // the event's name
	Expression string // e.g. rate(15 minutes)
	Input      string // the payload, "" for {}
}

// Route is an HttpApi event.
type Route struct {
	Method string
	Path   string
}

// Key is the API Gateway route key, "METHOD /path".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Functions returns every function, resolving environment values in c.
func (t *Template) Functions(c Context) ([]Function, error) {
	globals, _ := t.Globals["Function"].(map[string]any)
	var fns []Function
	for _, name := range t.Names("AWS::Serverless::Function") {
		p := t.Resources[name].Properties
		f := Function{
			Name:         name,
			Dir:          strings.ToLower(strings.TrimSuffix(name, "Function")),
			MemoryMB:     intOf(p["MemorySize"], intOf(globals["MemorySize"], 128)),
			TimeoutSec:   intOf(p["Timeout"], intOf(globals["Timeout"], 3)),
			PhysicalName: c.PhysicalName(name), RoleName: c.RoleName(name),
		}
		policies, err := t.policies(name, p, c)
		if err != nil {
			return nil, err
		}
		f.Policies = policies
		if rc, ok := p["ReservedConcurrentExecutions"]; ok {
			v, err := t.Resolve(map[string]any{"v": rc}, c)
			if err != nil {
				return nil, fmt.Errorf("%s ReservedConcurrentExecutions: %w", name, err)
			}
			if n, ok := v.(map[string]any)["v"]; ok {
				if f.ReservedConcurrency, err = strconv.Atoi(fmt.Sprint(n)); err != nil {
					return nil, fmt.Errorf("%s ReservedConcurrentExecutions %v: %w", name, n, err)
				}
			}
		}
		env := map[string]any{}
		for _, src := range []map[string]any{globals, p} {
			if e, ok := src["Environment"].(map[string]any); ok {
				if vars, ok := e["Variables"].(map[string]any); ok {
					for k, v := range vars {
						env[k] = v
					}
				}
			}
		}
		resolved, err := t.Resolve(env, c)
		if err != nil {
			return nil, fmt.Errorf("%s environment: %w", name, err)
		}
		f.Environment = map[string]string{}
		for k, v := range resolved.(map[string]any) {
			f.Environment[k] = fmt.Sprint(v)
		}
		events, _ := p["Events"].(map[string]any)
		for evName, ev := range events {
			em, _ := ev.(map[string]any)
			ep, _ := em["Properties"].(map[string]any)
			switch em["Type"] {
			case "HttpApi":
				f.Routes = append(f.Routes, Route{Method: strings.ToUpper(fmt.Sprint(ep["Method"])), Path: fmt.Sprint(ep["Path"])})
			case "S3":
				u := Upload{}
				if ref, ok := ep["Bucket"].(map[string]any); ok {
					u.Bucket = fmt.Sprint(ref["Ref"])
				}
				if filter, ok := ep["Filter"].(map[string]any); ok {
					if k, ok := filter["S3Key"].(map[string]any); ok {
						for _, r := range list(k["Rules"]) {
							switch strings.ToLower(fmt.Sprint(r["Name"])) {
							case "prefix":
								u.Prefix = fmt.Sprint(r["Value"])
							case "suffix":
								u.Suffix = fmt.Sprint(r["Value"])
							}
						}
					}
				}
				f.Uploads = append(f.Uploads, u)
			case "DynamoDB":
				st := Stream{BatchSize: intOf(ep["BatchSize"], 100), StartingPosition: fmt.Sprint(ep["StartingPosition"]),
					MaximumRetryAttempts: intOf(ep["MaximumRetryAttempts"], -1), MaximumBatchingWindow: intOf(ep["MaximumBatchingWindowInSeconds"], 0)}
				if ref, ok := ep["Stream"].(map[string]any); ok {
					if ga, ok := ref["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
						st.Table = fmt.Sprint(ga[0])
					}
				}
				if fc, ok := ep["FilterCriteria"].(map[string]any); ok {
					for _, f := range list(fc["Filters"]) {
						st.Filters = append(st.Filters, fmt.Sprint(f["Pattern"]))
					}
				}
				for _, t := range anyList(ep["FunctionResponseTypes"]) {
					if t == "ReportBatchItemFailures" {
						st.ReportFailures = true
					}
				}
				st.BisectOnError, _ = ep["BisectBatchOnFunctionError"].(bool)
				f.Streams = append(f.Streams, st)
			case "ScheduleV2", "Schedule":
				resolved, err := t.Resolve(ep, c)
				if err != nil {
					return nil, fmt.Errorf("%s event %s: %w", name, evName, err)
				}
				rp := resolved.(map[string]any)
				sc := Schedule{Name: evName, Expression: fmt.Sprint(rp["ScheduleExpression"])}
				if in, ok := rp["Input"].(string); ok {
					sc.Input = in
				}
				f.Schedules = append(f.Schedules, sc)
			}
		}
		sort.Slice(f.Routes, func(i, j int) bool { return f.Routes[i].Key() < f.Routes[j].Key() })
		sort.Slice(f.Schedules, func(i, j int) bool { return f.Schedules[i].Name < f.Schedules[j].Name })
		fns = append(fns, f)
	}
	return fns, nil
}

func anyList(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

func intOf(v any, def int) int {
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	}
	return def
}

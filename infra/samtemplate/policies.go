package samtemplate

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Statement is one IAM policy statement of a function's execution role,
// with its references resolved. Conditions are not modelled: HasCondition
// says a statement had one (the local check then treats an Allow as
// applying and a Deny as not applying; see README, "The local runner").
type Statement struct {
	Effect       string // Allow or Deny
	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string
	HasCondition bool
}

// PhysicalName is the name CloudFormation gives a resource without an
// explicit name: <stack>-<logical id>-<suffix>. The suffix is derived from
// the logical id, so names are stable between runs; policies written with
// wildcards on the pattern (e.g. ${AWS::StackName}-IngestFunction-*) match
// them as they match the real names.
func (c Context) PhysicalName(logicalID string) string {
	stack := c.Pseudo["AWS::StackName"]
	if stack == "" {
		return logicalID
	}
	sum := sha256.Sum256([]byte(stack + "/" + logicalID))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	suffix := make([]byte, 12)
	for i := range suffix {
		suffix[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return stack + "-" + logicalID + "-" + string(suffix)
}

// arn builds an ARN in the context's partition, region and account.
func (c Context) arn(service, region, resource string) string {
	partition := c.Pseudo["AWS::Partition"]
	if partition == "" {
		partition = "aws"
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition, service, region, c.Pseudo["AWS::AccountId"], resource)
}

// defaultAttr is the value of a GetAtt the context does not set, for the
// resource types whose attributes follow from their names alone.
func (c Context) defaultAttr(t *Template, logicalID, attr string) (string, bool) {
	r, ok := t.Resources[logicalID]
	if !ok {
		return "", false
	}
	region := c.Pseudo["AWS::Region"]
	ref := c.Refs[logicalID]
	switch {
	case r.Type == "AWS::DynamoDB::Table" && attr == "Arn" && ref != "":
		return c.arn("dynamodb", region, "table/"+ref), true
	case r.Type == "AWS::DynamoDB::Table" && attr == "StreamArn" && ref != "":
		// The stream's label is a time only known once it exists.
		return c.arn("dynamodb", region, "table/"+ref+"/stream/*"), true
	case r.Type == "AWS::S3::Bucket" && attr == "Arn" && ref != "":
		return "arn:aws:s3:::" + ref, true
	case r.Type == "AWS::KMS::Key" && attr == "Arn" && ref != "":
		return c.arn("kms", region, "key/"+ref), true
	case r.Type == "AWS::Serverless::Function" && attr == "Arn":
		return c.arn("lambda", region, "function:"+c.PhysicalName(logicalID)), true
	case r.Type == "AWS::SQS::Queue" && attr == "Arn":
		return c.arn("sqs", region, c.PhysicalName(logicalID)), true
	case r.Type == "AWS::SQS::Queue" && attr == "QueueName":
		return c.PhysicalName(logicalID), true
	}
	return "", false
}

// RoleName is the name SAM gives a function's execution role.
func (c Context) RoleName(functionLogicalID string) string {
	return c.PhysicalName(functionLogicalID + "Role")
}

// policyTemplates are the SAM policy templates the local check knows, as
// SAM expands them (policy_templates.json). A template that uses another
// one fails to start locally rather than run with permissions nobody checked.
var policyTemplates = map[string]func(c Context, p map[string]string) []Statement{
	"DynamoDBCrudPolicy": func(c Context, p map[string]string) []Statement {
		table := c.arn("dynamodb", c.Pseudo["AWS::Region"], "table/"+p["TableName"])
		return allow([]string{"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
			"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"},
			table, table+"/index/*")
	},
	"DynamoDBReadPolicy": func(c Context, p map[string]string) []Statement {
		table := c.arn("dynamodb", c.Pseudo["AWS::Region"], "table/"+p["TableName"])
		return allow([]string{"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"},
			table, table+"/index/*")
	},
	"DynamoDBWritePolicy": func(c Context, p map[string]string) []Statement {
		table := c.arn("dynamodb", c.Pseudo["AWS::Region"], "table/"+p["TableName"])
		return allow([]string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}, table, table+"/index/*")
	},
	"DynamoDBStreamReadPolicy": func(c Context, p map[string]string) []Statement {
		table := c.arn("dynamodb", c.Pseudo["AWS::Region"], "table/"+p["TableName"])
		return append(allow([]string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}, table+"/stream/"+p["StreamName"]),
			allow([]string{"dynamodb:ListStreams"}, table+"/stream/*")...)
	},
	"S3ReadPolicy": func(c Context, p map[string]string) []Statement {
		b := "arn:aws:s3:::" + p["BucketName"]
		return allow([]string{"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:GetLifecycleConfiguration"}, b, b+"/*")
	},
	"S3WritePolicy": func(c Context, p map[string]string) []Statement {
		b := "arn:aws:s3:::" + p["BucketName"]
		return allow([]string{"s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration"}, b, b+"/*")
	},
	"S3CrudPolicy": func(c Context, p map[string]string) []Statement {
		b := "arn:aws:s3:::" + p["BucketName"]
		return allow([]string{"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl",
			"s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:DeleteObject"}, b, b+"/*")
	},
	"SESCrudPolicy": func(c Context, p map[string]string) []Statement {
		return allow([]string{"ses:GetIdentityVerificationAttributes", "ses:SendEmail", "ses:SendRawEmail", "ses:VerifyEmailIdentity"},
			c.arn("ses", c.Pseudo["AWS::Region"], "identity/"+p["IdentityName"]))
	},
	"SQSSendMessagePolicy": func(c Context, p map[string]string) []Statement {
		return allow([]string{"sqs:SendMessage*"}, c.arn("sqs", c.Pseudo["AWS::Region"], p["QueueName"]))
	},
	"LambdaInvokePolicy": func(c Context, p map[string]string) []Statement {
		return allow([]string{"lambda:InvokeFunction"}, c.arn("lambda", c.Pseudo["AWS::Region"], "function:"+p["FunctionName"]+"*"))
	},
	"KMSDecryptPolicy": func(c Context, p map[string]string) []Statement {
		return allow([]string{"kms:Decrypt"}, c.arn("kms", c.Pseudo["AWS::Region"], "key/"+p["KeyId"]))
	},
}

// managedPolicies are the AWS managed policies the local check knows.
var managedPolicies = map[string][]Statement{
	"AWSLambdaBasicExecutionRole": allow([]string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, "*"),
	// SAM attaches it to a function with a DynamoDB event: the event source
	// mapping reads the stream with the function's role.
	"AWSLambdaDynamoDBExecutionRole": allow([]string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
		"dynamodb:ListStreams", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, "*"),
}

func allow(actions []string, resources ...string) []Statement {
	return []Statement{{Effect: "Allow", Actions: actions, Resources: resources}}
}

// policies resolves a function's Policies property, plus what SAM adds to
// every role (basic execution) and for its event sources.
func (t *Template) policies(name string, p map[string]any, c Context) ([]Statement, error) {
	out := slices.Clone(managedPolicies["AWSLambdaBasicExecutionRole"])
	events, _ := p["Events"].(map[string]any)
	for _, ev := range events {
		if em, _ := ev.(map[string]any); em["Type"] == "DynamoDB" {
			out = append(out, managedPolicies["AWSLambdaDynamoDBExecutionRole"]...)
			break
		}
	}
	var entries []any
	switch v := p["Policies"].(type) {
	case nil:
	case []any:
		entries = v
	default:
		entries = []any{v}
	}
	for i, e := range entries {
		resolved, err := t.Resolve(e, c)
		if err != nil {
			return nil, fmt.Errorf("%s policy %d: %w", name, i, err)
		}
		switch v := resolved.(type) {
		case string:
			st, ok := managedPolicies[v]
			if !ok {
				return nil, fmt.Errorf("%s: managed policy %s is not known to the local IAM check", name, v)
			}
			out = append(out, st...)
		case map[string]any:
			if doc, ok := v["Statement"]; ok {
				sts, err := statements(doc)
				if err != nil {
					return nil, fmt.Errorf("%s policy %d: %w", name, i, err)
				}
				out = append(out, sts...)
				continue
			}
			for tplName, params := range v {
				expand, ok := policyTemplates[tplName]
				if !ok {
					return nil, fmt.Errorf("%s: policy template %s is not known to the local IAM check", name, tplName)
				}
				pm := map[string]string{}
				if m, ok := params.(map[string]any); ok {
					for k, val := range m {
						pm[k] = fmt.Sprint(val)
					}
				}
				out = append(out, expand(c, pm)...)
			}
		default:
			return nil, fmt.Errorf("%s policy %d: unexpected %T", name, i, resolved)
		}
	}
	return out, nil
}

func statements(doc any) ([]Statement, error) {
	var list []any
	switch v := doc.(type) {
	case []any:
		list = v
	case map[string]any:
		list = []any{v}
	default:
		return nil, fmt.Errorf("Statement is %T", doc)
	}
	var out []Statement
	for _, raw := range list {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statement is %T", raw)
		}
		s := Statement{Effect: fmt.Sprint(m["Effect"]), Actions: strs(m["Action"]), NotActions: strs(m["NotAction"]),
			Resources: strs(m["Resource"]), NotResources: strs(m["NotResource"]), HasCondition: m["Condition"] != nil}
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, fmt.Errorf("statement effect %q", s.Effect)
		}
		sort.Strings(s.Actions)
		out = append(out, s)
	}
	return out, nil
}

func strs(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	default:
		return []string{strings.TrimSpace(fmt.Sprint(x))}
	}
}

// Matches reports whether the statement speaks of this action on this
// resource: actions compare without regard to case, resources with it, and
// both take IAM's wildcards (* and ?).
func (s Statement) Matches(action, resource string) bool {
	actionIn := func(list []string) bool {
		for _, a := range list {
			if glob(strings.ToLower(a), strings.ToLower(action)) {
				return true
			}
		}
		return false
	}
	resourceIn := func(list []string) bool {
		for _, r := range list {
			if glob(r, resource) {
				return true
			}
		}
		return false
	}
	if s.NotActions != nil {
		if actionIn(s.NotActions) {
			return false
		}
	} else if !actionIn(s.Actions) {
		return false
	}
	if s.NotResources != nil {
		return !resourceIn(s.NotResources)
	}
	return resourceIn(s.Resources)
}

// glob matches IAM's wildcards: * any run of characters (across colons and
// slashes), ? any one character.
func glob(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 0 && pattern[0] == '*' {
				pattern = pattern[1:]
			}
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if glob(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || pattern[0] != s[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}

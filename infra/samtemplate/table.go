package samtemplate

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table is what creating the template's table locally needs.
type Table struct {
	Create       *dynamodb.CreateTableInput
	TTLAttribute string // empty when TTL is off
}

// Table returns the definition of the AWS::DynamoDB::Table with this logical
// id, named tableName.
func (t *Template) Table(logicalID, tableName string) (Table, error) {
	r, ok := t.Resources[logicalID]
	if !ok || r.Type != "AWS::DynamoDB::Table" {
		return Table{}, fmt.Errorf("no AWS::DynamoDB::Table %q in the template", logicalID)
	}
	p := r.Properties
	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName), BillingMode: types.BillingModePayPerRequest}
	for _, a := range list(p["AttributeDefinitions"]) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(fmt.Sprint(a["AttributeName"])),
			AttributeType: types.ScalarAttributeType(fmt.Sprint(a["AttributeType"])),
		})
	}
	in.KeySchema = keySchema(p["KeySchema"])
	for _, g := range list(p["GlobalSecondaryIndexes"]) {
		proj, _ := g["Projection"].(map[string]any)
		gsi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(fmt.Sprint(g["IndexName"])),
			KeySchema:  keySchema(g["KeySchema"]),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(fmt.Sprint(proj["ProjectionType"]))},
		}
		if nk, ok := proj["NonKeyAttributes"].([]any); ok {
			for _, a := range nk {
				gsi.Projection.NonKeyAttributes = append(gsi.Projection.NonKeyAttributes, fmt.Sprint(a))
			}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if s, ok := p["StreamSpecification"].(map[string]any); ok {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(fmt.Sprint(s["StreamViewType"])),
		}
	}
	out := Table{Create: in}
	if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
		out.TTLAttribute = fmt.Sprint(ttl["AttributeName"])
	}
	return out, nil
}

func keySchema(v any) []types.KeySchemaElement {
	var ks []types.KeySchemaElement
	for _, k := range list(v) {
		ks = append(ks, types.KeySchemaElement{
			AttributeName: aws.String(fmt.Sprint(k["AttributeName"])),
			KeyType:       types.KeyType(fmt.Sprint(k["KeyType"])),
		})
	}
	return ks
}

func list(v any) []map[string]any {
	var out []map[string]any
	s, _ := v.([]any)
	for _, e := range s {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

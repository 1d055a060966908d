package local

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/samtemplate"
)

// What the IAM gateway adds to a DynamoDB call: the same GetItem straight
// to DynamoDB Local and through a gateway that checks it. (Needs DynamoDB
// Local on 127.0.0.1:8000; skipped under -short.)
func BenchmarkGatewayGetItem(b *testing.B) {
	if testing.Short() {
		b.Skip("needs DynamoDB Local")
	}
	const endpoint = "http://127.0.0.1:8000"
	ctx := context.Background()
	direct := dynamodb.NewFromConfig(AWSConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	table := "gwbench"
	direct.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: &table, BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}}})
	defer direct.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	iam := NewIAM()
	p := iam.Issue(samtemplate.Function{Name: "F", Policies: []samtemplate.Statement{{Effect: "Allow", Actions: []string{"dynamodb:*"}, Resources: []string{"*"}}}}, "000000000000")
	proxy, _ := proxyTo(endpoint)
	g := &gateway{service: "dynamodb", iam: iam, classify: arns{account: "000000000000"}.classifyDynamoDB,
		deny: denyJSON("", 400), next: proxy, forwardAs: "local", now: time.Now, log: discardLogger()}
	srv := httptest.NewServer(g)
	defer srv.Close()
	cfg := AWSConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(p.AccessKey, p.SecretKey, p.Token)
	gated := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	key := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "x"}}
	for name, c := range map[string]*dynamodb.Client{"direct": direct, "gateway": gated} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

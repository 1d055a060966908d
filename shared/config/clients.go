package config

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/shared/ddb"
)

// Clients is what every function needs to reach AWS: the SDK configuration
// (see AWS), from which a main builds the clients it uses in one line
// (sesv2.NewFromConfig(c.AWS), objects.FromConfig, invoke.FromConfig), and
// the table's store. It names no service but DynamoDB, which every
// function uses: a service package linked in costs its binary 0.3 MB and
// its cold start the package's init, used or not.
type Clients struct {
	AWS            aws.Config
	table          string
	auditRetention time.Duration
}

// NewClients reads the SDK configuration, TABLE_NAME and
// AUDIT_RETENTION_DAYS; what is wrong is kept in env, for env.Err.
func NewClients(env *Env) *Clients {
	return &Clients{
		AWS:            AWS(env),
		table:          env.Required("TABLE_NAME"),
		auditRetention: time.Duration(env.Int("AUDIT_RETENTION_DAYS", 365, 1, 3650)) * 24 * time.Hour,
	}
}

// Store is the table's store, keeping audit entries AUDIT_RETENTION_DAYS.
func (c *Clients) Store() *ddb.Store {
	store := ddb.New(dynamodb.NewFromConfig(c.AWS), c.table, time.Now)
	store.AuditRetention = c.auditRetention
	return store
}

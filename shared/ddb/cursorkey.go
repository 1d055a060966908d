package ddb

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

type cursorKeyItem struct {
	Key []byte `dynamodbav:"key"`
}

// CursorKey returns the deployment's key for signing list cursors and the
// report links of import summaries (importjob.ReportLinks, which sign their
// purpose in, so a cursor's signature never passes for a link's), read once
// per cold start. The first function to start makes it (32 random bytes, put
// if absent, so that functions starting together agree on one). It lives in
// the table because everyone who can read it can read every list, and the
// people a report names, anyway, and so each deployment, and the local
// runner's table, has its own without a parameter to set or a secret in the
// functions' environment.
func (s *Store) CursorKey(ctx context.Context) ([]byte, error) {
	k := key{pkConfig, skCursors}
	for range 2 {
		var stored cursorKeyItem
		found, err := s.get(ctx, k, &stored)
		if err != nil {
			return nil, fmt.Errorf("cursor key: %w", err)
		}
		if found {
			if len(stored.Key) != 32 {
				return nil, errors.New("cursor key: the stored key is not 32 bytes")
			}
			return stored.Key, nil
		}
		fresh := cursorKeyItem{Key: make([]byte, 32)}
		rand.Read(fresh.Key)
		it, err := item(k, "cursorKey", fresh, nil)
		if err != nil {
			return nil, err
		}
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it,
			ConditionExpression: aws.String("attribute_not_exists(PK)")})
		if err == nil {
			return fresh.Key, nil
		}
		if !isConditionFailed(err) {
			return nil, fmt.Errorf("cursor key: %w", err)
		}
		// Another function made it first: read theirs.
	}
	return nil, errors.New("cursor key: neither found nor made")
}

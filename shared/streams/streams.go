// Package streams reads DynamoDB stream records and turns them into the
// events Lambda hands a function: for replaying a batch the event source
// mapping gave up on, and for the local runner's stream poller.
package streams

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Client is the part of the DynamoDB Streams API used here.
type Client interface {
	GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// BatchInfo is what a stream event source mapping sends its on-failure
// destination about a batch it gave up on.
type BatchInfo struct {
	ShardID             string `json:"shardId"`
	StartSequenceNumber string `json:"startSequenceNumber"`
	EndSequenceNumber   string `json:"endSequenceNumber"`
	StreamArn           string `json:"streamArn"`
	BatchSize           int    `json:"batchSize"`
}

// ReadBatch reads the records of a batch the stream gave up on (they stay
// in the stream for 24 hours).
func ReadBatch(ctx context.Context, c Client, b BatchInfo) ([]events.DynamoDBEventRecord, error) {
	it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(b.StreamArn),
		ShardId: aws.String(b.ShardID), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber,
		SequenceNumber: aws.String(b.StartSequenceNumber)})
	if err != nil {
		return nil, fmt.Errorf("get shard iterator: %w", err)
	}
	end, _ := new(big.Int).SetString(b.EndSequenceNumber, 10)
	var out []events.DynamoDBEventRecord
	iter := it.ShardIterator
	for empty := 0; iter != nil && empty < 3; {
		res, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return nil, fmt.Errorf("get records: %w", err)
		}
		if len(res.Records) == 0 {
			empty++
		}
		for _, r := range res.Records {
			seq, _ := new(big.Int).SetString(aws.ToString(r.Dynamodb.SequenceNumber), 10)
			if end != nil && seq != nil && seq.Cmp(end) > 0 {
				return out, nil
			}
			e, err := Event(r, b.StreamArn)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		iter = res.NextShardIterator
	}
	return out, nil
}

// Event turns a stream record into the record Lambda delivers.
func Event(r types.Record, streamArn string) (events.DynamoDBEventRecord, error) {
	d := r.Dynamodb
	wire := map[string]any{
		"eventID": aws.ToString(r.EventID), "eventName": string(r.EventName), "eventSource": "aws:dynamodb",
		"eventVersion": "1.1", "awsRegion": aws.ToString(r.AwsRegion), "eventSourceARN": streamArn,
		"dynamodb": map[string]any{
			"Keys": image(d.Keys), "NewImage": image(d.NewImage), "OldImage": image(d.OldImage),
			"SequenceNumber": aws.ToString(d.SequenceNumber), "SizeBytes": aws.ToInt64(d.SizeBytes),
			"StreamViewType": string(d.StreamViewType),
		},
	}
	if d.ApproximateCreationDateTime != nil {
		wire["dynamodb"].(map[string]any)["ApproximateCreationDateTime"] = d.ApproximateCreationDateTime.Unix()
	}
	b, err := json.Marshal(wire)
	if err != nil {
		return events.DynamoDBEventRecord{}, err
	}
	var e events.DynamoDBEventRecord
	if err := json.Unmarshal(b, &e); err != nil {
		return events.DynamoDBEventRecord{}, fmt.Errorf("stream record: %w", err)
	}
	return e, nil
}

func image(m map[string]types.AttributeValue) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = value(v)
	}
	return out
}

// value is an attribute value in DynamoDB's JSON wire format.
func value(v types.AttributeValue) map[string]any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		bs := make([]string, len(v.Value))
		for i, b := range v.Value {
			bs[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": bs}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = value(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": image(v.Value)}
	}
	return map[string]any{"NULL": true}
}

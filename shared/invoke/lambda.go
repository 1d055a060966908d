// Package invoke starts Lambda functions asynchronously, as S3 and the
// scheduler start them. It is the only code that calls lambda.Invoke: the
// ingest function hands a large file to its next run and kicks the sweep,
// and the sweep restarts the ingest run of an import that died.
package invoke

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Lambda invokes through the Lambda API.
type Lambda struct {
	// The client's Invoke, not the client: a client reachable from a value
	// in an interface keeps every operation of its API in the binary (the
	// templates' reflection keeps exported methods), 780 KB for Lambda's.
	invoke func(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// FromConfig returns the invoker with a client from cfg (config.AWS).
func FromConfig(cfg aws.Config) Lambda { return Lambda{invoke: lambda.NewFromConfig(cfg).Invoke} }

// InvokeAsync queues payload as an event for function (invocation type
// Event): it returns once Lambda has accepted it, not when it has run, and
// Lambda retries a run that fails as it retries S3's own events.
func (l Lambda) InvokeAsync(ctx context.Context, function string, payload []byte) error {
	_, err := l.invoke(ctx, &lambda.InvokeInput{FunctionName: &function, InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", function, err)
	}
	return nil
}

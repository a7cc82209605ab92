// Command relay is the Lambda function on the table's DynamoDB stream: it
// publishes each outbox entry the stream shows inserted to EventBridge and
// then deletes the entry, reporting the records it could not publish so that
// Lambda retries them. See template.yaml for its event source and
// shared/relay for what it does.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/atlas-network-tokens/atlas/shared/app"
)

func main() {
	a, err := app.FromEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting:", err)
		os.Exit(1)
	}
	lambda.Start(a.Relay.HandleStream)
}

// Command dispatcher is the Lambda function an EventBridge rule invokes
// with every event on the bus: it delivers the event to the merchant's
// webhook endpoints, signed. It returns an error when an endpoint did not
// take the event, so that Lambda retries it and then parks it in the
// dead-letter queue; see template.yaml and shared/webhook.
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
	lambda.Start(a.Dispatcher.HandleEventBridge)
}

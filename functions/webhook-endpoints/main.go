// Command webhook-endpoints is the Lambda function behind the
// webhook-endpoint routes (POST and GET /functions/v1/webhook-endpoints,
// DELETE /functions/v1/webhook-endpoints/{id}); see template.yaml and
// shared/webhook for what they do.
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
	lambda.Start(a.Handlers.WebhookEndpoints())
}

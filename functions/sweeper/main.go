// Command sweeper is the Lambda function that runs every few minutes and
// publishes whatever the outbox still holds: events the stream relay could
// not publish before the table's stream dropped them (streams keep records
// for 24 hours). See template.yaml for its schedule and shared/relay.
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
	lambda.Start(func(ctx context.Context) error {
		n, err := a.Relay.Sweep(ctx)
		a.Log.Info("outbox sweep", "published", n)
		return err
	})
}

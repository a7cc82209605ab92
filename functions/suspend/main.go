// Command suspend is the Lambda function behind one route of the API; see
// template.yaml for its route and README.md for what it does.
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
	lambda.Start(a.Handlers.SuspendNetworkToken())
}

// Command echo is a stand-in Lambda function for the harness's own tests. It
// answers an HTTP API event with what it was sent, and fails on request:
// ?fail=error returns a Go error, ?fail=panic panics, ?fail=exit exits,
// ?fail=empty answers with a zero response (no status code), ?fail=hang
// never answers.
// ?env=NAME adds the value of the environment variable NAME to the answer.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// echo is the answer's body.
type echo struct {
	RouteKey string `json:"routeKey"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	ID       string `json:"id,omitempty"`
	Body     string `json:"body"`
	Env      string `json:"env,omitempty"`
}

func handle(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	switch req.QueryStringParameters["fail"] {
	case "error":
		return events.APIGatewayV2HTTPResponse{}, errors.New("echo asked to fail")
	case "panic":
		panic("echo asked to panic")
	case "exit":
		os.Exit(3)
	case "empty":
		return events.APIGatewayV2HTTPResponse{}, nil
	case "hang":
		time.Sleep(time.Hour)
	}

	body, err := json.Marshal(echo{
		RouteKey: req.RouteKey,
		Method:   req.RequestContext.HTTP.Method,
		Path:     req.RawPath,
		ID:       req.PathParameters["id"],
		Body:     req.Body,
		Env:      os.Getenv(req.QueryStringParameters["env"]),
	})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("encoding echo: %w", err)
	}

	fmt.Fprintf(os.Stderr, "echo handled %s\n", req.RouteKey)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(body),
	}, nil
}

func main() {
	lambda.Start(handle)
}

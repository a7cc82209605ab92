package logging

import (
	"context"
	"fmt"
	"log/slog"

	smithylogging "github.com/aws/smithy-go/logging"
)

// SDK adapts log for the AWS SDK, whose own logger writes plain text: its
// warnings and debug lines become JSON records of ours, scrubbed like
// every other.
func SDK(log *slog.Logger) smithylogging.Logger {
	return smithylogging.LoggerFunc(func(c smithylogging.Classification, format string, v ...any) {
		level := slog.LevelWarn
		if c == smithylogging.Debug {
			level = slog.LevelDebug
		}
		log.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk")
	})
}

// Package outputs defines what a sink is. It imports nothing daemon-only, so
// the Fluent Bit plugin can link it alone.
package outputs

import (
	"context"

	"github.com/sluicelog/sluice/record"
)

// Sink delivers records somewhere. Send returns nil only once every record
// has been accepted, which is what lets the caller acknowledge the batch;
// after an error nothing may be assumed delivered and the caller retries.
type Sink interface {
	Send(ctx context.Context, recs []record.Record) error
}

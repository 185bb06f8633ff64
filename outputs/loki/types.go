package loki

import "time"

// The shapes of Loki's push request that the encoder fills and the rare
// paths decode back. They mirror the push package's PushRequest fields the
// sink writes, so the daemon does not link that package's gRPC and gogo
// protobuf runtime; wire_test holds the bytes to the generated code's.
type (
	// labelPair is one label or structured-metadata pair.
	labelPair struct{ Name, Value string }
	// entry is one log line of a stream.
	entry struct {
		Timestamp          time.Time
		Line               string
		StructuredMetadata []labelPair
	}
	// stream is one label set and its entries.
	stream struct {
		Labels  string
		Entries []entry
	}
)

package file

import (
	"context"

	"github.com/sluicelog/sluice/record"
)

// arenaSize is the slab that record bodies of a batch are copied into: one
// allocation serves hundreds of lines, which keeps the tailer near zero
// allocations per line.
const arenaSize = 256 << 10

// batcher collects the records of one file's read turn.
type batcher struct {
	out      chan<- *record.Batch
	maxRecs  int
	maxBytes int
	path     string
	src      *record.Source
	recs     []record.Record
	arena    []byte
	bytes    int
}

// add copies r's body into the arena and keeps the record.
func (b *batcher) add(r record.Record) {
	if len(b.arena)+len(r.Body) > cap(b.arena) {
		size := arenaSize
		if len(r.Body) > size {
			size = len(r.Body)
		}
		// Earlier records keep pointing into the old slab, so it is replaced,
		// never grown in place.
		b.arena = make([]byte, 0, size)
	}
	start := len(b.arena)
	b.arena = append(b.arena, r.Body...)
	r.Body = b.arena[start:len(b.arena):len(b.arena)]
	r.Path, r.Source = b.path, b.src
	if b.recs == nil {
		b.recs = make([]record.Record, 0, b.maxRecs)
	}
	b.recs = append(b.recs, r)
	b.bytes += len(r.Body)
}

func (b *batcher) full() bool { return len(b.recs) >= b.maxRecs || b.bytes >= b.maxBytes }

func (b *batcher) empty() bool { return len(b.recs) == 0 }

// send hands the collected records downstream, waiting while the consumer is
// busy: that wait is the backpressure that stops reading when sinks lag.
func (b *batcher) send(ctx context.Context, ack func()) error {
	batch := record.NewBatch(b.recs, ack)
	b.recs, b.bytes = nil, 0
	select {
	case b.out <- batch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package file

import (
	"context"
	"time"

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
	// outbox holds batches the consumer has not taken yet, oldest first.
	// While it is not empty the tailer reads no new bytes, but it goes on
	// noticing rotations and deletions and closing drained files, which
	// may add a last small batch each.
	outbox []*record.Batch
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

// send queues the collected records for downstream without waiting; a
// consumer that lags leaves them in the outbox, which is the backpressure
// that stops reading (see blocked).
func (b *batcher) send(ack ackFuncs) {
	batch := record.NewBatch(b.recs, ack.ack).OnNack(ack.nack)
	b.recs, b.bytes = nil, 0
	b.outbox = append(b.outbox, batch)
	b.flush()
}

// flush hands queued batches to the consumer while it takes them at once,
// and reports whether the outbox is empty.
func (b *batcher) flush() bool {
	for len(b.outbox) > 0 {
		select {
		case b.out <- b.outbox[0]:
			b.pop()
		default:
			return false
		}
	}
	return true
}

// wait blocks until the consumer takes a queued batch, ctx ends or d passes.
func (b *batcher) wait(ctx context.Context, d time.Duration) {
	if len(b.outbox) == 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case b.out <- b.outbox[0]:
		b.pop()
	case <-ctx.Done():
	case <-tm.C:
	}
}

func (b *batcher) pop() {
	b.outbox[0] = nil
	b.outbox = b.outbox[1:]
	if len(b.outbox) == 0 {
		b.outbox = nil // let the backing array go once drained
	}
}

// blocked reports whether batches wait for the consumer: no new bytes are
// read until they are taken.
func (b *batcher) blocked() bool { return len(b.outbox) > 0 }

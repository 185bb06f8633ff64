package file

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/record"
)

// arenaSize is the slab that record bodies of a batch are copied into: one
// allocation serves hundreds of lines, which keeps the tailer near zero
// allocations per line.
const arenaSize = 256 << 10

// firstRecords is the room a new batch starts with; append grows it up to
// the batch size. Many files each read a few lines per poll on a steady
// node, and a batch sized for 1,024 records held 140 KB for each.
const firstRecords = 64

// batcher collects the records of one file's read turn.
type batcher struct {
	out      chan<- *record.Batch
	maxRecs  int
	maxBytes int
	path     string
	src      *record.Source
	recs     []record.Record
	bytes    int
	// cur is the slab bodies are copied into; used lists the slabs the
	// records being collected point into, held for their batch.
	cur  *slab
	used []*slab
	pool pool
	// outbox holds batches the consumer has not taken yet, oldest first.
	// While it is not empty the tailer reads no new bytes, but it goes on
	// noticing rotations and deletions and closing drained files, which
	// may add a last small batch each.
	outbox []*record.Batch
}

// add copies r's body into the current slab and keeps the record.
func (b *batcher) add(r record.Record) {
	if b.cur == nil || len(b.cur.buf)+len(r.Body) > cap(b.cur.buf) {
		// Earlier records keep pointing into the old slab, so it is replaced,
		// never grown in place.
		b.swap(b.pool.slab(len(r.Body)))
	}
	if len(b.used) == 0 || b.used[len(b.used)-1] != b.cur {
		b.cur.refs.Add(1)
		b.used = append(b.used, b.cur)
	}
	start := len(b.cur.buf)
	b.cur.buf = append(b.cur.buf, r.Body...)
	r.Body = b.cur.buf[start:len(b.cur.buf):len(b.cur.buf)]
	r.Path, r.Source = b.path, b.src
	if b.recs == nil {
		b.recs = b.pool.records(min(b.maxRecs, firstRecords))
	}
	b.recs = append(b.recs, r)
	b.bytes += len(r.Body)
}

// trim lets go of the memory kept for the next batches: the current slab
// and the pool's free lists. An idle node then holds none of a burst's
// slabs; the next burst makes new ones.
func (b *batcher) trim() {
	b.swap(nil)
	for {
		select {
		case <-b.pool.slabs:
		case <-b.pool.recs:
		default:
			return
		}
	}
}

// swap makes s the current slab, dropping the batcher's hold on the old one.
func (b *batcher) swap(s *slab) {
	if b.cur != nil {
		b.pool.drop(b.cur)
	}
	b.cur = s
}

func (b *batcher) full() bool { return len(b.recs) >= b.maxRecs || b.bytes >= b.maxBytes }

func (b *batcher) empty() bool { return len(b.recs) == 0 }

// send queues the collected records for downstream without waiting; a
// consumer that lags leaves them in the outbox, which is the backpressure
// that stops reading (see blocked).
func (b *batcher) send(ack ackFuncs) {
	recs, used, p := b.recs, append([]*slab(nil), b.used...), &b.pool
	batch := record.NewBatch(recs, ack.ack).OnNack(ack.nack).OnRelease(func() { p.put(recs, used) })
	clear(b.used) // the batch holds them now; a stale entry would keep an idle tailer's slab
	b.recs, b.bytes, b.used = nil, 0, b.used[:0]
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

// slab is an arena of record bodies, shared by the batches whose records
// point into it and by the batcher while it copies into it.
type slab struct {
	buf  []byte
	refs atomic.Int32 // holds: the batcher's while current, one per batch
}

// poolSlabs and poolRecords bound what a pool keeps: about what the
// pipeline holds in flight between the tailer and the buffer (the output
// channel, the outbox and one batch in each stage), 2 MiB of slabs and
// 8 record slices.
const (
	poolSlabs   = 8
	poolRecords = 8
)

// pool keeps the slabs and record slices of batches downstream released,
// for the next batches. A steady stream then reads into the same memory
// instead of making a slab and a record slice of garbage per batch, which
// is what set the garbage collector's pace and, with it, the heap's peak.
// Batches nobody releases are simply collected. Release comes from another
// goroutine than the batcher's, so the free lists are channels and the
// holds atomic.
type pool struct {
	slabs chan *slab
	recs  chan []record.Record
}

func newPool() pool {
	return pool{slabs: make(chan *slab, poolSlabs), recs: make(chan []record.Record, poolRecords)}
}

// slab returns a slab with room for n bytes, held once for the batcher.
func (p *pool) slab(n int) *slab {
	if n <= arenaSize {
		select {
		case s := <-p.slabs:
			s.refs.Store(1)
			return s
		default:
		}
	}
	s := &slab{buf: make([]byte, 0, max(n, arenaSize))}
	s.refs.Store(1)
	return s
}

// records returns an empty record slice with room for n records.
func (p *pool) records(n int) []record.Record {
	select {
	case r := <-p.recs:
		if cap(r) >= n {
			return r
		}
	default:
	}
	return make([]record.Record, 0, n)
}

// drop releases one hold on s; the last one returns it to the pool.
func (p *pool) drop(s *slab) {
	if s.refs.Add(-1) != 0 || cap(s.buf) != arenaSize {
		return
	}
	s.buf = s.buf[:0]
	select {
	case p.slabs <- s:
	default:
	}
}

// put takes back a released batch's records and its holds on slabs.
func (p *pool) put(recs []record.Record, used []*slab) {
	clear(recs) // no pointers into attrs and sources stay behind
	select {
	case p.recs <- recs[:0]:
	default:
	}
	for _, s := range used {
		p.drop(s)
	}
}

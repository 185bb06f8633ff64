package file

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"weak"

	"github.com/sluicelog/sluice/record"
)

func newTestBatcher(maxRecs int) (*batcher, chan *record.Batch) {
	out := make(chan *record.Batch, 16)
	return &batcher{out: out, maxRecs: maxRecs, maxBytes: 1 << 20, pool: newPool()}, out
}

func line(i, size int) []byte {
	b := []byte(fmt.Sprintf("line %06d ", i))
	return append(b, bytes.Repeat([]byte{'x'}, size-len(b))...)
}

// A batch that is released gives its slab back only once every batch
// that points into it is released and the batcher has moved on: memory a
// held batch still reads is never written again.
func TestPoolNeverReusesHeldBodies(t *testing.T) {
	b, out := newTestBatcher(1024)
	const size = 1000 // 262 lines fill a slab
	n := 0
	send := func(lines int) *record.Batch {
		for range lines {
			b.add(record.Record{Body: line(n, size)})
			n++
		}
		b.send(ackFuncs{})
		return <-out
	}
	check := func(name string, bt *record.Batch, first int) {
		t.Helper()
		for i, r := range bt.Records {
			if want := line(first+i, size); !bytes.Equal(r.Body, want) {
				t.Fatalf("%s: record %d reads %.20q, want %.20q: its memory was reused while held", name, i, r.Body, want)
			}
		}
	}
	held := send(100) // shares the first slab with the next batch
	released := send(100)
	released.Release()
	// Fill well past the first slab while held is not released: the
	// first slab must not come back.
	var more []*record.Batch
	for range 6 {
		bt := send(200)
		more = append(more, bt)
	}
	check("held", held, 0)
	for i, bt := range more {
		check(fmt.Sprintf("batch %d", i), bt, 200+200*i)
		bt.Release()
	}
	check("held, at the end", held, 0)
}

// Batches that are released as they go read into the same few slabs and
// record slices: a steady stream makes no garbage per batch.
func TestPoolReusesReleasedMemory(t *testing.T) {
	b, out := newTestBatcher(1024)
	body := line(0, 1000)
	round := func() {
		for range 262 {
			b.add(record.Record{Body: body})
		}
		b.send(ackFuncs{})
		(<-out).Release()
	}
	for range 4 {
		round() // the pool fills
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const rounds = 50
	for range rounds {
		round()
	}
	runtime.ReadMemStats(&after)
	// Without the pool each round makes a 256 KiB slab and a slice of
	// 1,024 records: about 20 MB for 50 rounds.
	if got := after.TotalAlloc - before.TotalAlloc; got > rounds*4096 {
		t.Errorf("%d rounds allocated %d bytes, want under %d: released slabs and records are not reused", rounds, got, rounds*4096)
	}
}

// A batch nobody releases keeps its memory; only Release gives it back.
func TestUnreleasedBatchIsNotReused(t *testing.T) {
	b, out := newTestBatcher(1024)
	b.add(record.Record{Body: line(1, 100)})
	b.send(ackFuncs{})
	kept := <-out
	kept.Ack()
	for i := range 3000 { // past several slabs
		b.add(record.Record{Body: line(i, 1000)})
		if b.full() {
			b.send(ackFuncs{})
			(<-out).Release()
		}
	}
	if want := line(1, 100); !bytes.Equal(kept.Records[0].Body, want) {
		t.Fatalf("an acknowledged but unreleased batch reads %.20q, want %.20q", kept.Records[0].Body, want)
	}
}

// trim empties the pool and drops the current slab, and a batch still
// held keeps its bodies.
func TestTrimLetsGo(t *testing.T) {
	b, out := newTestBatcher(1024)
	var sent []*record.Batch
	for i := range 2000 {
		b.add(record.Record{Body: line(i, 1000)})
		if b.full() {
			b.send(ackFuncs{})
			sent = append(sent, <-out)
		}
	}
	b.add(record.Record{Body: line(7, 100)})
	b.send(ackFuncs{})
	held := <-out
	for _, bt := range sent {
		bt.Release()
	}
	if len(b.pool.slabs) == 0 || len(b.pool.recs) == 0 {
		t.Fatalf("pool before trim: %d slabs, %d record slices; want some of each", len(b.pool.slabs), len(b.pool.recs))
	}
	b.trim()
	if len(b.pool.slabs) != 0 || len(b.pool.recs) != 0 || b.cur != nil {
		t.Errorf("after trim: %d slabs, %d record slices, current slab %v", len(b.pool.slabs), len(b.pool.recs), b.cur != nil)
	}
	b.add(record.Record{Body: line(8, 100)})
	last := held.Records[len(held.Records)-1]
	if want := line(7, 100); !bytes.Equal(last.Body, want) {
		t.Errorf("held batch reads %.20q after trim, want %.20q", last.Body, want)
	}
}

// Once every batch is released and the batcher trimmed, nothing in the
// batcher reaches the slabs any more: an idle tailer holds none of them.
func TestTrimmedBatcherHoldsNoSlab(t *testing.T) {
	b, out := newTestBatcher(1024)
	var slabs []weak.Pointer[slab]
	for i := range 600 {
		b.add(record.Record{Body: line(i, 1000)})
		if len(slabs) == 0 || slabs[len(slabs)-1].Value() != b.cur {
			slabs = append(slabs, weak.Make(b.cur))
		}
		if b.full() || i == 599 {
			b.send(ackFuncs{})
			(<-out).Release()
		}
	}
	b.trim()
	runtime.GC()
	for i, p := range slabs {
		if p.Value() != nil {
			t.Errorf("slab %d of %d is still reachable after every batch was released and the batcher trimmed", i+1, len(slabs))
		}
	}
	runtime.KeepAlive(b) // the batcher lives on, as the tailer's does
}

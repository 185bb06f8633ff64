package buffer

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/testdir"
)

// TestRotationLeavesTheSealedSyncToTheLoop holds the fsync of the segment a
// rotation sealed: appends to the next segment go on meanwhile, nothing is
// reported durable before that fsync returns, and then every batch is.
func TestRotationLeavesTheSealedSyncToTheLoop(t *testing.T) {
	cfg := testConfig(testdir.New(t), "s")
	cfg.SegmentSize = 4 << 10
	b := open(t, cfg)
	entered, held := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	var once sync.Once
	b.mu.Lock()
	b.syncer = func(w *segment.Writer) func() error {
		// Called with the lock held, as the loop gathers its fsyncs.
		sync, sealed := w.Syncer(), w == b.sealed
		return func() error {
			if sealed {
				once.Do(func() { close(entered); <-held })
			}
			return sync()
		}
	}
	b.mu.Unlock()
	answers := make(chan bool, 4)
	if err := b.Append(context.Background(), recs(0, 20), func(d bool) { answers <- d }); err != nil {
		t.Fatal(err)
	}
	if !next(t, answers) {
		t.Fatal("the first batch was reported not durable")
	}
	// 20 records of about 130 bytes fill most of a 4 KiB segment: the
	// next batch rotates, which seals segment 1 and wakes the loop.
	waitClosed(t, appendAsync(t, b, 20, 40, answers), "the rotating Append waited for the sealed segment's fsync")
	waitClosed(t, entered, "the sync loop never synced the sealed segment")
	waitClosed(t, appendAsync(t, b, 40, 41, answers), "an Append waited for the sealed segment's fsync in flight")
	if len(answers) != 0 {
		t.Fatalf("a batch was reported (%v) before the fsync of the segment sealed before it returned", <-answers)
	}
	if n := b.Stats().Segments; n != 2 {
		t.Fatalf("%d segments, want 2: the second batch should have rotated", n)
	}
	release()
	for range 2 {
		if !next(t, answers) {
			t.Fatal("a batch was reported not durable after good syncs")
		}
	}
	b.mu.Lock()
	sealed := b.sealed
	b.mu.Unlock()
	if sealed != nil {
		t.Fatalf("segment %d is still held open as sealed after its fsync", sealed.Index())
	}
}

// TestTornSealedSegmentIsRepaired: the segment sealed before the newest
// may not have been synced when the power went, so recovery repairs its
// torn tail as it does the newest's: the frame cut short is cut off and
// counted, and the records before it stay readable.
func TestTornSealedSegmentIsRepaired(t *testing.T) {
	dir := testdir.New(t)
	segs := closedBuffer(t, dir, 1500)
	idx := segs[len(segs)-2]
	r, err := segment.OpenReader(dir, idx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var last, records int64
	for r.Next() {
		last = r.Offset()
		records++
	}
	r.Close()
	// The last frame loses its last bytes, as a write that never reached
	// the disk leaves it.
	path := segPath(dir, idx)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-5); err != nil {
		t.Fatal(err)
	}
	ev := &counting{}
	cfg := testConfig(dir, "a")
	cfg.Events = ev
	b := open(t, cfg)
	st, err = os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != last {
		t.Errorf("segment %d is %d bytes after Open, want %d: its torn last frame cut off", idx, st.Size(), last)
	}
	if ev.corrupt == 0 {
		t.Error("the torn tail was not counted")
	}
	if s := b.seg(idx); s == nil || s.records != records-1 {
		t.Errorf("segment %d measured %+v, want its %d whole records", idx, s, records-1)
	}
}

// TestRotationSyncsASealedSegmentLeftWaiting: while the loop is busy (here
// in a cursor fsync, held), a second rotation finds the segment the first
// one sealed not synced yet. It syncs that one and the one it seals
// itself at once, so that no more than one sealed segment ever waits.
func TestRotationSyncsASealedSegmentLeftWaiting(t *testing.T) {
	cfg := testConfig(testdir.New(t), "s")
	cfg.SegmentSize = 4 << 10
	b := open(t, cfg)
	answers := make(chan bool, 4)
	answer := func(d bool) { answers <- d }
	if err := b.Append(context.Background(), recs(0, 20), answer); err != nil {
		t.Fatal(err)
	}
	if !next(t, answers) {
		t.Fatal("the first batch was reported not durable")
	}
	r, err := b.Reader("s")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	entered, release := holdCursorSync(t, b)
	defer release()
	readN(t, r, 20, true) // the cursor moves: the loop's next round syncs it, held
	waitClosed(t, entered, "the sync loop never synced the moved cursor")

	for _, from := range []int{20, 40} { // each fills a segment: two rotations
		if err := b.Append(context.Background(), recs(from, from+20), answer); err != nil {
			t.Fatal(err)
		}
	}
	if !next(t, answers) {
		t.Fatal("the batch of the segment the second rotation sealed was reported not durable")
	}
	b.mu.Lock()
	sealed, segs := b.sealed, len(b.segs)
	b.mu.Unlock()
	if sealed != nil || segs != 3 {
		t.Fatalf("after two rotations: %d segments, sealed %v; want 3 and none waiting", segs, sealed != nil)
	}
	release()
	if !next(t, answers) {
		t.Fatal("the last batch was reported not durable")
	}
}

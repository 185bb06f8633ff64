package buffer

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/testdir"
)

// TestFailedSyncReportsNotDurable makes one fsync fail, as a disk that
// loses a write does (EIO): the batches it should have covered are reported
// not durable, never left without an answer, and later batches are reported
// durable once a sync succeeds again.
func TestFailedSyncReportsNotDurable(t *testing.T) {
	for _, fsync := range []string{FsyncInterval, FsyncAlways} {
		t.Run(fsync, func(t *testing.T) {
			cfg := testConfig(testdir.New(t), "s")
			cfg.Fsync = fsync
			b := open(t, cfg)
			var failOnce sync.Once
			b.mu.Lock()
			b.syncer = func(w *segment.Writer) func() error {
				sync := w.Syncer()
				return func() error {
					var err error
					failOnce.Do(func() { err = syscall.EIO })
					if err != nil {
						return err
					}
					return sync()
				}
			}
			b.mu.Unlock()

			answers := make(chan bool, 4)
			answer := func(durable bool) { answers <- durable }
			err := b.Append(context.Background(), recs(0, 100), answer)
			if fsync == FsyncAlways {
				// The error is the answer: the caller appends the batch again.
				if !errors.Is(err, syscall.EIO) {
					t.Fatalf("Append with fsync always = %v, want the sync's EIO", err)
				}
				if len(answers) != 0 {
					t.Fatalf("a batch whose Append failed was also answered %v", <-answers)
				}
			} else if got := next(t, answers); got {
				t.Fatalf("first batch reported durable after its fsync failed")
			}
			if err := b.Append(context.Background(), recs(100, 200), answer); err != nil {
				t.Fatalf("Append after the failed sync: %v", err)
			}
			if got := next(t, answers); !got {
				t.Fatalf("second batch reported not durable after a good sync")
			}
		})
	}
}

// next waits for one answer; the deadline only bounds a hang.
func next(t *testing.T, answers <-chan bool) bool {
	t.Helper()
	select {
	case v := <-answers:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no answer for an appended batch")
		return false
	}
}

// holdSync makes b's first fsync wait, as a busy disk does, until the
// returned release is called (at the latest when the test ends, before
// the buffer closes); entered is closed once it waits.
func holdSync(t *testing.T, b *Buffer) (entered chan struct{}, release func()) {
	entered, held := make(chan struct{}), make(chan struct{})
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	b.mu.Lock()
	b.syncer = heldSyncer(entered, held)
	b.mu.Unlock()
	return entered, release
}

// heldSyncer makes the first fsync wait until release is closed, and
// closes entered once it waits.
func heldSyncer(entered, release chan struct{}) func(*segment.Writer) func() error {
	var once sync.Once
	return func(w *segment.Writer) func() error {
		sync := w.Syncer()
		return func() error {
			first := false
			once.Do(func() { first = true })
			if first {
				close(entered)
				<-release
			}
			return sync()
		}
	}
}

// waitClosed fails the test if c is not closed in time; the deadline only
// bounds a hang.
func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatal(what)
	}
}

// heldAfterAppend opens a buffer with cfg whose first fsync is held,
// appends recs(0, n) and waits until the sync loop holds that fsync.
// answers gets the durable answer of every batch appendAsync adds.
func heldAfterAppend(t *testing.T, cfg Config, n int) (b *Buffer, release func(), answers chan bool) {
	t.Helper()
	b = open(t, cfg)
	entered, release := holdSync(t, b)
	answers = make(chan bool, 4)
	if err := b.Append(context.Background(), recs(0, n), func(durable bool) { answers <- durable }); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, entered, "the sync loop never synced the appended batch")
	return b, release, answers
}

// appendAsync appends recs(from, to) from another goroutine, sending its
// durable answer to answers; the channel it returns closes once Append
// returned.
func appendAsync(t *testing.T, b *Buffer, from, to int, answers chan bool) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := b.Append(context.Background(), recs(from, to), func(durable bool) { answers <- durable }); err != nil {
			t.Error(err)
		}
	}()
	return done
}

// TestSlowSyncHoldsNoAppendOrRead holds the sync loop's fsync: appends and
// reads go on meanwhile, nothing is reported durable before the fsync
// returns, and then every batch is, the later ones by the next sync.
func TestSlowSyncHoldsNoAppendOrRead(t *testing.T) {
	b, release, answers := heldAfterAppend(t, testConfig(testdir.New(t), "s"), 10)
	waitClosed(t, appendAsync(t, b, 10, 20, answers), "Append waited for the fsync in flight")
	r, err := b.Reader("s")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := readN(t, r, 20, true); got[19].Offset != 19 {
		t.Fatalf("read %d records ending at offset %d", len(got), got[19].Offset)
	}
	if len(answers) != 0 {
		t.Fatalf("a batch was reported (%v) before the fsync covering it returned", <-answers)
	}
	release()
	if !next(t, answers) || !next(t, answers) {
		t.Fatal("a batch was reported not durable after good syncs")
	}
}

// TestRotationWaitsForSync: a segment is not synced again or closed while
// the sync loop's fsync of it is in flight. A second fsync could report
// success for pages the first found lost, and the close would end it.
func TestRotationWaitsForSync(t *testing.T) {
	cfg := testConfig(testdir.New(t), "s")
	cfg.SegmentSize = 4 << 10
	b, release, answers := heldAfterAppend(t, cfg, 20)
	rotated := appendAsync(t, b, 20, 40, answers)
	select {
	case <-rotated:
		t.Fatal("the append that rotates the segment did not wait for its fsync in flight")
	case <-time.After(200 * time.Millisecond):
	}
	release()
	waitClosed(t, rotated, "the rotating append never went on after the fsync returned")
	if !next(t, answers) || !next(t, answers) {
		t.Fatal("a batch was reported not durable after good syncs")
	}
	if n := b.Stats().Segments; n < 2 {
		t.Fatalf("%d segments: the second batch should have rotated", n)
	}
}

// TestNoFsyncObservedWithoutASegment: after a failed fsync let the segment
// go, closing the buffer has nothing to sync, and the fsync latency metric
// must not count an fsync that never ran.
func TestNoFsyncObservedWithoutASegment(t *testing.T) {
	ev := &counting{}
	cfg := testConfig(testdir.New(t), "s")
	cfg.Fsync, cfg.Events = FsyncAlways, ev
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.syncer = func(*segment.Writer) func() error { return func() error { return syscall.EIO } }
	b.mu.Unlock()
	if err := b.Append(context.Background(), recs(0, 10), nil); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append with a failing fsync = %v, want EIO", err)
	}
	b.mu.Lock()
	left := b.w
	b.mu.Unlock()
	if left != nil {
		t.Fatal("the segment whose fsync failed is still written to")
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close with no segment: %v", err)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.synced != 0 {
		t.Fatalf("%d fsyncs observed, none ran", ev.synced)
	}
}

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
			b.sync = func(w *segment.Writer) error {
				var err error
				failOnce.Do(func() { err = syscall.EIO })
				if err != nil {
					return err
				}
				return w.Sync()
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

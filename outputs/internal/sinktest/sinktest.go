// Package sinktest holds what the sinks' tests share: a source that hands
// out fixed batches and records commits, a run-until-committed helper and a
// dead-letter file in a test folder.
package sinktest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// Source hands out its batches once each, then waits for the run to end.
type Source struct {
	batches [][]record.Record
	next    int

	mu        sync.Mutex
	committed []int
	all       chan struct{}
}

// NewSource returns a source of batches.
func NewSource(batches ...[]record.Record) *Source {
	return &Source{batches: batches, all: make(chan struct{})}
}

var _ outputs.Source = (*Source)(nil)

// Read implements outputs.Source.
func (f *Source) Read(ctx context.Context, _, _ int, _ time.Duration) ([]record.Record, func(), error) {
	if f.next == len(f.batches) {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	i := f.next
	f.next++
	return f.batches[i], func() { f.commit(i) }, nil
}

// commit records that batch i is committed; the last one closes all.
func (f *Source) commit(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.committed = append(f.committed, i); len(f.committed) == len(f.batches) {
		close(f.all)
	}
}

// Committed returns the indexes of the committed batches, in commit order.
func (f *Source) Committed() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.committed)
}

// Run runs r until src committed every batch, then stops it.
func Run[R outputs.Request](t *testing.T, r *outputs.Runner[R], src *Source) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case <-src.all:
	case <-time.After(20 * time.Second):
		t.Error("not every batch was committed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// OpenDeadLetter opens a dead-letter file in a test folder.
func OpenDeadLetter(t *testing.T) *outputs.DeadLetter {
	t.Helper()
	dl, err := outputs.OpenDeadLetter(testdir.New(t)+"/dead.jsonl", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dl.Close() })
	return dl
}

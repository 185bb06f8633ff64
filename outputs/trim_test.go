package outputs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// trimSink is a scriptSink that counts its trims.
type trimSink struct {
	scriptSink
	trims atomic.Int32
}

func (s *trimSink) Trim() { s.trims.Add(1) }

// trimSource is a listSource that counts its trims.
type trimSource struct {
	*listSource
	trims atomic.Int32
}

func (s *trimSource) Trim() { s.trims.Add(1) }

// Once no batch has come for the idle time, the runner trims the sink and
// the source once, and not again until batches came and went quiet again.
func TestRunnerTrimsWhenIdle(t *testing.T) {
	sink := &trimSink{}
	src := &trimSource{listSource: newListSource(3)}
	r := NewRunner[*testReq](sink, src, RunnerConfig{})
	r.idle = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-src.done
	deadline := time.After(10 * time.Second)
	for sink.trims.Load() == 0 || src.trims.Load() == 0 {
		select {
		case <-deadline:
			t.Fatalf("after the batches, trims: sink %d, source %d; want both", sink.trims.Load(), src.trims.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	time.Sleep(10 * r.idle) // quiet for many idle periods: no more trims
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s, o := sink.trims.Load(), src.trims.Load(); s != 1 || o != 1 {
		t.Errorf("trims while quiet: sink %d, source %d; want 1 each", s, o)
	}
}

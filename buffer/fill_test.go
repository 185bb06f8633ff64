package buffer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
)

// fillWithin runs Fill and fails the test if it has not returned after
// 10 s, which here means it waits for a linger of an hour.
func fillWithin(t *testing.T, ctx context.Context, r *Reader, minBytes int64, linger time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- r.Fill(ctx, minBytes, linger) }()
	select {
	case err := <-errc:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Fill(%d bytes, %v) did not return", minBytes, linger)
		return nil
	}
}

func TestFill(t *testing.T) {
	b := open(t, testConfig(testdir.New(t), "a"))
	r, err := b.Reader("a")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	if err := b.Append(ctx, recs(0, 1), nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := fillWithin(t, ctx, r, 1<<20, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Fatalf("Fill returned after %v with one small record pending; want it to linger 50ms", waited)
	}

	// A backlog at least minBytes large goes out without waiting.
	if err := b.Append(ctx, recs(1, 100), nil); err != nil {
		t.Fatal(err)
	}
	if err := fillWithin(t, ctx, r, 4096, time.Hour); err != nil {
		t.Fatal(err)
	}

	// Appends while lingering end the wait once they reach minBytes.
	got := readN(t, r, 100, true)
	checkSeq(t, got, 0)
	done := make(chan error, 1)
	go func() { done <- r.Fill(ctx, 8192, time.Hour) }()
	if err := b.Append(ctx, recs(100, 101), nil); err != nil {
		t.Fatal(err)
	}
	for i := 101; i < 200; i += 11 {
		if err := b.Append(ctx, recs(i, i+11), nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Fill kept lingering after 100 records (over 8 KiB) arrived")
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := fillWithin(t, cctx, r, 1<<30, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fill with a cancelled context = %v", err)
	}
	readN(t, r, 100, true)
	closed := make(chan error, 1)
	go func() { closed <- r.Fill(ctx, 1, time.Hour) }()
	time.Sleep(10 * time.Millisecond)
	b.Close()
	select {
	case err := <-closed:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Fill on a closed buffer = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Fill did not return when the buffer closed")
	}
}

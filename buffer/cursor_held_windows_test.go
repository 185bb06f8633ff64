package buffer

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// cursorFailures counts the DiskError events of cursor saves.
type cursorFailures struct {
	NopEvents
	n atomic.Int32
}

func (c *cursorFailures) DiskError(op string) {
	if op == OpCursor {
		c.n.Add(1)
	}
}

// TestCursorHeldThroughoutIsCounted: a cursor file another process holds
// without delete sharing (os.Open on Windows; Wine enforces share modes)
// cannot be replaced once the retries run out: the failure is counted as a
// cursor DiskError, which the daemon also counts as a failed file
// replacement, and the commit is saved once the file is released.
func TestCursorHeldThroughoutIsCounted(t *testing.T) {
	ev := &cursorFailures{}
	cfg := testConfig(testdir.New(t), "a")
	cfg.Events = ev
	b := open(t, cfg)
	if err := b.Append(context.Background(), recs(0, 20), nil); err != nil {
		t.Fatal(err)
	}
	r, err := b.Reader("a")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	readN(t, r, 10, true)
	viewer, err := os.Open(cursorPath(cfg.Dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()
	readN(t, r, 5, true)
	if n := ev.n.Load(); n != 1 {
		t.Fatalf("%d cursor failures counted while the file was held, want 1", n)
	}
	viewer.Close()
	readN(t, r, 5, true)
	if n := ev.n.Load(); n != 1 {
		t.Fatalf("%d cursor failures counted after the file was released, want still 1", n)
	}
	pos, ok, err := loadCursor(cfg.Dir, "a")
	if err != nil || !ok {
		t.Fatalf("load cursor: %v, %v", ok, err)
	}
	b.mu.Lock()
	want := r.c.committed
	b.mu.Unlock()
	if pos != want {
		t.Fatalf("cursor file at %+v, want the last commit %+v", pos, want)
	}
}

package buffer

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
)

// holdCursorSync makes the first cursor fsync of b wait, as a busy disk
// does, until release is called (at the latest when the test ends, before
// the buffer closes); entered is closed once it waits.
func holdCursorSync(t *testing.T, b *Buffer) (entered chan struct{}, release func()) {
	entered, held := make(chan struct{}), make(chan struct{})
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	var once sync.Once
	b.mu.Lock()
	b.cursorSyncer = func(cf *cursorFile) func() error {
		sync := cf.syncer()
		return func() error {
			once.Do(func() {
				close(entered)
				<-held
			})
			return sync()
		}
	}
	b.mu.Unlock()
	return entered, release
}

// slotPositions reads both slots of a sink's cursor file as they are on
// disk; a slot that does not decode is left out.
func slotPositions(t *testing.T, dir, sink string) []Position {
	t.Helper()
	raw, err := os.ReadFile(cursorPath(dir, sink))
	if err != nil {
		t.Fatal(err)
	}
	var out []Position
	for i := range 2 {
		if _, p, err := decodeSlot(raw[i*slotSize : i*slotSize+slotLen]); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// savedPosition is the position the buffer relies on as fsynced for sink.
func savedPosition(b *Buffer, sink string) Position {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cursors[sink].saved
}

// TestSlowCursorSyncHoldsNoAppendOrRead holds the sync loop's fsync of a
// cursor file: appends, reads and commits go on meanwhile; the cursor
// counts as saved only once the fsync returned, and only as far as it
// was written before; a commit made meanwhile writes nothing into the
// file (its slot is the one being synced) and is saved by the next round.
func TestSlowCursorSyncHoldsNoAppendOrRead(t *testing.T) {
	dir := testdir.New(t)
	b := open(t, testConfig(dir, "s"))
	entered, release := holdCursorSync(t, b)
	answers := make(chan bool, 4)
	if err := b.Append(context.Background(), recs(0, 10), func(durable bool) { answers <- durable }); err != nil {
		t.Fatal(err)
	}
	r, err := b.Reader("s")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer release() // first: a failure while held must not leave Close waiting
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, first, err := r.Read(ctx, 10, 1<<20)
	if err != nil || len(got) != 10 {
		t.Fatalf("read %d records: %v", len(got), err)
	}
	r.Commit(first)
	waitClosed(t, entered, "the sync loop never synced the moved cursor")
	waitClosed(t, appendAsync(t, b, 10, 20, answers), "Append waited for the cursor fsync in flight")
	if saved := savedPosition(b, "s"); saved == first {
		t.Fatal("the cursor counts as saved before its fsync returned")
	}
	got, second, err := r.Read(ctx, 10, 1<<20)
	if err != nil || len(got) != 10 || got[9].Offset != 19 {
		t.Fatalf("read %d records during the cursor fsync: %v", len(got), err)
	}
	committed := make(chan struct{})
	go func() { defer close(committed); r.Commit(second) }()
	waitClosed(t, committed, "Commit waited for the cursor fsync in flight")
	for _, p := range slotPositions(t, dir, "s") {
		if p == second {
			t.Fatalf("a commit during the cursor fsync wrote %+v into the file", p)
		}
	}

	release()
	deadline := time.Now().Add(10 * time.Second)
	for savedPosition(b, "s") != second {
		if time.Now().After(deadline) {
			t.Fatalf("the cursor saved at %+v, never at the commit made during the fsync, %+v", savedPosition(b, "s"), second)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if ps := slotPositions(t, dir, "s"); len(ps) != 2 || (ps[0] != second && ps[1] != second) || (ps[0] != first && ps[1] != first) {
		t.Fatalf("cursor slots %+v, want the last fsynced copy %+v beside the new %+v", ps, first, second)
	}
}

// TestCommitDuringCursorSyncIsWrittenAfter: a position committed while the
// cursor fsync runs is written into the file as soon as that fsync
// returned, into the other slot, so that a killed process re-sends no more
// than the batch in flight; it counts as saved only after an fsync of its
// own. The loop never ticks here (SyncEvery is an hour): the test runs
// the save itself.
func TestCommitDuringCursorSyncIsWrittenAfter(t *testing.T) {
	dir := testdir.New(t)
	cfg := testConfig(dir, "s")
	cfg.SyncEvery = time.Hour
	b := open(t, cfg)
	entered, release := holdCursorSync(t, b)
	if err := b.Append(context.Background(), recs(0, 20), func(bool) {}); err != nil {
		t.Fatal(err)
	}
	r, err := b.Reader("s")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	read := func() Position {
		got, pos, err := r.Read(ctx, 10, 1<<20)
		if err != nil || len(got) != 10 {
			t.Fatalf("read %d records: %v", len(got), err)
		}
		return pos
	}
	first := read()
	r.Commit(first)
	saved := make(chan struct{})
	go func() {
		defer close(saved)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.saveCursorsOutside()
	}()
	waitClosed(t, entered, "the save never reached the cursor fsync")
	second := read()
	r.Commit(second)
	release()
	waitClosed(t, saved, "the save never returned")
	if got := savedPosition(b, "s"); got != first {
		t.Fatalf("saved at %+v, want %+v: the position fsynced, not the one committed after", got, first)
	}
	ps := slotPositions(t, dir, "s")
	if len(ps) != 2 || !((ps[0] == first && ps[1] == second) || (ps[0] == second && ps[1] == first)) {
		t.Fatalf("cursor slots %+v, want the fsynced %+v and the commit made during the fsync, %+v", ps, first, second)
	}
}

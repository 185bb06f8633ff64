package buffer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/testdir"
)

// closedBuffer writes n records (several segments) to a buffer in a fresh
// folder, commits the first 100 for sink "a" and closes it. It returns the
// folder and its segment indexes.
func closedBuffer(t *testing.T, dir string, n int) []uint64 {
	t.Helper()
	b, err := Open(testConfig(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 100 {
		if err := b.Append(context.Background(), recs(i, i+100), nil); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := b.Reader("a")
	readN(t, r, 100, true)
	r.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	idxs, err := segment.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(idxs) < 3 {
		t.Fatalf("set-up: %d segments, want at least 3", len(idxs))
	}
	return idxs
}

// denyRead takes read permission from path, skipping the test where that
// does not stop reads (root, or Windows, where the mode sets only the
// read-only attribute).
func denyRead(t *testing.T, path string) {
	t.Helper()
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(path, 0o644) })
	if _, err := os.ReadFile(path); err == nil {
		t.Skip("chmod 000 does not stop this process reading (root, or Windows); the read-only file system test covers root")
	}
}

// recoverRow is one way to damage a closed buffer. damage returns the file
// it damaged. readable: the file reads but is proven corrupt, so Open must
// succeed and remove it; otherwise Open must fail, name it and keep it.
type recoverRow struct {
	name     string
	damage   func(t *testing.T, dir string, segs []uint64) string
	readable bool
}

func recoverRows() []recoverRow {
	sealed := func(dir string, segs []uint64) string { return segPath(dir, segs[1]) }
	newest := func(dir string, segs []uint64) string { return segPath(dir, segs[len(segs)-1]) }
	header := func(at int, b byte) func(*testing.T, string, []uint64) string {
		return func(t *testing.T, dir string, segs []uint64) string {
			p := sealed(dir, segs)
			if at < 0 {
				p = newest(dir, segs)
				at = -at - 1
			}
			mutateFile(t, p, func(data []byte) []byte { data[at] = b; return data })
			return p
		}
	}
	return []recoverRow{
		{name: "bad magic in the newest segment", readable: true, damage: header(-1, 'X')},
		{name: "bad version in a sealed segment", readable: true, damage: header(4, 9)},
		{name: "newest segment shorter than its header", readable: true,
			damage: func(t *testing.T, dir string, segs []uint64) string {
				p := newest(dir, segs)
				truncateFile(t, p, segment.HeaderSize-3)
				return p
			}},
		{name: "a sealed segment moved into a folder of its name",
			damage: func(t *testing.T, dir string, segs []uint64) string {
				p := sealed(dir, segs)
				if err := os.Rename(p, p+".tmp"); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(p+".tmp", filepath.Join(p, "data")); err != nil {
					t.Fatal(err)
				}
				return p
			}},
		{name: "a folder with the cursor's name",
			damage: func(t *testing.T, dir string, segs []uint64) string {
				p := sinkCursorPath(dir)
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				return p
			}},
		{name: "a sealed segment without read permission",
			damage: func(t *testing.T, dir string, segs []uint64) string {
				p := sealed(dir, segs)
				denyRead(t, p)
				return p
			}},
		{name: "the newest segment without read permission",
			damage: func(t *testing.T, dir string, segs []uint64) string {
				p := newest(dir, segs)
				denyRead(t, p)
				return p
			}},
		{name: "the cursor without read permission",
			damage: func(t *testing.T, dir string, segs []uint64) string {
				p := sinkCursorPath(dir)
				denyRead(t, p)
				return p
			}},
	}
}

// TestRecoveryRemovesOnlyCorruptSegments damages a closed buffer in each
// row's way and opens it. A segment proven corrupt (its header is not a
// segment's) is removed and counted; a file that cannot be read is kept,
// and Open fails with an error that names it.
func TestRecoveryRemovesOnlyCorruptSegments(t *testing.T) {
	for _, row := range recoverRows() {
		t.Run(row.name, func(t *testing.T) {
			dir := testdir.New(t)
			segs := closedBuffer(t, dir, 1500)
			path := row.damage(t, dir, segs)
			damaged, _ := os.ReadFile(path)
			ev := &counting{}
			cfg := testConfig(dir, "a")
			cfg.Events = ev
			b, err := Open(cfg)
			if row.readable {
				checkCorruptRemoved(t, b, err, path, damaged, ev)
				return
			}
			if err == nil {
				b.Close()
			}
			checkUnreadableKept(t, err, path, ev)
			for _, idx := range segs {
				if _, err := os.Lstat(segPath(dir, idx)); err != nil {
					t.Errorf("segment %d: %v; Open must leave every segment in place", idx, err)
				}
			}
		})
	}
}

// checkCorruptRemoved checks that Open succeeded and removed the corrupt
// segment at path: a fresh segment may take its name, not its bytes.
func checkCorruptRemoved(t *testing.T, b *Buffer, err error, path string, damaged []byte, ev *counting) {
	t.Helper()
	if err != nil {
		t.Fatalf("Open: %v; a corrupt segment must be removed, not stop the buffer", err)
	}
	defer b.Close()
	if now, err := os.ReadFile(path); err == nil && bytes.Equal(now, damaged) {
		t.Errorf("corrupt segment %s still there (%d bytes)", path, len(now))
	}
	if ev.corrupt == 0 {
		t.Error("the removed segment's bytes were not counted as corrupt")
	}
}

// checkUnreadableKept checks that Open failed with an error that names path
// and says what to do, and kept the file.
func checkUnreadableKept(t *testing.T, err error, path string, ev *counting) {
	t.Helper()
	var ue *UnreadableErr
	if !errors.As(err, &ue) {
		t.Fatalf("Open returned %v, want an *UnreadableErr naming %s", err, path)
	}
	t.Log(err)
	if ue.Path != path || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "will not delete") {
		t.Errorf("error %q does not name %s and say what to do", err, path)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("unreadable %s is gone: %v", path, err)
	}
	if ev.corrupt != 0 {
		t.Errorf("%d bytes counted as corrupt; nothing was proven corrupt", ev.corrupt)
	}
}

package osfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/inputs/file/osfile"
	"github.com/sluicelog/sluice/internal/testdir"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// opener opens a file that the test then holds while others rotate it.
type opener struct {
	name string
	open func(string) (*os.File, error)
	// blockedBy is nil when others may rename and delete the held file,
	// otherwise the error their rename and delete must fail with.
	blockedBy error
}

// TestHeldFileSurvivesRotation is kubelet's rotation while the tailer holds
// 0.log: rename, re-create, delete the renamed file, all from other handles.
func TestHeldFileSurvivesRotation(t *testing.T) {
	rows := append([]opener{{name: "osfile.Open", open: osfile.Open}}, contrastOpeners()...)
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) { testRotation(t, row) })
	}
}

func testRotation(t *testing.T, row opener) {
	dir := testdir.New(t)
	live := filepath.Join(dir, "0.log")
	rotated := live + ".20261126-005407"
	old := logLines("old", 200)
	writeFile(t, live, old)

	held := openT(t, row.open, live)
	head := make([]byte, len(old)/3)
	if _, err := io.ReadFull(held, head); err != nil {
		t.Fatalf("read head of held file: %v", err)
	}
	heldID := idOf(t, held)

	err := os.Rename(live, rotated)
	if row.blockedBy != nil {
		if !errors.Is(err, row.blockedBy) {
			t.Fatalf("rename %s while held by %s: got %v, want %v", live, row.name, err, row.blockedBy)
		}
		if err := os.Remove(live); !errors.Is(err, row.blockedBy) {
			t.Fatalf("delete %s while held by %s: got %v, want %v", live, row.name, err, row.blockedBy)
		}
		expectRest(t, held, old, head)
		return
	}
	if err != nil {
		t.Fatalf("rename %s while held: %v", live, err)
	}
	t.Run("IDOf after rename", func(t *testing.T) {
		got := idOf(t, held)
		if got != heldID && underWine() && got.Dev == 0 && got.Ino == heldID.Ino {
			t.Skip("Wine reports volume serial 0 for a handle whose opening path no longer exists; the file index is kept")
		}
		if got != heldID {
			t.Fatalf("IDOf(held) after rename = %v, want %v", got, heldID)
		}
	})
	fresh := logLines("new", 3)
	writeFile(t, live, fresh)

	if got := statID(t, rotated); got != heldID {
		t.Errorf("StatID(rotated) = %v, want the held handle's %v", got, heldID)
	}
	if got := statID(t, live); got == heldID {
		t.Errorf("StatID(re-created 0.log) = %v, same as the held handle's", got)
	}
	if fi, err := held.Stat(); err != nil {
		t.Errorf("stat held file after rename: %v", err)
	} else {
		t.Logf("held file after rename: Stat name %q size %d", fi.Name(), fi.Size())
		if fi.Size() != int64(len(old)) {
			t.Errorf("held file size after rename = %d, want %d", fi.Size(), len(old))
		}
	}

	if err := os.Remove(rotated); err != nil {
		t.Fatalf("delete %s while held: %v", rotated, err)
	}
	expectRest(t, held, old, head)
	if got := idOf(t, held); got != heldID {
		t.Errorf("IDOf(held) after delete = %v, want %v", got, heldID)
	}
	if got := readFile(t, live); !bytes.Equal(got, fresh) {
		t.Errorf("re-created 0.log holds %q, want %q", got, fresh)
	}

	if err := held.Close(); err != nil {
		t.Fatalf("close held file: %v", err)
	}
	if _, err := os.Lstat(rotated); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat %s after the last handle closed: got %v, want not exist", rotated, err)
	}
}

// expectRest reads f to its end and checks that head plus the rest is want.
func expectRest(t *testing.T, f *os.File, want, head []byte) {
	t.Helper()
	rest, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read rest of held file: %v", err)
	}
	if got := append(head, rest...); !bytes.Equal(got, want) {
		t.Fatalf("held file read %d bytes, want the old content's %d", len(got), len(want))
	}
}

func TestRemoved(t *testing.T) {
	rows := []struct {
		name string
		act  func(path string) error
		want bool
	}{
		{name: "live", act: func(string) error { return nil }, want: false},
		{name: "renamed", act: func(p string) error { return os.Rename(p, p+".1") }, want: false},
		{name: "deleted", act: os.Remove, want: true},
		{name: "renamed then deleted", act: func(p string) error {
			if err := os.Rename(p, p+".1"); err != nil {
				return err
			}
			return os.Remove(p + ".1")
		}, want: true},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := filepath.Join(testdir.New(t), "0.log")
			writeFile(t, p, logLines("x", 2))
			f := openT(t, osfile.Open, p)
			if got, err := osfile.Removed(f); err != nil || got {
				t.Fatalf("Removed before %s = %v, %v; want false, nil", row.name, got, err)
			}
			if err := row.act(p); err != nil {
				t.Fatalf("%s: %v", row.name, err)
			}
			got, err := osfile.Removed(f)
			if err != nil {
				t.Fatalf("Removed: %v", err)
			}
			if got != row.want && row.want && underWine() {
				t.Skip("Wine does not implement delete-pending: a deleted file held open reports DeletePending false and one link")
			}
			if got != row.want {
				t.Fatalf("Removed after %s = %v, want %v", row.name, got, row.want)
			}
		})
	}
}

// TestSize follows the held file: it grows as it is written, and a new
// file at its path after a rotation does not change it.
func TestSize(t *testing.T) {
	p := filepath.Join(testdir.New(t), "0.log")
	first := logLines("a", 3)
	writeFile(t, p, first)
	f := openT(t, osfile.Open, p)
	want := int64(len(first))
	check := func(when string) {
		t.Helper()
		if got, err := osfile.Size(f); err != nil || got != want {
			t.Fatalf("Size %s = %d, %v; want %d", when, got, err, want)
		}
	}
	check("at first")
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	more := logLines("b", 5)
	if _, err := w.Write(more); err != nil {
		t.Fatal(err)
	}
	w.Close()
	want += int64(len(more))
	check("after an append")
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, logLines("c", 1))
	check("after a rotation")
	if runtime.GOOS != "windows" {
		// Asked of every idle file several times a second: no garbage.
		if n := testing.AllocsPerRun(100, func() { osfile.Size(f) }); n != 0 {
			t.Errorf("Size allocates %v times per call, want 0", n)
		}
		if n := testing.AllocsPerRun(100, func() { osfile.Removed(f) }); n != 0 {
			t.Errorf("Removed allocates %v times per call, want 0", n)
		}
	}
}

func TestIDs(t *testing.T) {
	rows := []struct {
		name string
		// second makes another path from orig; same says whether the two
		// must name the same file.
		second func(t *testing.T, orig string) string
		same   bool
	}{
		{name: "hard link", same: true, second: func(t *testing.T, orig string) string {
			link := orig + ".link"
			if err := os.Link(orig, link); err != nil {
				t.Fatalf("hard link: %v", err)
			}
			return link
		}},
		{name: "symlink", same: true, second: func(t *testing.T, orig string) string {
			return symlink(t, orig, orig+".sym")
		}},
		{name: "symlink target without drive letter", same: true, second: func(t *testing.T, orig string) string {
			// kubelet's links under C:\var\log\containers look like this.
			return symlink(t, strings.TrimPrefix(orig, filepath.VolumeName(orig)), orig+".sym")
		}},
		{name: "new file at reused path", same: false, second: func(t *testing.T, orig string) string {
			if err := os.Rename(orig, orig+".1"); err != nil {
				t.Fatalf("rename: %v", err)
			}
			writeFile(t, orig, logLines("new", 1))
			return orig
		}},
		{name: "folder", same: false, second: func(t *testing.T, orig string) string {
			return filepath.Dir(orig)
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			orig := filepath.Join(testdir.New(t), "0.log")
			writeFile(t, orig, logLines("orig", 1))
			first := statID(t, orig)
			f := openT(t, osfile.Open, orig)
			if got := idOf(t, f); got != first {
				t.Fatalf("IDOf = %v, StatID = %v of the same file", got, first)
			}
			second := statID(t, row.second(t, orig))
			if (second == first) != row.same {
				t.Fatalf("IDs %v and %v: same = %v, want %v", first, second, second == first, row.same)
			}
		})
	}
}

// symlink makes link point at target, skipping where the platform cannot.
func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if underWine() {
		t.Skip("Wine does not implement symlinks: os.Symlink reports success and creates nothing")
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable here: %v", err)
	}
	f := openT(t, osfile.Open, link)
	if _, err := io.ReadAll(f); err != nil {
		t.Fatalf("read through symlink: %v", err)
	}
	return link
}

func TestIDString(t *testing.T) {
	if got, want := (osfile.ID{Dev: 2049, Ino: 131075}).String(), "2049:131075"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestLongPath(t *testing.T) {
	dir := testdir.New(t)
	for i := 0; len(dir) < 320; i++ {
		dir = filepath.Join(dir, fmt.Sprintf("%02d-%s", i, strings.Repeat("p", 60)))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("make long folder: %v", err)
	}
	p := filepath.Join(dir, "0.log")
	want := logLines("long", 3)
	writeFile(t, p, want)
	id := statID(t, p)

	sep := string(filepath.Separator)
	rows := []struct{ name, path string }{
		{name: "native separators", path: p},
		{name: "forward slashes", path: filepath.ToSlash(p)},
		{name: "dot-dot element", path: dir + sep + ".." + sep + filepath.Base(dir) + sep + "0.log"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if len(row.path) <= 300 {
				t.Fatalf("path is %d characters, want over 300", len(row.path))
			}
			f := openT(t, osfile.Open, row.path)
			got, err := io.ReadAll(f)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read %d-character path: %q, %v; want %q", len(row.path), got, err, want)
			}
			if got := idOf(t, f); got != id {
				t.Errorf("IDOf = %v, want %v", got, id)
			}
			if got := statID(t, row.path); got != id {
				t.Errorf("StatID = %v, want %v", got, id)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	dir := testdir.New(t)
	missing := filepath.Join(dir, "no-such-folder", "0.log")
	closed := filepath.Join(dir, "closed.log")
	writeFile(t, closed, logLines("c", 1))
	f, err := osfile.Open(closed)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		name string
		call func() error
		path string
		want error
	}{
		{name: "Open missing file", path: filepath.Join(dir, "0.log"), want: fs.ErrNotExist,
			call: func() error { _, err := osfile.Open(filepath.Join(dir, "0.log")); return err }},
		{name: "Open missing folder", path: missing, want: fs.ErrNotExist,
			call: func() error { _, err := osfile.Open(missing); return err }},
		{name: "StatID missing file", path: missing, want: fs.ErrNotExist,
			call: func() error { _, err := osfile.StatID(missing); return err }},
		{name: "IDOf closed file", path: closed, want: fs.ErrClosed,
			call: func() error { _, err := osfile.IDOf(f); return err }},
		{name: "Removed closed file", path: closed, want: fs.ErrClosed,
			call: func() error { _, err := osfile.Removed(f); return err }},
		{name: "Size closed file", path: closed, want: fs.ErrClosed,
			call: func() error { _, err := osfile.Size(f); return err }},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			err := row.call()
			if !errors.Is(err, row.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, row.want)
			}
			if !strings.Contains(err.Error(), row.path) {
				t.Fatalf("error %q does not name %s", err, row.path)
			}
		})
	}
}

// logLines returns n CRI-formatted lines, each tagged with tag.
func logLines(tag string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "2026-11-26T00:54:07.%09dZ stdout F %s line %d\n", i, tag, i)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// openT opens path with open and closes it when the test ends, before its
// folder is removed.
func openT(t *testing.T, open func(string) (*os.File, error), path string) *os.File {
	t.Helper()
	f, err := open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func idOf(t *testing.T, f *os.File) osfile.ID {
	t.Helper()
	id, err := osfile.IDOf(f)
	if err != nil {
		t.Fatalf("IDOf: %v", err)
	}
	return id
}

func statID(t *testing.T, path string) osfile.ID {
	t.Helper()
	id, err := osfile.StatID(path)
	if err != nil {
		t.Fatalf("StatID: %v", err)
	}
	return id
}

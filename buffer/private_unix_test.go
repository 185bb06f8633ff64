//go:build unix

package buffer

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/testdir"
)

// TestFilesArePrivate: the buffer's folders are 0700 and its segments and
// cursor files 0600, whatever the umask lets through: they hold log lines.
func TestFilesArePrivate(t *testing.T) {
	testdir.Umask(t, 0)
	dir := filepath.Join(testdir.New(t), "buffer")
	b := open(t, testConfig(dir, "a"))
	if err := b.Append(context.Background(), recs(0, 10), nil); err != nil {
		t.Fatal(err)
	}
	r, err := b.Reader("a")
	if err != nil {
		t.Fatal(err)
	}
	readN(t, r, 10, true)
	r.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			seen[filepath.Dir(rel)+" "+filepath.Ext(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen[". "+filepath.Ext(segment.Name(1))] || !seen["cursors "+cursorExt] {
		t.Fatalf("the buffer wrote no segment or no cursor to check: %v", seen)
	}
}

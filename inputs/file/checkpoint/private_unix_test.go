//go:build unix

package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// TestSaveIsPrivate: the checkpoint holds the head bytes of every log file,
// so the folder Save creates is 0700 and the file 0600, whatever the umask.
func TestSaveIsPrivate(t *testing.T) {
	testdir.Umask(t, 0)
	dir := filepath.Join(testdir.New(t), "checkpoints")
	path := filepath.Join(dir, "files.json")
	if err := Save(path, []Entry{{Path: "a", Offset: 1}}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if got := testdir.Perm(t, p); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
}

//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// TestWriteIsPrivate: the replaced file is readable by its owner only,
// whatever the umask lets through and whatever mode the old file had.
func TestWriteIsPrivate(t *testing.T) {
	testdir.Umask(t, 0)
	path := filepath.Join(testdir.New(t), "state.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sync := range []bool{true, false} {
		if err := Write(path, []byte("new"), sync); err != nil {
			t.Fatal(err)
		}
		if got := testdir.Perm(t, path); got != 0o600 {
			t.Errorf("sync %v: mode %v, want -rw-------", sync, got)
		}
	}
}

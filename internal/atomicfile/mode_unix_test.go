//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// TestWriteIsPrivate: the replaced file is readable by its owner only,
// whatever the umask lets through and whatever mode the old file had.
func TestWriteIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(testdir.New(t), "state.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sync := range []bool{true, false} {
		if err := Write(path, []byte("new"), sync); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("sync %v: mode %v, want -rw-------", sync, st.Mode())
		}
	}
}

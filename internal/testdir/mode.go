package testdir

import (
	"io/fs"
	"os"
	"testing"
)

// Perm returns the permission bits of path, not following a link.
func Perm(t testing.TB, path string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

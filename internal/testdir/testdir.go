// Package testdir gives tests a temporary folder that is removed file by file,
// because Go's os.RemoveAll of a non-empty folder fails under Wine 8 and the
// Windows test binaries run there.
package testdir

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// New returns a fresh empty folder that is removed when the test ends.
func New(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sluice-test-")
	if err != nil {
		t.Fatalf("create temp folder: %v", err)
	}
	t.Cleanup(func() {
		if err := Remove(dir); err != nil {
			t.Logf("remove temp folder %s: %v", dir, err)
		}
	})
	return dir
}

// Remove deletes dir and everything under it, deepest entries first.
func Remove(dir string) error {
	var paths []string
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return nil // gone or unreadable: the removal below reports it
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	// Longer paths first, so a folder's children go before the folder.
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	var first error
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) && first == nil {
			first = err
		}
	}
	return first
}

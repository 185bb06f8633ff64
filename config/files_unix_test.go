//go:build !windows

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// Permission bits deny what they say; root passes them all, so the test
// needs another user.
func TestFileRefCheckPermissions(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads and writes whatever the permission bits say")
	}
	dir := testdir.New(t)
	secret, locked := filepath.Join(dir, "secret"), filepath.Join(dir, "locked")
	if err := os.WriteFile(secret, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(locked, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o700) })
	for _, ref := range []FileRef{{Path: secret, Use: ReadFile}, {Path: filepath.Join(locked, "data"), Use: Folder}, {Path: filepath.Join(locked, "out"), Use: AppendFile}} {
		if _, err := ref.Check(); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%+v: %v, want permission denied", ref, err)
		}
	}
}

//go:build unix

package private

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// TestDirCreatesAPrivateFolder: a missing folder, and the folders above it
// that are missing, are created 0700 whatever the umask lets through.
func TestDirCreatesAPrivateFolder(t *testing.T) {
	testdir.Umask(t, 0)
	base := testdir.New(t)
	path := filepath.Join(base, "var", "lib", "sluice")
	tightened, err := Dir(path)
	if err != nil || len(tightened) != 0 {
		t.Fatalf("Dir = %v, %v; want nothing tightened", tightened, err)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		if got := testdir.Perm(t, p); got != 0o700 {
			t.Errorf("%s: mode %v, want 0700", p, got)
		}
	}
}

// TestDirTightensWhatEarlierVersionsLeft: a folder written by an earlier
// sluice (0755, files 0644) loses its group and other permissions, and so do
// the files directly in it; subfolders (checked by their own call), links
// and private files are left alone. The second start changes nothing.
func TestDirTightensWhatEarlierVersionsLeft(t *testing.T) {
	testdir.Umask(t, 0)
	path := filepath.Join(testdir.New(t), "sluice")
	files := map[string]os.FileMode{"files.json": 0o644, "seg": 0o640, "mine": 0o600, "exec": 0o755}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, m := range files {
		if err := os.WriteFile(filepath.Join(path, name), nil, m); err != nil {
			t.Fatal(err)
		}
	}
	sub := filepath.Join(path, "buffer")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(filepath.Dir(path), "outside")
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(path, "link")); err != nil {
		t.Fatal(err)
	}
	tightened, err := Dir(path)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tightened)
	want := []string{path, filepath.Join(path, "exec"), filepath.Join(path, "files.json"), filepath.Join(path, "seg")}
	if !slices.Equal(tightened, want) {
		t.Errorf("tightened %v, want %v", tightened, want)
	}
	for p, want := range map[string]os.FileMode{
		path: 0o700, filepath.Join(path, "files.json"): 0o600, filepath.Join(path, "seg"): 0o600,
		filepath.Join(path, "mine"): 0o600, filepath.Join(path, "exec"): 0o700, sub: 0o755, outside: 0o644,
	} {
		if got := testdir.Perm(t, p); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
	if again, err := Dir(path); err != nil || len(again) != 0 {
		t.Fatalf("second Dir = %v, %v; want nothing tightened", again, err)
	}
}

// TestDirRefusesAForeignOwner: a folder that belongs to another user is
// refused, with the chown that fixes it, and left as it was.
func TestDirRefusesAForeignOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a folder to another user needs root")
	}
	path := filepath.Join(testdir.New(t), "sluice")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	_, err := Dir(path)
	var weak *WeakError
	if !errors.As(err, &weak) || !strings.Contains(weak.Reason, "uid 4242") || !strings.Contains(weak.Fix, "chown -R 0 ") {
		t.Fatalf("Dir of a folder owned by uid 4242 = %v, want a *WeakError with the chown", err)
	}
	t.Log(err)
	if got := testdir.Perm(t, path); got != 0o755 {
		t.Fatalf("the refused folder was changed to %v", got)
	}
}

// TestDirRefusesAFile: a file where the folder should be is an error.
func TestDirRefusesAFile(t *testing.T) {
	path := filepath.Join(testdir.New(t), "sluice")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(path); err == nil {
		t.Fatal("Dir of a file succeeded")
	}
}

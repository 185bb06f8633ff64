package testdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makeTree creates the entries under root: a name ending in "/" is a folder,
// any other name a file holding its own name. Parents are created as needed.
func makeTree(t *testing.T, root string, entries []string) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(e, "/")))
		if strings.HasSuffix(e, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatalf("create folder %s: %v", p, err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("create folder %s: %v", filepath.Dir(p), err)
		}
		if err := os.WriteFile(p, []byte(e), 0o644); err != nil {
			t.Fatalf("write %s: %v", p, err)
		}
	}
}

func assertGone(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("%s still exists after removal (stat error: %v)", path, err)
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
	}{
		{name: "empty folder"},
		{name: "files only", entries: []string{"0.log", "0.log.20240101-000000", "1.log"}},
		{name: "nested folders and files", entries: []string{
			"pods/ns_pod_uid/app/0.log",
			"pods/ns_pod_uid/app/1.log",
			"pods/ns_pod_uid/sidecar/0.log",
			"pods/other_pod_uid/",
			"containers/pod_ns_app-abc.log",
			"buffer/segments/000001",
			"buffer/segments/000002",
			"checkpoints.json",
		}},
		{name: "deep chain of empty folders", entries: []string{"a/b/c/d/e/f/g/h/"}},
		{name: "siblings whose names share a prefix", entries: []string{
			"a/x", "a.b/y", "a-b/z", "ab/w", "a/b/c",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := New(t)
			dir := filepath.Join(root, "tree")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			makeTree(t, dir, tt.entries)
			for _, e := range tt.entries {
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(e))); err != nil {
					t.Fatalf("set-up: %v", err)
				}
			}

			if err := Remove(dir); err != nil {
				t.Fatalf("Remove(%s): %v", dir, err)
			}
			assertGone(t, dir)
			left, err := os.ReadDir(root)
			if err != nil {
				t.Fatalf("read %s: %v", root, err)
			}
			if len(left) != 0 {
				t.Fatalf("Remove touched the wrong folder: %s now holds %d entries", root, len(left))
			}
		})
	}
}

func TestRemoveMissingFolder(t *testing.T) {
	dir := filepath.Join(New(t), "never-created")
	if err := Remove(dir); err != nil {
		t.Fatalf("Remove of a missing folder: %v, want nil", err)
	}
}

func TestNew(t *testing.T) {
	var dirs []string
	for i := 0; i < 2; i++ {
		t.Run("uses the folder", func(t *testing.T) {
			dir := New(t)
			info, err := os.Stat(dir)
			if err != nil {
				t.Fatalf("New returned %s: %v", dir, err)
			}
			if !info.IsDir() {
				t.Fatalf("New returned %s, which is not a folder", dir)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 0 {
				t.Fatalf("New returned %s with %d entries, want none", dir, len(entries))
			}
			makeTree(t, dir, []string{"a/b/c.log", "a/d.log", "e/", "f.log"})
			dirs = append(dirs, dir)
		})
	}
	if len(dirs) != 2 {
		t.Fatalf("got %d folders, want 2", len(dirs))
	}
	if dirs[0] == dirs[1] {
		t.Fatalf("New returned %s twice", dirs[0])
	}
	// Each subtest has ended, so its clean-up has run.
	for _, dir := range dirs {
		assertGone(t, dir)
	}
}

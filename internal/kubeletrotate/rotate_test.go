package kubeletrotate

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// TestRotate rotates a file six times and checks what is left after each
// rotation, the calls to the hooks, and that every file left holds what it
// held when it was 0.log.
func TestRotate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keepAll bool
		// left after six rotations: plain rotated files, .gz files.
		plain, gz  int
		removed    int // calls to Removing
		compressed int // calls to Compressed
		firstLeft  int // the oldest generation still on disk
		customGzip bool
	}{
		{name: "kubelet", plain: 1, gz: 3, removed: 2, compressed: 5, firstLeft: 2},
		{name: "kubelet, own gzip", plain: 1, gz: 3, removed: 2, compressed: 5, firstLeft: 2, customGzip: true},
		{name: "keep all", keepAll: true, plain: 6, firstLeft: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(testdir.New(t), "0.log")
			var removed, compressed []string
			gzips := 0
			r := &Rotator{
				Path: path, KeepAll: tc.keepAll,
				Removing: func(p string) error {
					if _, err := os.Stat(p); err != nil {
						t.Errorf("Removing(%s): %v", p, err)
					}
					removed = append(removed, p)
					return nil
				},
				Compressed: func(p string, info os.FileInfo) error {
					if _, err := os.Stat(p + ".gz"); err != nil {
						t.Errorf("Compressed(%s): no .gz: %v", p, err)
					}
					if info.Size() == 0 {
						t.Errorf("Compressed(%s): empty file info", p)
					}
					compressed = append(compressed, p)
					return nil
				},
			}
			if tc.customGzip {
				r.Compress = func(dst *os.File, src string) error {
					gzips++
					return gzipFile(dst, src)
				}
			}
			var names []string
			for gen := range 6 {
				if err := os.WriteFile(path, []byte(fmt.Sprintf("generation %d\n", gen)), 0o644); err != nil {
					t.Fatal(err)
				}
				name, err := r.Rotate()
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(names, name) || (len(names) > 0 && name <= names[len(names)-1]) {
					t.Fatalf("rotation %d named %s after %v: names must be new and in order", gen, name, names)
				}
				names = append(names, name)
			}
			left, _ := filepath.Glob(path + ".*")
			plain, gz := 0, 0
			for _, l := range left {
				if strings.HasSuffix(l, ".gz") {
					gz++
				} else {
					plain++
				}
			}
			if plain != tc.plain || gz != tc.gz || len(removed) != tc.removed || len(compressed) != tc.compressed {
				t.Errorf("left %d plain and %d .gz files, %d removed, %d compressed; want %d, %d, %d, %d: %v",
					plain, gz, len(removed), len(compressed), tc.plain, tc.gz, tc.removed, tc.compressed, left)
			}
			if tc.customGzip && gzips != tc.compressed {
				t.Errorf("own gzip called %d times, want %d", gzips, tc.compressed)
			}
			for gen, name := range names {
				got, err := read(name)
				if gen < tc.firstLeft {
					if err == nil {
						t.Errorf("generation %d is still there: %q", gen, got)
					}
					continue
				}
				if want := fmt.Sprintf("generation %d\n", gen); err != nil || got != want {
					t.Errorf("generation %d: %q, %v; want %q", gen, got, err, want)
				}
			}
		})
	}
}

// read returns what name holds, from name.gz once it is compressed.
func read(name string) (string, error) {
	if b, err := os.ReadFile(name); err == nil {
		return string(b), nil
	}
	f, err := os.Open(name + ".gz")
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(zr)
	return string(b), err
}

package loggen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
)

func TestMixSizes(t *testing.T) {
	s := Mix(7)
	const n = 200_000
	sum, lo, hi := 0, MaxLine, 0
	for range n {
		v := s.Next()
		sum += v
		lo, hi = min(lo, v), max(hi, v)
	}
	mean := float64(sum) / n
	if lo < MinLine || hi > MaxLine || mean < 180 || mean > 220 {
		t.Errorf("lengths %d..%d, mean %.1f; want within %d..%d, mean near 200", lo, hi, mean, MinLine, MaxLine)
	}
	a, b := Mix(3), Mix(3)
	for i := range 1000 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("line %d: same seed drew %d and %d", i, x, y)
		}
	}
}

func TestAppendLine(t *testing.T) {
	ts := time.Date(2026, 12, 4, 9, 0, 0, 123456789, time.UTC)
	for _, f := range []Format{CRI, Docker} {
		for _, size := range []int{MinLine, 150, 999, MaxLine} {
			line := AppendLine(nil, f, ts, 12, 345, size)
			if want := max(size, len(AppendLine(nil, f, ts, 12, 345, 0))); len(line) != want {
				t.Errorf("%s, size %d: line is %d bytes, want %d", f, size, len(line), want)
			}
			if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
				t.Errorf("%s, size %d: not one line: %q", f, size, line)
			}
			msg := string(line)
			if f == Docker {
				var d struct{ Log, Stream, Time string }
				if err := json.Unmarshal(line, &d); err != nil {
					t.Fatalf("%s: %v: %s", f, err, line)
				}
				msg = d.Log
			}
			if !strings.Contains(msg, "file=12 seq=345 ") {
				t.Errorf("%s: %q does not name its file and seq", f, line)
			}
		}
	}
}

// readAll returns every line under dir's pods, from plain and .gz files.
func readAll(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "pods", "*", "*", "0.log*"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(p, ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		f.Close()
	}
	return lines
}

func TestRotation(t *testing.T) {
	for _, tc := range []struct {
		name string
		rot  Rotation
		// files: 0.log and rotated files left; gz: how many of them are
		// gzipped; all: whether every line is still on disk.
		files, gz int
		all       bool
	}{
		{name: "kubelet", rot: Rotation{MaxSize: 20_000, MaxFiles: 5}, files: 5, gz: 3, all: false},
		{name: "keep all", rot: Rotation{MaxSize: 20_000, KeepAll: true}, files: 11, gz: 0, all: true},
		{name: "copytruncate", rot: Rotation{MaxSize: 20_000, CopyTruncate: true}, files: 11, gz: 0, all: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testdir.New(t)
			path, err := Demo(0).Create(dir)
			if err != nil {
				t.Fatal(err)
			}
			// 1,000 lines of 201 bytes: 10 rotations at 20,000 bytes.
			f, err := Open(path, 0, Options{LineSize: 201, Rotation: tc.rot})
			if err != nil {
				t.Fatal(err)
			}
			if err := Pace(context.Background(), []*File{f}, 1000, 0); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if f.Rotations() != 10 || f.Lines() != 1000 {
				t.Errorf("%d rotations, %d lines; want 10, 1000", f.Rotations(), f.Lines())
			}
			names, _ := filepath.Glob(path + "*")
			gz := 0
			for _, n := range names {
				if strings.HasSuffix(n, ".gz") {
					gz++
				}
			}
			if len(names) != tc.files || gz != tc.gz {
				t.Errorf("files left: %d, %d gzipped; want %d, %d: %v", len(names), gz, tc.files, tc.gz, names)
			}
			lines := readAll(t, dir)
			seqs := make([]int, 0, len(lines))
			for _, l := range lines {
				var file, seq int
				if _, err := fmt.Sscanf(l[strings.Index(l, "file="):], "file=%d seq=%d", &file, &seq); err != nil {
					t.Fatalf("%q: %v", l, err)
				}
				seqs = append(seqs, seq)
			}
			slices.Sort(seqs)
			// What is left is the newest lines, each once.
			if len(seqs) == 0 || seqs[len(seqs)-1] != 999 || len(slices.Compact(slices.Clone(seqs))) != len(seqs) ||
				seqs[len(seqs)-1]-seqs[0]+1 != len(seqs) {
				t.Fatalf("lines on disk are not one run of seqs ending at 999: %d lines, %v..", len(seqs), seqs[:min(3, len(seqs))])
			}
			if tc.all != (len(seqs) == 1000) {
				t.Errorf("%d of 1000 lines on disk", len(seqs))
			}
		})
	}
}

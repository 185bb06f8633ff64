package glob

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

var benchCases = []struct {
	name    string
	flavor  Flavor
	pattern string
	path    string
}{
	{"windows", Windows, `C:\var\log\containers\*.log`, `C:\var\log\containers\` + corednsLog},
	{"windows-doublestar", Windows, `C:\var\log\pods\**\*.log`, `C:\var\log\pods\` + podDir + `\coredns\0.log`},
	{"windows-mismatch", Windows, `C:\var\log\containers\*.log`, `C:\var\log\containers\` + rotated},
	{"unix", Unix, `/var/log/containers/*.log`, `/var/log/containers/` + corednsLog},
	{"unix-braces", Unix, `/var/log/containers/*.{log,txt}`, `/var/log/containers/` + corednsLog},
}

func TestMatchDoesNotAllocate(t *testing.T) {
	for _, c := range benchCases {
		p, err := Compile(c.pattern, c.flavor)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { p.Match(c.path) }); n != 0 {
			t.Errorf("%s: Match allocates %v times per call", c.name, n)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			p, err := Compile(c.pattern, c.flavor)
			if err != nil {
				b.Fatal(err)
			}
			want := p.Match(c.path)
			b.SetBytes(int64(len(c.path)))
			b.ReportAllocs()
			for b.Loop() {
				if p.Match(c.path) != want {
					b.Fatal("Match changed its answer")
				}
			}
		})
	}
}

func BenchmarkSetMatch(b *testing.B) {
	s, err := NewSet([]string{`C:\var\log\containers\*.log`}, []string{"*.gz", "*.tmp", "*.log.*"}, Windows)
	if err != nil {
		b.Fatal(err)
	}
	path := `C:\var\log\containers\` + corednsLog
	b.SetBytes(int64(len(path)))
	b.ReportAllocs()
	for b.Loop() {
		if !s.Match(path) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkExpand lists a folder of 1,000 kubelet-like links' names (plain
// files here) plus rotated files that the exclude drops.
func BenchmarkExpand(b *testing.B) {
	dir := testdir.New(b)
	var names []string
	for i := range 1000 {
		names = append(names, fmt.Sprintf("app-%04d_default_app-%s.log", i, containerID))
		if i%10 == 0 {
			names = append(names, fmt.Sprintf("app-%04d.log.20261126-005407", i))
		}
	}
	mkTree(b, dir, names...)
	s, err := NewSet([]string{filepath.Join(dir, "*.log")}, []string{"*.log.*"}, Native)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if paths, errs := s.Expand(); len(paths) != 1000 || len(errs) > 0 {
			b.Fatalf("Expand() = %d paths, errors %v", len(paths), errs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/file")
}

package gzread_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/inputs/file/gzread"
	"github.com/sluicelog/sluice/internal/testdir"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func content(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "2026-12-03T17:30:00.%09dZ stdout F line %d\n", i, i)
	}
	return b.Bytes()[:n]
}

func writeGz(t *testing.T, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(testdir.New(t), "0.log.20261203-173000.gz")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t *testing.T, path string) (*gzread.File, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gzread.Open(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	t.Cleanup(func() { g.Close() })
	return g, nil
}

// TestReadAt reads at the offsets the tailer asks for: forward in chunks,
// a step back to an unfinished line, a jump back to the start, past the end.
func TestReadAt(t *testing.T) {
	data := content(300 << 10)
	g, err := open(t, writeGz(t, data))
	if err != nil {
		t.Fatal(err)
	}
	if g.Size() != int64(len(data)) {
		t.Fatalf("Size = %d, want %d", g.Size(), len(data))
	}
	rows := []struct {
		name string
		off  int64
		n    int
	}{
		{"head", 0, 4096},
		{"forward", 4096, 64 << 10},
		{"step back within the window", 60 << 10, 64 << 10},
		{"skip ahead", 200 << 10, 1000},
		{"back to an earlier offset", 10, 100},
		{"across the end", int64(len(data)) - 50, 200},
		{"after the end", int64(len(data)) + 10, 10},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := make([]byte, row.n)
			n, err := g.ReadAt(p, row.off)
			var want []byte
			if row.off < int64(len(data)) {
				want = data[row.off:min(int(row.off)+row.n, len(data))]
			}
			if !bytes.Equal(p[:n], want) {
				t.Fatalf("ReadAt(%d, %d) = %d bytes, not the content there (want %d)", row.off, row.n, n, len(want))
			}
			if wantEOF := len(want) < row.n; wantEOF != errors.Is(err, io.EOF) {
				t.Fatalf("ReadAt(%d, %d) err = %v, want EOF %v", row.off, row.n, err, wantEOF)
			}
		})
	}
}

func TestCorrupt(t *testing.T) {
	good, err := os.ReadFile(writeGz(t, content(64<<10)))
	if err != nil {
		t.Fatal(err)
	}
	dir := testdir.New(t)
	rows := []struct {
		name string
		data []byte
		// atOpen is whether Open already fails; otherwise ReadAt must.
		atOpen bool
	}{
		{"too short", good[:10], true},
		{"not gzip", bytes.Repeat([]byte("plain text\n"), 10), true},
		{"cut in the middle", append(append([]byte(nil), good[:len(good)/2]...), good[len(good)-8:]...), false},
		{"flipped byte in the stream", flip(good, len(good)/2), false},
	}
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("%d.gz", i))
			if err := os.WriteFile(p, row.data, 0o600); err != nil {
				t.Fatal(err)
			}
			g, err := open(t, p)
			if row.atOpen {
				if !errors.Is(err, gzread.ErrCorrupt) {
					t.Fatalf("Open = %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			buf := make([]byte, 256<<10)
			_, err = g.ReadAt(buf, 0)
			if !errors.Is(err, gzread.ErrCorrupt) {
				t.Fatalf("ReadAt = %v, want ErrCorrupt", err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0xff
	return c
}

func BenchmarkReadAt(b *testing.B) {
	data := content(10 << 20)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	p := filepath.Join(b.TempDir(), "x.gz")
	os.WriteFile(p, z.Bytes(), 0o600)
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, _ := os.Open(p)
		g, err := gzread.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		for off := int64(0); ; {
			n, err := g.ReadAt(buf, off)
			off += int64(n) - 100 // the tailer steps back over an unfinished line
			if err != nil {
				break
			}
		}
		g.Close()
	}
}

package buffer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// counting is an Events that keeps drops and corruption for assertions.
type counting struct {
	NopEvents
	mu      sync.Mutex
	dropped map[string]int64
	corrupt int64
	synced  int
}

func (c *counting) Synced(time.Duration) {
	c.mu.Lock()
	c.synced++
	c.mu.Unlock()
}

func (c *counting) Dropped(sink string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped == nil {
		c.dropped = map[string]int64{}
	}
	c.dropped[sink] += n
}

func (c *counting) Corrupt(n int64) {
	c.mu.Lock()
	c.corrupt += n
	c.mu.Unlock()
}

func testConfig(dir string, sinks ...string) Config {
	return Config{Dir: dir, SegmentSize: 64 << 10, MaxBytes: 1 << 20, SyncEvery: 10 * time.Millisecond, Sinks: sinks}
}

func open(t *testing.T, cfg Config) *Buffer {
	t.Helper()
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func recs(from, to int) []record.Record {
	out := make([]record.Record, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, record.Record{Time: time.Unix(0, int64(i)).UTC(), Stream: "stdout", Path: "/p", Offset: int64(i),
			Body: fmt.Appendf(nil, "line-%06d %0100d", i, i)})
	}
	return out
}

// readN reads exactly n records, committing as it goes when commit is set.
func readN(t *testing.T, r *Reader, n int, commit bool) []record.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []record.Record
	for len(out) < n {
		got, pos, err := r.Read(ctx, n-len(out), 1<<20)
		if err != nil {
			t.Fatalf("read after %d of %d records: %v", len(out), n, err)
		}
		for _, rec := range got {
			rec.Body = append([]byte(nil), rec.Body...) // valid only until the next Read
			out = append(out, rec)
		}
		if commit {
			r.Commit(pos)
		}
	}
	return out
}

func checkSeq(t *testing.T, got []record.Record, from int) {
	t.Helper()
	for i, r := range got {
		if want := fmt.Sprintf("line-%06d %0100d", from+i, from+i); string(r.Body) != want || r.Offset != int64(from+i) {
			t.Fatalf("record %d = %q @%d, want %q", i, r.Body, r.Offset, want)
		}
	}
}

func TestAppendReadCommit(t *testing.T) {
	for _, fsync := range []string{FsyncInterval, FsyncAlways} {
		t.Run(fsync, func(t *testing.T) {
			cfg := testConfig(testdir.New(t), "a")
			cfg.Fsync = fsync
			b := open(t, cfg)
			var durable atomic.Int64
			for i := 0; i < 2000; i += 100 {
				if err := b.Append(context.Background(), recs(i, i+100), func(bool) { durable.Add(100) }); err != nil {
					t.Fatal(err)
				}
			}
			r, err := b.Reader("a")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			checkSeq(t, readN(t, r, 2000, true), 0)
			deadline := time.Now().Add(5 * time.Second)
			for durable.Load() != 2000 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if durable.Load() != 2000 {
				t.Fatalf("durable callbacks covered %d records, want 2000", durable.Load())
			}
			if st := b.Stats(); st.Lag["a"].Records != 0 || st.Segments > 2 {
				t.Fatalf("after commit: %+v", st)
			}
		})
	}
}

func TestRestartResumesAfterCommit(t *testing.T) {
	dir := testdir.New(t)
	b, err := Open(testConfig(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(context.Background(), recs(0, 1000), nil); err != nil {
		t.Fatal(err)
	}
	r, _ := b.Reader("a")
	readN(t, r, 600, true)
	readN(t, r, 100, false) // read, never committed: must come again
	r.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := open(t, testConfig(dir, "a"))
	r2, _ := b2.Reader("a")
	defer r2.Close()
	checkSeq(t, readN(t, r2, 400, true), 600)
}

func TestSinksHaveTheirOwnCursors(t *testing.T) {
	b := open(t, testConfig(testdir.New(t), "fast", "slow"))
	for i := 0; i < 3000; i += 100 {
		if err := b.Append(context.Background(), recs(i, i+100), nil); err != nil {
			t.Fatal(err)
		}
	}
	fast, _ := b.Reader("fast")
	defer fast.Close()
	checkSeq(t, readN(t, fast, 3000, true), 0)
	st := b.Stats()
	if st.Lag["fast"].Records != 0 || st.Lag["slow"].Records != 3000 {
		t.Fatalf("lag = %+v", st.Lag)
	}
	if st.Segments < 3 {
		t.Fatalf("segments were freed while the slow sink had not read them: %d left", st.Segments)
	}
	slow, _ := b.Reader("slow")
	defer slow.Close()
	checkSeq(t, readN(t, slow, 3000, true), 0)
}

func TestFullBufferBlocks(t *testing.T) {
	b := open(t, testConfig(testdir.New(t), "a"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	appended := 0
	var err error
	for err == nil {
		err = b.Append(ctx, recs(appended, appended+100), nil)
		if err == nil {
			appended += 100
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append into a full buffer: %v, want it to wait until the context ends", err)
	}
	if st := b.Stats(); st.Bytes > 1<<20 {
		t.Fatalf("buffer holds %d bytes, cap 1 MiB", st.Bytes)
	}
	// Once the sink reads and commits, appends go on and nothing was lost.
	r, _ := b.Reader("a")
	defer r.Close()
	done := make(chan error, 1)
	go func() { done <- b.Append(context.Background(), recs(appended, appended+100), nil) }()
	checkSeq(t, readN(t, r, appended+100, true), 0)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFullBufferDropsOldest(t *testing.T) {
	ev := &counting{}
	cfg := testConfig(testdir.New(t), "a")
	cfg.OnFull, cfg.Events = OnFullDropOldest, ev
	b := open(t, cfg)
	const total = 20000
	for i := 0; i < total; i += 100 {
		if err := b.Append(context.Background(), recs(i, i+100), nil); err != nil {
			t.Fatal(err)
		}
	}
	st := b.Stats()
	if st.Bytes > cfg.MaxBytes {
		t.Fatalf("buffer holds %d bytes, cap %d", st.Bytes, cfg.MaxBytes)
	}
	r, _ := b.Reader("a")
	defer r.Close()
	kept := readN(t, r, int(st.Records), true)
	first := int(kept[0].Offset)
	checkSeq(t, kept, first)
	if int(kept[len(kept)-1].Offset) != total-1 {
		t.Fatalf("newest record %d, want %d", kept[len(kept)-1].Offset, total-1)
	}
	if ev.dropped["a"] != int64(first) {
		t.Fatalf("drop counter %d, want the %d records lost", ev.dropped["a"], first)
	}
}

func TestTornTailIsCutAtRestart(t *testing.T) {
	dir := testdir.New(t)
	ev := &counting{}
	cfg := testConfig(dir, "a")
	cfg.Events = ev
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.Append(context.Background(), recs(0, 10), nil)
	b.Close()
	idxs, _ := segment.List(dir)
	f, err := os.OpenFile(filepath.Join(dir, segment.Name(idxs[len(idxs)-1])), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0x20, 0, 0, 0, 1, 2, 3}) // half a frame
	f.Close()
	b2 := open(t, cfg)
	b2.Append(context.Background(), recs(10, 20), nil)
	r, _ := b2.Reader("a")
	defer r.Close()
	checkSeq(t, readN(t, r, 20, true), 0)
	if ev.corrupt == 0 {
		t.Fatal("cut bytes not counted")
	}
}

// podRecords are records of three pods' files, interleaved per batch of
// ten, each pod with its own path and attributes.
func podRecords(from, to int) []record.Record {
	out := make([]record.Record, 0, to-from)
	for i := from; i < to; i++ {
		pod := fmt.Sprintf("web-%d", (i/10)%3)
		out = append(out, record.Record{Time: time.Unix(0, int64(i)).UTC(), Stream: "stdout", Offset: int64(i),
			Path: "/var/log/pods/shop_" + pod + "_uid/app/0.log", Body: fmt.Appendf(nil, "line-%06d", i),
			Attrs: []record.Attr{{Key: "namespace", Value: "shop"}, {Key: "pod", Value: pod},
				{Key: "container_image", Value: "registry.example.com/shop/web:1.42.0"}}})
	}
	return out
}

// TestSourcesSurviveRestartMidSegment checks that a reader starting in the
// middle of a segment (a restart after a partial commit) still gets every
// record's path and attributes, which records only name by a source
// defined earlier in their segment, and that sources are written once per
// segment rather than with every record.
func TestSourcesSurviveRestartMidSegment(t *testing.T) {
	dir := testdir.New(t)
	cfg := testConfig(dir, "a")
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := podRecords(0, 3000)
	for i := 0; i < len(want); i += 100 {
		if err := b.Append(context.Background(), want[i:i+100], nil); err != nil {
			t.Fatal(err)
		}
	}
	st := b.Stats()
	if perRecord := st.Bytes / 3000; perRecord > 60 {
		t.Errorf("%d bytes per record in the buffer: sources are repeated", perRecord)
	}
	r, _ := b.Reader("a")
	readN(t, r, 1234, true)
	r.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := open(t, cfg)
	r2, _ := b2.Reader("a")
	defer r2.Close()
	got := readN(t, r2, 3000-1234, true)
	for i, g := range got {
		w := want[1234+i]
		if g.Path != w.Path || !slices.Equal(g.Attrs, w.Attrs) || string(g.Body) != string(w.Body) || g.Offset != w.Offset {
			t.Fatalf("record %d = %q %v %q, want %q %v %q", 1234+i, g.Path, g.Attrs, g.Body, w.Path, w.Attrs, w.Body)
		}
	}
}

// TestReadArenaStaysNearTheByteLimit: the slab a Reader keeps for bodies
// grows to a Read's byte limit and the line that crosses it, not to the
// next power of two past it, which would stay allocated for good.
func TestReadArenaStaysNearTheByteLimit(t *testing.T) {
	b := open(t, testConfig(testdir.New(t), "a"))
	if err := b.Append(context.Background(), recs(0, 4000), nil); err != nil {
		t.Fatal(err)
	}
	r, err := b.Reader("a")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const maxBytes = 150_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []record.Record
	for len(got) < 4000 {
		batch, pos, err := r.Read(ctx, 4000, maxBytes)
		if err != nil {
			t.Fatalf("read after %d records: %v", len(got), err)
		}
		for _, rec := range batch {
			rec.Body = append([]byte(nil), rec.Body...)
			got = append(got, rec)
		}
		r.Commit(pos)
		if c := cap(r.arena); c > maxBytes+arenaSlack {
			t.Fatalf("the body slab holds %d bytes for reads of at most %d", c, maxBytes)
		}
	}
	checkSeq(t, got, 0)
}

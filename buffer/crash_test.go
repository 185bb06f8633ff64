package buffer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

// The crash test re-executes the test binary as a helper that appends to a
// buffer (and reads it as a sink would) until it is killed. These variables
// tell the helper where and from which record number.
const (
	crashChildEnv    = "SLUICE_BUFFER_CRASH_CHILD"    // buffer folder
	crashProgressEnv = "SLUICE_BUFFER_CRASH_PROGRESS" // file the helper reports progress to
	crashFromEnv     = "SLUICE_BUFFER_CRASH_FROM"     // number of its first record
	crashSeedEnv     = "SLUICE_BUFFER_CRASH_SEED"     // batch sizes and read sizes
)

const (
	crashKills    = 60 // at least 50 are required; more if time allows, up to this
	crashMinKills = 50
	crashBudget   = 35 * time.Second
)

// crashConfig is the helper's buffer: small segments so they rotate and are
// freed all the time, a short fsync interval, and a cap small enough that a
// sink falling behind makes appends wait.
func crashConfig(dir string, ev Events) Config {
	return Config{
		Dir: dir, SegmentSize: 256 << 10, MaxBytes: 4 << 20,
		Fsync: FsyncInterval, SyncEvery: 5 * time.Millisecond, OnFull: OnFullBlock,
		Sinks: []string{"a"}, Events: ev,
	}
}

// crashBody is the body of record seq: its number and letters chosen by it,
// 40 to 339 bytes long, so frames of every size and alignment occur and a
// record cut or mixed with another is seen.
func crashBody(seq int64) []byte {
	b := fmt.Appendf(nil, "crash-%012d-", seq)
	n := 40 + int(seq*7919%300)
	for i := len(b); i < n; i++ {
		b = append(b, 'a'+byte((seq+int64(i))%26))
	}
	return b
}

func crashRecords(from int64, n int) []record.Record {
	out := make([]record.Record, n)
	for i := range out {
		seq := from + int64(i)
		out[i] = record.Record{
			Time: time.Unix(1_700_000_000, seq).UTC(), Stream: "stdout",
			Path: "/var/log/pods/ns_pod_uid/app/0.log", Offset: seq, Body: crashBody(seq),
		}
	}
	return out
}

// checkCrashRecord reports whether r is, field for field, the record its
// Offset numbers.
func checkCrashRecord(r record.Record) error {
	want := crashRecords(r.Offset, 1)[0]
	if r.Offset < 0 || !bytes.Equal(r.Body, want.Body) || !r.Time.Equal(want.Time) ||
		r.Stream != want.Stream || r.Path != want.Path || r.Flags != 0 || len(r.Attrs) != 0 {
		return fmt.Errorf("record %d is not intact: body %q, time %v, stream %q, path %q", r.Offset, clipBytes(r.Body, 80), r.Time, r.Stream, r.Path)
	}
	return nil
}

func clipBytes(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("%s... (%d bytes)", b[:n], len(b))
}

// crashChild is the helper: it appends numbered records in batches of random
// size (mostly up to 600 records, some of several thousand) forever, reporting "d N" to the progress file each time a durable
// callback covers records up to N, while a second goroutine reads as a sink,
// checks every record and reports "r N" before it commits up to N. Each
// report is one write to a file opened with O_APPEND, so a kill leaves at
// most the last one cut. It exits with status 3 on any error.
func crashChild(dir, progress string, from int64, seed uint64) {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "crash helper: "+format+"\n", args...)
		os.Exit(3)
	}
	pf, err := os.OpenFile(progress, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fail("%v", err)
	}
	report := func(kind byte, seq int64) {
		line := strconv.AppendInt([]byte{kind, ' '}, seq, 10)
		if _, err := pf.Write(append(line, '\n')); err != nil {
			fail("report: %v", err)
		}
	}
	b, err := Open(crashConfig(dir, nil))
	if err != nil {
		fail("open: %v", err)
	}
	ctx := context.Background()
	go func() {
		rng := rand.New(rand.NewPCG(seed, 2))
		r, err := b.Reader("a")
		if err != nil {
			fail("reader: %v", err)
		}
		prev := int64(-1)
		for {
			recs, pos, err := r.Read(ctx, 1+rng.IntN(400), 1<<20)
			if err != nil {
				fail("read: %v", err)
			}
			for _, rec := range recs {
				if err := checkCrashRecord(rec); err != nil {
					fail("read: %v", err)
				}
				switch {
				case prev < 0 && rec.Offset > from:
					fail("read: the sink's first record is %d, after %d, the first this run appends", rec.Offset, from)
				case prev >= 0 && rec.Offset != prev+1:
					fail("read: record %d after %d", rec.Offset, prev)
				}
				prev = rec.Offset
			}
			report('r', prev)
			r.Commit(pos)
		}
	}()
	rng := rand.New(rand.NewPCG(seed, 1))
	for seq := from; ; {
		n := 1 + rng.IntN(600)
		if rng.IntN(8) == 0 {
			n = 2000 + rng.IntN(4000) // up to 1.3 MB: larger than a segment, so it gets one of its own
		}
		last := seq + int64(n) - 1
		if err := b.Append(ctx, crashRecords(seq, n), func(ok bool) {
			if ok {
				report('d', last)
			}
		}); err != nil {
			fail("append: %v", err)
		}
		seq += int64(n)
	}
}

// crashProgress is what a killed helper reported.
type crashProgress struct {
	durable int64 // highest record a durable callback covered, -1 if none
	read    int64 // highest record the sink read and was about to commit, -1 if none
	reports int
}

func readCrashProgress(path string) (crashProgress, error) {
	p := crashProgress{durable: -1, read: -1}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if i := bytes.LastIndexByte(b, '\n'); i < len(b)-1 {
		b = b[:i+1] // a report cut by the kill
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		kind, num, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return p, fmt.Errorf("progress %s: odd line %q", path, sc.Text())
		}
		p.reports++
		switch kind {
		case "d":
			p.durable = max(p.durable, n)
		case "r":
			p.read = max(p.read, n)
		default:
			return p, fmt.Errorf("progress %s: odd line %q", path, sc.Text())
		}
	}
	return p, sc.Err()
}

// TestCrashDuringAppend kills a helper process with SIGKILL at random moments
// (20 to 300 ms after it starts; now and then one lands while it opens and
// repairs the buffer) while it appends batches and a sink reads and commits,
// at least crashMinKills times. After each kill the buffer must open, and
// what its sink's cursor has left to read must be a run of consecutive,
// intact records that starts no later than the first record the sink had
// not read (nothing lost in front) and ends no earlier than the last record
// reported durable and the last record seen after the previous kill
// (nothing lost behind). The bytes Open cut off a torn tail are logged. The
// next helper appends after the last record present, so the numbering never
// has a hole.
//
// SIGKILL leaves the page cache alone, so "durable" is checked against a
// process crash here, not against a power cut.
func TestCrashDuringAppend(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		from, err1 := strconv.ParseInt(os.Getenv(crashFromEnv), 10, 64)
		seed, err2 := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			fmt.Fprintln(os.Stderr, "crash helper:", err)
			os.Exit(3)
		}
		crashChild(dir, os.Getenv(crashProgressEnv), from, seed)
	}
	if crashSkip != "" {
		t.Skip(crashSkip)
	}
	root := testdir.New(t)
	dir := filepath.Join(root, "buffer")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)

	var (
		next       int64 = 0  // the next helper's first record
		top        int64 = -1 // the last record known to have been in the buffer
		sinkRead   int64 = -1 // the last record the sink read, over all helpers
		durable    int64 = -1 // the last record reported durable, over all helpers
		kills, cut int
		cutBytes   int64
		inOpen     int // kills before the helper reported anything
		maxPresent int
		start      = time.Now()
	)
	for i := 0; i < crashKills && (i < crashMinKills || time.Since(start) < crashBudget); i++ {
		progress := filepath.Join(root, fmt.Sprintf("progress-%03d.txt", i))
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringAppend$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			crashChildEnv+"="+dir, crashProgressEnv+"="+progress,
			crashFromEnv+"="+strconv.FormatInt(next, 10), crashSeedEnv+"="+strconv.FormatUint(seed+uint64(i), 10))
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		configureCrashChild(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		life := 20*time.Millisecond + time.Duration(rng.Int64N(int64(280*time.Millisecond)))
		time.Sleep(life)
		if err := killCrashChild(cmd.Process); err != nil {
			t.Fatalf("kill helper: %v", err)
		}
		_ = cmd.Wait()
		if !killedBySIGKILL(cmd.ProcessState) {
			t.Fatalf("kill %d: helper ended by itself (%v) before the kill:\n%s", i, cmd.ProcessState, stderr.Bytes())
		}
		kills++

		p, err := readCrashProgress(progress)
		if err != nil {
			t.Fatal(err)
		}
		if p.durable >= 0 && p.durable < next {
			t.Fatalf("kill %d: durable report %d is before this helper's first record %d", i, p.durable, next)
		}
		sinkRead, durable = max(sinkRead, p.read), max(durable, p.durable)

		ev := &counting{}
		b, err := Open(crashConfig(dir, ev))
		if err != nil {
			t.Fatalf("kill %d after %v: Open: %v", i, life, err)
		}
		lag := b.Stats().Lag["a"].Records
		got, err := readAllNow(b, "a", lag)
		if cerr := b.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		if ev.corrupt > 0 {
			cut++
			cutBytes += ev.corrupt
		}
		if p.reports == 0 {
			inOpen++
		}
		maxPresent = max(maxPresent, len(got))
		for k, r := range got {
			if err := checkCrashRecord(r); err != nil {
				t.Fatalf("kill %d: record %d of %d: %v", i, k, len(got), err)
			}
			if k > 0 && r.Offset != got[k-1].Offset+1 {
				t.Fatalf("kill %d: record %d follows %d: the buffer does not hold consecutive records", i, r.Offset, got[k-1].Offset)
			}
		}
		if int64(len(got)) != lag {
			t.Errorf("kill %d: Stats reports a lag of %d records, the sink read %d", i, lag, len(got))
		}
		now := sinkRead // the last record present: in the buffer, or else already read
		if len(got) > 0 {
			first, last := got[0].Offset, got[len(got)-1].Offset
			if first > sinkRead+1 {
				t.Fatalf("kill %d: the buffer starts at record %d but the sink read only up to %d: records %d..%d lost",
					i, first, sinkRead, sinkRead+1, first-1)
			}
			if sinkRead > last {
				t.Fatalf("kill %d: the sink read record %d, the buffer ends at %d and its cursor is before that", i, sinkRead, last)
			}
			now = last
		}
		if now < durable {
			t.Fatalf("kill %d: record %d was reported durable, the buffer ends at %d", i, durable, now)
		}
		if now < top {
			t.Fatalf("kill %d: record %d was in the buffer after the previous kill, now it ends at %d", i, top, now)
		}
		t.Logf("kill %2d after %3dms: helper appended %6d records (up to %d), durable reported up to %d, sink read up to %d; "+
			"%5d records left to read (%s), %d bytes cut off",
			i, life.Milliseconds(), now+1-next, now, p.durable, p.read, len(got), span(got), ev.corrupt)
		top, next = now, now+1
	}
	if kills < crashMinKills {
		t.Fatalf("only %d kills", kills)
	}
	t.Logf("%d kills in %v: %d records appended, up to %d left to read after a kill, %d kills before the helper reported anything, "+
		"%d restarts cut a torn tail (%d bytes in all)", kills, time.Since(start).Round(time.Millisecond), next, maxPresent, inOpen, cut, cutBytes)
}

func span(recs []record.Record) string {
	if len(recs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d..%d", recs[0].Offset, recs[len(recs)-1].Offset)
}

// readAllNow reads, without committing, what a sink has left in b: at
// least want records, then whatever more comes at once. A slow Read (a
// loaded machine, the race detector) is waited for up to 10 s until want
// records are in, so only a buffer that holds fewer than it says ends the
// read short.
func readAllNow(b *Buffer, sink string, want int64) ([]record.Record, error) {
	r, err := b.Reader(sink)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []record.Record
	for {
		wait := 50 * time.Millisecond
		if int64(len(out)) < want {
			wait = 10 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		recs, _, err := r.Read(ctx, 10_000, 4<<20)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read after %d records: %w", len(out), err)
		}
		for _, rec := range recs {
			rec.Body = bytes.Clone(rec.Body) // valid only until the next Read
			out = append(out, rec)
		}
	}
}

// TestAppendAfterRestartWithEverythingCommitted restarts a buffer whose sink
// had committed every record. Its only uncommitted state is nothing at all,
// so a batch that fits in the cap must go in at once. After a restart the
// buffer holds the old last segment (the cursor sits at its end) and the
// fresh, empty segment Open starts; the cursor only leaves the old segment
// when a record of a later one is committed, and the old segment is only
// freed then, so with the old segment's bytes counted against the cap an
// append that needs more than the rest waits for a free that never comes.
func TestAppendAfterRestartWithEverythingCommitted(t *testing.T) {
	dir := testdir.New(t)
	cfg := testConfig(dir, "a")
	cfg.MaxBytes = 2 * cfg.SegmentSize // 128 KiB: the smallest cap the configuration accepts
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; b.Stats().Segments < 3; n += 100 {
		if err := b.Append(context.Background(), recs(n, n+100), nil); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := b.Reader("a")
	readN(t, r, n, true)
	r.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := open(t, cfg)
	st := b2.Stats()
	t.Logf("after restart: %d bytes in %d segments, lag %+v", st.Bytes, st.Segments, st.Lag["a"])
	// One batch of 1 KiB lines, as the file input sends (up to 1024 lines
	// and 1 MiB): it fits in the cap next to two empty segments, but not
	// next to half the old segment's bytes.
	var big []record.Record
	for size := 0; size < int(cfg.MaxBytes)-int(st.Bytes)/2-2048; size += 1024 + 50 {
		big = append(big, record.Record{Stream: "stdout", Path: "/p", Offset: int64(len(big)), Body: bytes.Repeat([]byte("x"), 1024)})
	}
	r2, _ := b2.Reader("a")
	defer r2.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sinkDone := make(chan struct{})
	go func() { // a sink that reads and commits, as run's deliver does
		defer close(sinkDone)
		for {
			_, pos, err := r2.Read(ctx, 100, 1<<20)
			if err != nil {
				return
			}
			r2.Commit(pos)
		}
	}()
	actx, acancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer acancel()
	err = b2.Append(actx, big, nil)
	cancel()
	<-sinkDone
	if err != nil {
		st := b2.Stats()
		t.Fatalf("append of %d records of 1 KiB into a buffer whose sink has committed everything: %v "+
			"(buffer: %d bytes in %d segments, cap %d, lag %+v)", len(big), err, st.Bytes, st.Segments, cfg.MaxBytes, st.Lag["a"])
	}
}

// The two tests below check drop_oldest's accounting where a sink stands
// when the oldest segment goes: the counter must equal the records the sink
// never gets. (They belong with TestFullBufferDropsOldest.)

// TestDropOldestCountsRecordsInFlight: the sink has read a batch and is
// still sending it (not committed) when its segment is dropped. Those
// records reach the sink; only the ones after them are lost.
func TestDropOldestCountsRecordsInFlight(t *testing.T) {
	ev := &counting{}
	cfg := testConfig(testdir.New(t), "a")
	cfg.OnFull, cfg.Events = OnFullDropOldest, ev
	b := open(t, cfg)
	ctx := context.Background()
	const total = 20000
	if err := b.Append(ctx, recs(0, 100), nil); err != nil {
		t.Fatal(err)
	}
	r, _ := b.Reader("a")
	defer r.Close()
	inFlight, pos, err := r.Read(ctx, 100, 1<<20) // the sink is sending these
	if err != nil {
		t.Fatal(err)
	}
	delivered := len(inFlight)
	for i := 100; i < total; i += 100 {
		if err := b.Append(ctx, recs(i, i+100), nil); err != nil {
			t.Fatal(err)
		}
	}
	r.Commit(pos) // the sink accepted them
	rest := readN(t, r, int(b.Stats().Lag["a"].Records), true)
	delivered += len(rest)
	t.Logf("%d records in flight while their segment was dropped; %d of %d delivered; drop counter %d",
		len(inFlight), delivered, total, ev.dropped["a"])
	if lost := int64(total - delivered); ev.dropped["a"] != lost {
		t.Errorf("drop counter %d, but %d records were lost (difference %d)", ev.dropped["a"], lost, ev.dropped["a"]-lost)
	}
}

// TestDropOldestCountsSinkAtEndOfFreedSegment: the sink has committed up
// to the very end of a sealed segment, so that segment may be freed, and the
// sink is then down while the buffer fills and drops the segments after it.
func TestDropOldestCountsSinkAtEndOfFreedSegment(t *testing.T) {
	ev := &counting{}
	cfg := testConfig(testdir.New(t), "a")
	cfg.OnFull, cfg.Events = OnFullDropOldest, ev
	b := open(t, cfg)
	ctx := context.Background()
	n := 0
	for ; b.Stats().Segments < 2; n += 100 {
		if err := b.Append(ctx, recs(n, n+100), nil); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := b.Reader("a")
	defer r.Close()
	first, pos, err := r.Read(ctx, 1_000_000, 1<<30) // a Read ends at its segment's end
	if err != nil {
		t.Fatal(err)
	}
	r.Commit(pos)
	delivered := len(first)
	waitUntil(t, func() bool { // the sync loop saves the cursor (and frees what it can)
		saved, ok, _ := loadCursor(cfg.Dir, "a")
		return ok && saved == pos
	}, "the cursor to be saved")
	t.Logf("segments after the cursor was saved: %d", b.Stats().Segments)
	const total = 20000
	for ; n < total; n += 100 {
		if err := b.Append(ctx, recs(n, n+100), nil); err != nil {
			t.Fatal(err)
		}
	}
	rest := readN(t, r, int(b.Stats().Lag["a"].Records), true)
	delivered += len(rest)
	t.Logf("sink committed the %d records of segment %d, up to its end; %d of %d delivered; drop counter %d",
		len(first), pos.Segment, delivered, total, ev.dropped["a"])
	if lost := int64(total - delivered); ev.dropped["a"] != lost {
		t.Errorf("drop counter %d, but %d records were lost (difference %d)", ev.dropped["a"], lost, ev.dropped["a"]-lost)
	}
}

func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

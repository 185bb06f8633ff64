package e2e

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/vlogs"
)

// The Loki tests run sluice against a real VictoriaLogs server, which
// speaks the Loki push API, and read back what it stored. They skip when
// the server binary is missing, except under CI=true (see package vlogs).

const (
	lokiNode    = "node-e2e-1"
	lokiRecords = `sluice_output_records_total{sink="loki"}`
	lokiRetries = `sluice_output_retries_total{sink="loki"}`
	lokiLag     = `sluice_buffer_lag_records{sink="loki"}`
	// lokiWait bounds waiting for delivery; generous because the binary
	// may be built with the race detector on a small machine.
	lokiWait = 90 * time.Second
)

// lokiEnv is a node whose only output is Loki at pushURL, with NODE_NAME
// set, and extra settings for outputs.loki (", key: value" pairs).
func lokiEnv(t *testing.T, pushURL, extra string) *env {
	t.Helper()
	return newEnv(t, envOptions{loki: pushURL, lokiExtra: extra, environ: []string{"NODE_NAME=" + lokiNode}})
}

// kubeContainer is one container's log folder in kubelet's pods layout,
// pods/<ns>_<pod>_<uid>/<name>, with a UID that parses (hex and dashes).
type kubeContainer struct {
	ns, pod, uid, name string
	dir                string
}

// podUID is a UUID-shaped pod UID made from i.
func podUID(i int) string {
	return fmt.Sprintf("%08x-1b2c-4d3e-8f40-%012x", 0xc0ffee00+i, 0x5eed0000+i)
}

// kubeContainer creates the folder of a container.
func (e *env) kubeContainer(ns, pod, uid, name string) *kubeContainer {
	e.t.Helper()
	c := &kubeContainer{ns: ns, pod: pod, uid: uid, name: name,
		dir: filepath.Join(e.pods, ns+"_"+pod+"_"+uid, name)}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// stream is the _stream VictoriaLogs shows for the container's lines:
// the labels sluice makes by default, sorted by name.
func (c *kubeContainer) stream() string {
	return fmt.Sprintf(`{container=%q,job="sluice",namespace=%q,pod=%q}`, c.name, c.ns, c.pod)
}

// lineKey names one writer line: the writer's tag and the line's number.
type lineKey struct {
	tag string
	seq int
}

// criLine is one line as it is in a log file.
type criLine struct {
	ts   string // the CRI timestamp, as written
	msg  string
	path string // the file's live name: 0.log for a rotated 0.log.<stamp>
	off  int64  // where the line starts in its file
	ctr  *kubeContainer
}

// readWritten reads every line in the containers' files, rotated ones
// included, by tag and number. A line found twice fails the test: each
// writer writes each number once.
func readWritten(t *testing.T, ctrs ...*kubeContainer) map[lineKey]criLine {
	t.Helper()
	out := map[lineKey]criLine{}
	for _, c := range ctrs {
		files, err := filepath.Glob(filepath.Join(c.dir, "*.log*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			base := filepath.Base(f)
			live := filepath.Join(c.dir, base[:strings.Index(base, ".log")+len(".log")])
			readCRIFile(t, f, func(ts, msg string, off int64) {
				tag, seq, ok := parseMessage(msg)
				if !ok {
					t.Fatalf("%s: line %q is not a writer line", f, msg)
				}
				k := lineKey{tag, seq}
				if _, dup := out[k]; dup {
					t.Fatalf("%s: line %v written twice", f, k)
				}
				out[k] = criLine{ts: ts, msg: msg, path: live, off: off, ctr: c}
			})
		}
	}
	return out
}

// readCRIFile calls fn with the timestamp, message and offset of each line
// of a file of full (F) stdout lines.
func readCRIFile(t *testing.T, path string, fn func(ts, msg string, off int64)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var off int64
	for sc.Scan() {
		ts, rest, ok1 := strings.Cut(sc.Text(), " ")
		msg, ok2 := strings.CutPrefix(rest, "stdout F ")
		if !ok1 || !ok2 {
			t.Fatalf("%s: %q is not a CRI stdout line", path, sc.Text())
		}
		fn(ts, msg, off)
		off += int64(len(sc.Bytes())) + 1
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// lokiCheck compares the rows VictoriaLogs returns with the lines that
// were written: every field of each row, and how often each line came.
type lokiCheck struct {
	want     func(criLine) vlogs.Row // the row a written line must become
	written  map[lineKey]criLine
	seen     map[lineKey]int
	rows     int
	problems []string
	nProblem int
}

func newLokiCheck(written map[lineKey]criLine) *lokiCheck {
	return &lokiCheck{want: lokiRow, written: written, seen: make(map[lineKey]int, len(written))}
}

// lokiRow is the row the Loki sink makes of a line, as VictoriaLogs shows it.
func lokiRow(w criLine) vlogs.Row {
	return vlogs.Row{
		"_msg": w.msg, "_time": w.time(), "_stream": w.ctr.stream(),
		"namespace": w.ctr.ns, "pod": w.ctr.pod, "container": w.ctr.name, "job": "sluice",
		"pod_uid": w.ctr.uid, "node": lokiNode, "filename": w.path, "stream": "stdout",
	}
}

// time is the line's CRI time as VictoriaLogs shows _time; "" when the
// written text does not parse, which no row can match.
func (w criLine) time() string {
	ts, err := time.Parse(time.RFC3339Nano, w.ts)
	if err != nil {
		return ""
	}
	return ts.UTC().Format(time.RFC3339Nano)
}

func (c *lokiCheck) problem(format string, args ...any) {
	c.nProblem++
	if len(c.problems) < 10 {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
}

// add checks one row: it must be exactly the written line's row, its
// container's labels and the metadata sluice adds, nothing more.
func (c *lokiCheck) add(r vlogs.Row) {
	c.rows++
	tag, seq, ok := parseMessage(r.Msg())
	w, known := c.written[lineKey{tag, seq}]
	if !ok || !known {
		c.problem("row with a line nobody wrote: %v", r)
		return
	}
	c.seen[lineKey{tag, seq}]++
	if w.time() == "" {
		c.problem("written timestamp %q does not parse", w.ts)
		return
	}
	want := c.want(w)
	got := maps.Clone(r)
	delete(got, "_stream_id")
	if !maps.Equal(got, want) {
		c.problem("line %s seq %d:\n got  %v\n want %v", tag, seq, got, want)
	}
}

// lokiReport counts what arrived of the written lines.
type lokiReport struct {
	written, rows, distinct, missing, duplicates int
	firstMissing, firstDup                       string
}

func (c *lokiCheck) report() lokiReport {
	r := lokiReport{written: len(c.written), rows: c.rows}
	for _, k := range slices.SortedFunc(maps.Keys(c.written), cmpKey) {
		switch n := c.seen[k]; {
		case n == 0:
			if r.missing == 0 {
				r.firstMissing = fmt.Sprintf("%s seq %d", k.tag, k.seq)
			}
			r.missing++
		case n > 1:
			if r.duplicates == 0 {
				r.firstDup = fmt.Sprintf("%s seq %d", k.tag, k.seq)
			}
			r.duplicates += n - 1
			r.distinct++
		default:
			r.distinct++
		}
	}
	return r
}

func cmpKey(a, b lineKey) int {
	if c := strings.Compare(a.tag, b.tag); c != 0 {
		return c
	}
	return a.seq - b.seq
}

func (r lokiReport) String() string {
	s := fmt.Sprintf("%d lines written, %d rows stored, %d distinct, %d missing", r.written, r.rows, r.distinct, r.missing)
	if r.missing > 0 {
		s += " (first: " + r.firstMissing + ")"
	}
	s += fmt.Sprintf(", %d duplicates", r.duplicates)
	if r.duplicates > 0 {
		s += " (first: " + r.firstDup + ")"
	}
	return s
}

// checkAll queries every row of the server's default tenant through c and
// reports the row problems as test errors.
func (c *lokiCheck) checkAll(t *testing.T, srv *vlogs.Server) lokiReport {
	t.Helper()
	start := time.Now()
	rows, err := srv.Query(context.Background(), "*", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("queried %d rows in %v", len(rows), time.Since(start).Round(time.Millisecond))
	for _, r := range rows {
		c.add(r)
	}
	for _, p := range c.problems {
		t.Error(p)
	}
	if c.nProblem > len(c.problems) {
		t.Errorf("... and %d more bad rows", c.nProblem-len(c.problems))
	}
	return c.report()
}

// rejectedTotal sums the Loki sink's sluice_output_rejected_records_total
// over its reasons.
func rejectedTotal(m map[string]float64) float64 { return sinkRejected(m, "loki") }

// sinkRejected sums a sink's sluice_output_rejected_records_total over its
// reasons.
func sinkRejected(m map[string]float64, sink string) float64 {
	sum := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, "sluice_output_rejected_records_total{") && strings.Contains(k, `sink="`+sink+`"`) {
			sum += v
		}
	}
	return sum
}

// lokiSummary renders the Loki sink's series for a log line.
func lokiSummary(m map[string]float64) string { return sinkSummary(m, "loki") }

// sinkSummary renders a sink's series for a log line.
func sinkSummary(m map[string]float64, sink string) string {
	var parts []string
	for k, v := range m {
		if strings.HasPrefix(k, "sluice_output_") && strings.Contains(k, `sink="`+sink+`"`) && !strings.Contains(k, "duration") {
			parts = append(parts, fmt.Sprintf("%s=%g", strings.TrimPrefix(k, "sluice_output_"), v))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ") + fmt.Sprintf(" lag=%g", m[`sluice_buffer_lag_records{sink="`+sink+`"}`])
}

// TestLokiDelivery ships 100,000 lines from ten containers (five pods of
// two), two of which rotate, through the buffer to Loki as protobuf, and
// expects every line exactly once, with its container's labels, the
// metadata sluice adds, its CRI timestamp to the nanosecond and its text.
func TestLokiDelivery(t *testing.T) {
	requireSluice(t)
	srv := vlogs.Start(t)
	checkDelivery(t, lokiEnv(t, srv.PushURL(), ""), srv, "loki", newLokiCheck)
}

// checkDelivery writes 100,000 lines to ten containers (five pods of two),
// two of which rotate, runs sluice in e until sink accepted them all, and
// checks with newCheck that srv stored each exactly once.
func checkDelivery(t *testing.T, e *env, srv *vlogs.Server, sink string, newCheck func(map[lineKey]criLine) *lokiCheck) {
	t.Helper()
	const (
		pods, perPod = 5, 2
		total        = 100_000
		bigLines     = 26_000 // two writers pass rotateAt (25,000 lines) once
		smallLines   = (total - 2*bigLines) / (pods*perPod - 2)
		writeFor     = 4 * time.Second // the writers' pace: each finishes in about this
	)
	records := `sluice_output_records_total{sink="` + sink + `"}`
	writers := map[string]*logWriter{}
	var ctrs []*kubeContainer
	for p := range pods {
		ns := []string{"team-a", "team-b"}[p%2]
		pod := fmt.Sprintf("web-%d", p)
		for _, name := range []string{"app", "proxy"}[:perPod] {
			c := e.kubeContainer(ns, pod, podUID(p), name)
			ctrs = append(ctrs, c)
			n := smallLines
			if len(ctrs) <= 2 {
				n = bigLines
			}
			path := filepath.Join(c.dir, "0.log")
			rate := int(float64(n) / writeFor.Seconds())
			writers[path] = &logWriter{path: path, pod: pod + "-" + name, rotation: renameCreate, rate: rate, limit: n}
		}
	}

	s := e.start(false)
	s.waitReady(10 * time.Second)
	start := time.Now()
	runWriters(t, context.Background(), writers)
	wrote, rotations := 0, 0
	for _, w := range writers {
		wrote += w.lines
		rotations += w.rotations
	}
	t.Logf("wrote %d lines to %d files in %v, %d rotations", wrote, len(writers), time.Since(start).Round(time.Millisecond), rotations)
	if wrote != total || rotations < 2 {
		t.Fatalf("set-up: %d lines and %d rotations, want %d lines and at least 2 rotations", wrote, rotations, total)
	}

	s.waitMetric(records, total, lokiWait)
	t.Logf("all %d records accepted %v after the first line was written", total, time.Since(start).Round(time.Millisecond))
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("metrics: %s", sinkSummary(m, sink))
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0; log:\n%s", code, s.logTail(30))
	}
	if m[records] != total {
		t.Errorf("%s = %g, want %d", records, m[records], total)
	}
	if r := sinkRejected(m, sink); r != 0 {
		t.Errorf("%d records rejected; metrics: %s", int(r), sinkSummary(m, sink))
	}
	if v := m[`sluice_enrich_misses_total{reason="path_unparsed"}`]; v != 0 {
		t.Errorf("%g paths did not parse: the pod attributes are missing", v)
	}

	written := readWritten(t, ctrs...)
	if len(written) != total {
		t.Fatalf("read back %d written lines from the files, want %d", len(written), total)
	}
	r := newCheck(written).checkAll(t, srv)
	t.Logf("%v", r)
	if r.rows != total || r.missing != 0 || r.duplicates != 0 {
		t.Errorf("want every line exactly once: %v", r)
	}
}

// TestLokiOutOfOrderAcrossFiles writes two files of one container, 0.log
// and 1.log (a restart), which sluice sends as one Loki stream: pod_uid,
// node and filename are metadata, not labels. 1.log's lines are older than
// 0.log's newest and interleave with them, so the stream's entries reach
// the server out of time order, across requests and within them. Every
// line must be accepted and stored once, at its own time.
func TestLokiOutOfOrderAcrossFiles(t *testing.T) {
	requireSluice(t)
	const (
		n     = 3000 // lines per file and phase
		chunk = 100  // lines written to one file before the other's turn
	)
	srv := vlogs.Start(t)
	e := lokiEnv(t, srv.PushURL(), "")
	c := e.kubeContainer("shop", "cart-0", podUID(42), "app")
	first, second := filepath.Join(c.dir, "0.log"), filepath.Join(c.dir, "1.log")
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms)*time.Millisecond + 123456789) }

	s := e.start(false)
	s.waitReady(10 * time.Second)
	// Phase 1: 0.log, even milliseconds 0 .. 2n-2.
	writeCRI(t, first, "r0", 0, n, func(i int) time.Time { return at(2 * i) })
	s.waitMetric(lokiRecords, n, lokiWait)
	// Phase 2, in alternating chunks: 1.log with the odd milliseconds
	// between phase 1's lines, all older than what the stream has; 0.log
	// goes on with newer lines.
	for from := 0; from < n; from += chunk {
		writeCRI(t, second, "r1", from, chunk, func(i int) time.Time { return at(2*i + 1) })
		writeCRI(t, first, "r0", n+from, chunk, func(i int) time.Time { return at(2 * i) })
	}
	s.waitMetric(lokiRecords, 3*n, lokiWait)
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("metrics: %s", lokiSummary(m))
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	if r := rejectedTotal(m); r != 0 {
		t.Errorf("%d records rejected; metrics: %s", int(r), lokiSummary(m))
	}
	if m[lokiRecords] != 3*n {
		t.Errorf("%s = %g, want %d", lokiRecords, m[lokiRecords], 3*n)
	}
	written := readWritten(t, c)
	r := newLokiCheck(written).checkAll(t, srv)
	t.Logf("%v", r)
	if r.rows != 3*n || r.missing != 0 || r.duplicates != 0 {
		t.Errorf("want every line exactly once: %v", r)
	}
	streams, err := srv.Query(context.Background(), "* | uniq by (_stream)", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 1 {
		t.Errorf("the two files made %d streams, want 1: %v", len(streams), streams)
	}
}

// writeCRI appends writer lines from..from+n-1 tagged tag to path, line
// i stamped ts(i).
func writeCRI(t *testing.T, path, tag string, from, n int, ts func(i int) time.Time) {
	t.Helper()
	var b []byte
	for i := from; i < from+n; i++ {
		b = appendLine(b, ts(i), tag, i)
	}
	appendTo(t, path, b)
}

// TestLokiServerDownAndBack stops the server for 30 s while two files are
// written: sluice must keep running and healthy, count its retries and hold
// the lines in its buffer; once the server is back, every line must be
// there (at least once: duplicates are counted, not failed) and sluice
// must stop cleanly, with no error in its log.
func TestLokiServerDownAndBack(t *testing.T) {
	requireSluice(t)
	const (
		outage = 30 * time.Second // what the issue asks for
		rate   = 300              // lines per second per file
	)
	srv := vlogs.Start(t)
	// Retries back off to at most 2 s, so delivery resumes soon after the
	// server is back rather than up to 30 s later.
	e := lokiEnv(t, srv.PushURL(), ", min_backoff: 200ms, max_backoff: 2s, batch_wait: 200ms")
	ctrs, writers := outageWriters(e, "down", 100, rate)
	s := e.start(false)
	s.waitReady(10 * time.Second)
	ctx, stopWriters := context.WithCancel(context.Background())
	defer stopWriters()
	wait := startWriters(ctx, writers)

	s.waitMetric(lokiRecords, rate, lokiWait) // lines flow before the outage
	srv.Stop()
	down := time.Now()
	m0, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server stopped; metrics: %s", lokiSummary(m0))
	var (
		last                 map[string]float64
		checks, healthFailed int
	)
	for time.Since(down) < outage {
		time.Sleep(time.Second)
		if !s.running() {
			t.Fatalf("sluice exited (%v) while the server was down; log:\n%s", s.state, s.logTail(30))
		}
		checks++
		if code, body, err := s.get("/healthz"); err != nil || code != 200 {
			healthFailed++
			t.Errorf("/healthz while the server is down: %d %q %v", code, body, err)
		}
		if last, err = s.metrics(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("after %v down: %d health checks (%d failed); metrics: %s", time.Since(down).Round(time.Millisecond),
		checks, healthFailed, lokiSummary(last))
	if last[lokiRetries] <= m0[lokiRetries] {
		t.Errorf("%s = %g, was %g when the server stopped: no retry was counted", lokiRetries, last[lokiRetries], m0[lokiRetries])
	}
	if last[lokiLag] <= m0[lokiLag] {
		t.Errorf("%s = %g, was %g when the server stopped: the buffer did not hold the lines", lokiLag, last[lokiLag], m0[lokiLag])
	}
	if last[lokiRecords] > m0[lokiRecords] {
		t.Errorf("%s grew from %g to %g while the server was down", lokiRecords, m0[lokiRecords], last[lokiRecords])
	}

	srv.Restart()
	back := time.Now()
	time.Sleep(time.Second) // lines are written after the server is back, too
	stopWriters()
	if err := wait(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	wrote := 0
	for _, w := range writers {
		wrote += w.lines
	}
	var m map[string]float64
	waitFor(t, lokiWait, "every line read and the buffer drained", func() (bool, error) {
		if m, err = s.metrics(); err != nil {
			return false, err
		}
		return m["sluice_input_lines_total"] >= float64(wrote) && m[lokiLag] == 0, nil
	}, func() string { return fmt.Sprintf("wrote %d; metrics: %s", wrote, lokiSummary(m)) })
	t.Logf("wrote %d lines; drained %v after the restart; metrics: %s", wrote, time.Since(back).Round(time.Millisecond), lokiSummary(m))
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0; log:\n%s", code, s.logTail(30))
	}
	if r := rejectedTotal(m); r != 0 {
		t.Errorf("%d records rejected; metrics: %s", int(r), lokiSummary(m))
	}
	written := readWritten(t, ctrs...)
	if len(written) != wrote {
		t.Fatalf("read back %d written lines from the files, want %d", len(written), wrote)
	}
	r := newLokiCheck(written).checkAll(t, srv)
	t.Logf("%v", r)
	if r.missing != 0 {
		t.Errorf("lines lost across the outage: %v", r)
	}
}

// outageWriters makes two containers, in pods <pod>-0 and <pod>-1 with
// UIDs from uid, and their unbounded writers of rate lines per second.
func outageWriters(e *env, pod string, uid, rate int) ([]*kubeContainer, map[string]*logWriter) {
	var ctrs []*kubeContainer
	writers := map[string]*logWriter{}
	for i, name := range []string{"app", "worker"} {
		c := e.kubeContainer("ops", fmt.Sprintf("%s-%d", pod, i), podUID(uid+i), name)
		ctrs = append(ctrs, c)
		path := filepath.Join(c.dir, "0.log")
		writers[path] = &logWriter{path: path, pod: c.pod, rotation: renameCreate, rate: rate}
	}
	return ctrs, writers
}

// startWriters runs the writers until ctx ends; the returned func waits
// for them and returns the first error.
func startWriters(ctx context.Context, writers map[string]*logWriter) func() error {
	var wg sync.WaitGroup
	errs := make(chan error, len(writers))
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(ctx); err != nil {
				errs <- fmt.Errorf("%s: %w", w.path, err)
			}
		}()
	}
	return func() error {
		wg.Wait()
		close(errs)
		return <-errs
	}
}

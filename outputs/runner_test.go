package outputs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// listSource hands out batches of one record each and records commits.
type listSource struct {
	mu        sync.Mutex
	next      int
	n         int
	batches   [][]string // the lines of each batch; nil: one record "line <i>" each
	committed []int
	done      chan struct{} // closed once every batch is committed
}

func newListSource(n int) *listSource { return &listSource{n: n, done: make(chan struct{})} }

func (s *listSource) Read(ctx context.Context, _, _ int, _ time.Duration) ([]record.Record, func(), error) {
	s.mu.Lock()
	i := s.next
	if i < s.n {
		s.next++
	}
	s.mu.Unlock()
	if i >= s.n {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	recs := []record.Record{{Body: fmt.Appendf(nil, "line %d", i), Offset: int64(i)}}
	if s.batches != nil {
		recs = recs[:0]
		for _, l := range s.batches[i] {
			recs = append(recs, record.Record{Body: []byte(l)})
		}
	}
	return recs, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.committed = append(s.committed, i)
		if len(s.committed) == s.n {
			close(s.done)
		}
	}, nil
}

func (s *listSource) commits() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.committed)
}

// scriptSink answers each request from a script keyed by the record's
// offset and attempt number; absent entries are accepted.
type scriptSink struct {
	mu       sync.Mutex
	attempts map[int64]int
	script   func(off int64, attempt int) Result
	delay    func(off int64) time.Duration
	inFlight int
	maxSeen  int
}

type testReq struct{ rec record.Record }

func (r *testReq) Records() int   { return 1 }
func (r *testReq) Bytes() int     { return len(r.rec.Body) }
func (r *testReq) Sample() string { return string(r.rec.Body) }
func (r *testReq) WriteEntries(w io.Writer) error {
	return json.NewEncoder(w).Encode(map[string]string{"line": string(r.rec.Body)})
}
func (r *testReq) Release() {}

func (s *scriptSink) Encode(recs []record.Record) *testReq {
	r := recs[0]
	r.Body = slices.Clone(r.Body)
	return &testReq{rec: r}
}

func (s *scriptSink) Send(ctx context.Context, req *testReq) Result {
	s.mu.Lock()
	if s.attempts == nil {
		s.attempts = map[int64]int{}
	}
	off := req.rec.Offset
	attempt := s.attempts[off]
	s.attempts[off]++
	s.inFlight++
	s.maxSeen = max(s.maxSeen, s.inFlight)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	if s.delay != nil {
		select {
		case <-time.After(s.delay(off)):
		case <-ctx.Done():
			return Result{Outcome: Retryable, Status: "timeout", Err: ctx.Err()}
		}
	}
	if s.script != nil {
		return s.script(off, attempt)
	}
	return Result{Outcome: Accepted, Status: "200"}
}

type eventLog struct {
	mu        sync.Mutex
	sent      int
	failed    map[string]int
	rejected  map[string]int
	held      []string // status of each held attempt
	recovered int
	deadErrs  int
	dups      int
}

func (e *eventLog) Held(status string, _ error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.held = append(e.held, status)
}

func (e *eventLog) Recovered() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recovered++
}

func (e *eventLog) DeadLetterFailed(error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deadErrs++
}

func (e *eventLog) Sent(records, _ int, _ time.Duration) {
	e.mu.Lock()
	e.sent += records
	e.mu.Unlock()
}
func (e *eventLog) Failed(status string, retry bool, _ time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failed == nil {
		e.failed = map[string]int{}
	}
	e.failed[fmt.Sprintf("%s/%v", status, retry)]++
}
func (e *eventLog) Rejected(reason string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rejected == nil {
		e.rejected = map[string]int{}
	}
	e.rejected[reason] += n
}

// runUntil runs r until done is closed (its source committed everything),
// then stops it.
func runUntil[R Request](t *testing.T, r *Runner[R], done <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Error("not everything committed")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func noSleep(r *Runner[*testReq], waits *[]time.Duration, mu *sync.Mutex) {
	r.sleep = func(ctx context.Context, d time.Duration) bool {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return ctx.Err() == nil
	}
}

func TestRunnerCommitsInReadOrderWhateverOrderRequestsFinish(t *testing.T) {
	const n = 200
	src := newListSource(n)
	sink := &scriptSink{delay: func(int64) time.Duration { return time.Duration(rand.N(2000)) * time.Microsecond }}
	ev := &eventLog{}
	r := NewRunner(sink, src, RunnerConfig{Name: "t", Delivery: Delivery{MaxInFlight: 4}, Events: ev})
	runUntil(t, r, src.done)
	got := src.commits()
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Fatalf("commits out of order: %v", got)
	}
	if sink.maxSeen < 2 || sink.maxSeen > 4 {
		t.Fatalf("max requests in flight = %d, want 2..4", sink.maxSeen)
	}
	if ev.sent != n {
		t.Fatalf("sent events = %d, want %d", ev.sent, n)
	}
}

func TestRunnerRetriesHonouringServerWaitAndBackoff(t *testing.T) {
	src := newListSource(2)
	sink := &scriptSink{script: func(off int64, attempt int) Result {
		switch {
		case off == 0 && attempt < 2:
			return Result{Outcome: Retryable, Status: "429", Wait: 7 * time.Second, Err: errors.New("slow down")}
		case off == 1 && attempt < 5:
			return Result{Outcome: Retryable, Status: "500", Err: errors.New("boom")}
		}
		return Result{Outcome: Accepted, Status: "204"}
	}}
	ev := &eventLog{}
	r := NewRunner(sink, src, RunnerConfig{Events: ev, Delivery: Delivery{MinBackoff: time.Second, MaxBackoff: 5 * time.Second}})
	r.jitter = func(d time.Duration) time.Duration { return d }
	var waits []time.Duration
	var mu sync.Mutex
	noSleep(r, &waits, &mu)
	runUntil(t, r, src.done)
	// Retry-After of 7 s is capped at the 5 s maximum; backoff doubles from
	// the 1 s minimum and is capped too.
	want := []time.Duration{5 * time.Second, 5 * time.Second, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if !slices.Equal(waits, want) {
		t.Fatalf("waits = %v, want %v", waits, want)
	}
	if ev.failed["429/true"] != 2 || ev.failed["500/true"] != 5 || ev.sent != 2 {
		t.Fatalf("events = %+v", ev)
	}
	if got := src.commits(); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("commits = %v", got)
	}
}

// failAt answers res to every attempt at the record at offset off and
// takes the others.
func failAt(off int64, res Result) func(int64, int) Result {
	return func(o int64, _ int) Result {
		if o == off {
			return res
		}
		return Result{Outcome: Accepted, Status: "200"}
	}
}

// rejectSecond refuses the record at offset 1 for good.
var rejectSecond = failAt(1, Result{Outcome: Permanent, Status: "400", Reason: "line_too_long", Err: errors.New("line too long")})

func TestRunnerRejectsPermanentFailuresToDeadLetter(t *testing.T) {
	src := newListSource(3)
	sink := &scriptSink{script: rejectSecond}
	path := filepath.Join(testdir.New(t), "dead.jsonl")
	dead, err := OpenDeadLetter(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	ev := &eventLog{}
	runUntil(t, NewRunner(sink, src, RunnerConfig{Name: "loki", Events: ev, DeadLetter: dead}), src.done)
	if got := src.commits(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("commits = %v: a rejected request must not hold back the ones after it", got)
	}
	if ev.rejected["line_too_long"] != 1 || ev.failed["400/false"] != 1 || ev.sent != 2 {
		t.Fatalf("events = %+v", ev)
	}
	lines := readLines(t, path)
	if len(lines) != 2 || lines[0]["reason"] != "line_too_long" || lines[0]["sink"] != "loki" ||
		lines[0]["error"] != "line too long" || lines[1]["line"] != "line 1" {
		t.Fatalf("dead-letter file = %v", lines)
	}
}

func TestDeadLetterFileIsBounded(t *testing.T) {
	path := filepath.Join(testdir.New(t), "dead.jsonl")
	dead, err := OpenDeadLetter(path, 300)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	for i := range 10 {
		req := &testReq{rec: record.Record{Body: fmt.Appendf(nil, "rejected %d", i)}}
		if err := dead.Write("s", "r", nil, req); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, path + ".1"} {
		st, err := os.Stat(p)
		if err != nil || st.Size() > 300 || st.Size() == 0 {
			t.Fatalf("%s: %v, size %d; want 1..300 bytes", p, err, st.Size())
		}
	}
	if lines := readLines(t, path); lines[len(lines)-1]["line"] != "rejected 9" {
		t.Fatalf("newest request not in %s: %v", path, lines)
	}
}

func TestRunnerStopsRetryingOnCancelWithoutCommitting(t *testing.T) {
	src := newListSource(3)
	sink := &scriptSink{script: failAt(1, Result{Outcome: Retryable, Status: "503", Err: errors.New("unavailable")})}
	r := NewRunner(sink, src, RunnerConfig{Delivery: Delivery{MaxInFlight: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sink.mu.Lock()
		tries := sink.attempts[1]
		sink.mu.Unlock()
		if tries >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := src.commits(); !slices.Equal(got, []int{0}) {
		t.Fatalf("commits = %v; want only the batch before the failing one", got)
	}
}

func TestRunnerReturnsSourceError(t *testing.T) {
	boom := errors.New("segment unreadable")
	src := sourceFunc(func(context.Context, int, int, time.Duration) ([]record.Record, func(), error) { return nil, nil, boom })
	err := NewRunner(&scriptSink{}, src, RunnerConfig{}).Run(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
}

type sourceFunc func(context.Context, int, int, time.Duration) ([]record.Record, func(), error)

func (f sourceFunc) Read(ctx context.Context, n, b int, l time.Duration) ([]record.Record, func(), error) {
	return f(ctx, n, b, l)
}

func TestEqualJitterStaysWithinHalfToFull(t *testing.T) {
	for range 1000 {
		if d := equalJitter(time.Second); d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jitter %v outside [0.5s, 1s]", d)
		}
	}
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v in %q", path, err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// A failed dead-letter write must not pass the batch over: it is retried
// with backoff and the batch is committed only once the write succeeded.
func TestRunnerRetriesFailedDeadLetterWriteBeforeCommitting(t *testing.T) {
	src := newListSource(3)
	sink := &scriptSink{script: rejectSecond}
	dir := filepath.Join(testdir.New(t), "dead")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dead.jsonl")
	dead, err := OpenDeadLetter(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	// Closed, the file is opened again by the next write, which fails while
	// its folder is gone.
	dead.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	ev := &eventLog{}
	r := NewRunner(sink, src, RunnerConfig{Name: "loki", Events: ev, DeadLetter: dead})
	var mu sync.Mutex
	var commitsWhileFailing [][]int
	sleeps := 0
	r.sleep = func(ctx context.Context, _ time.Duration) bool {
		mu.Lock()
		defer mu.Unlock()
		commitsWhileFailing = append(commitsWhileFailing, src.commits())
		if sleeps++; sleeps == 3 {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Error(err)
			}
		}
		return ctx.Err() == nil
	}
	runUntil(t, r, src.done)
	mu.Lock()
	defer mu.Unlock()
	if sleeps != 3 || ev.deadErrs != 3 {
		t.Fatalf("dead-letter write retried %d times, %d failures counted; want 3 and 3", sleeps, ev.deadErrs)
	}
	for _, c := range commitsWhileFailing {
		if slices.Contains(c, 1) || slices.Contains(c, 2) {
			t.Fatalf("committed %v while the dead-letter write was failing", c)
		}
	}
	if got := src.commits(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("commits = %v", got)
	}
	lines := readLines(t, path)
	if len(lines) != 2 || lines[0]["reason"] != "line_too_long" || lines[1]["line"] != "line 1" {
		t.Fatalf("dead-letter file = %v", lines)
	}
	if ev.rejected["line_too_long"] != 1 {
		t.Fatalf("rejected = %v, want the request counted once", ev.rejected)
	}
}

// 401, 403, 404 and redirects say that sluice or the server is
// misconfigured: the request is retried until accepted, never
// dead-lettered, and the sink is reported held until then. Which statuses
// hold is configurable.
func TestRunnerHoldsMisconfiguredRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status string
		hold   []string // nil: the default
		held   bool
	}{
		{"401", "401", nil, true},
		{"403", "403", nil, true},
		{"404", "404", nil, true},
		{"307 redirect", "307", nil, true},
		{"308 redirect", "308", nil, true},
		{"400 is the records' fault", "400", nil, false},
		{"nothing held", "401", []string{}, false},
		{"400 held by configuration", "400", []string{"400"}, true},
		{"class", "418", []string{"4xx"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newListSource(3)
			sink := &scriptSink{script: func(off int64, attempt int) Result {
				if off == 1 && attempt < 4 {
					return Result{Outcome: Permanent, Status: tc.status, Reason: "status_" + tc.status,
						Err: ErrStatus("push to http://loki/x", 401, []byte("no org id"))}
				}
				return Result{Outcome: Accepted, Status: "204"}
			}}
			hold, err := ParseStatusSet(tc.hold)
			if err != nil {
				t.Fatal(err)
			}
			dead, err := OpenDeadLetter(filepath.Join(testdir.New(t), "dead.jsonl"), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer dead.Close()
			logs := &logRecorder{}
			ev := &eventLog{}
			r := NewRunner(sink, src, RunnerConfig{Name: "loki", Events: ev, DeadLetter: dead,
				Logger:   slog.New(logs),
				Delivery: Delivery{HoldStatuses: hold}})
			r.now = func() time.Time { return time.Date(2026, 12, 3, 21, 40, 0, 0, time.UTC) }
			var waits []time.Duration
			var mu sync.Mutex
			noSleep(r, &waits, &mu)
			runUntil(t, r, src.done)
			if got := src.commits(); !slices.Equal(got, []int{0, 1, 2}) {
				t.Fatalf("commits = %v", got)
			}
			deadLines, _ := os.ReadFile(dead.Path())
			if !tc.held {
				if ev.rejected["status_"+tc.status] != 1 || len(ev.held) != 0 || len(deadLines) == 0 {
					t.Fatalf("not held: want rejected and dead-lettered; events %+v, dead-letter %q", ev, deadLines)
				}
				return
			}
			if len(ev.rejected) != 0 || len(deadLines) != 0 {
				t.Fatalf("held request rejected: %v, dead-letter file %q", ev.rejected, deadLines)
			}
			if len(ev.held) != 4 || ev.recovered != 1 || ev.failed[tc.status+"/true"] != 4 || sink.attempts[1] != 5 {
				t.Fatalf("events %+v, attempts %d; want 4 held attempts, then recovered", ev, sink.attempts[1])
			}
			if len(waits) != 4 {
				t.Fatalf("waits = %v, want a backoff before each of the 4 retries", waits)
			}
			// The clock stands still: one ERROR for the whole spell.
			if n := strings.Count(logs.String(), "request held"); n != 1 ||
				!strings.Contains(logs.String(), "ERROR request held") || !strings.Contains(logs.String(), "no org id") {
				t.Fatalf("want one ERROR with the server's text, got %d:\n%s", n, logs.String())
			}
		})
	}
}

// Held attempts are logged when the spell starts, then at most once per
// MaxBackoff.
func TestRunnerRateLimitsHeldLogs(t *testing.T) {
	src := newListSource(1)
	sink := &scriptSink{script: func(_ int64, attempt int) Result {
		if attempt < 7 {
			return Result{Outcome: Permanent, Status: "403", Err: errors.New("forbidden")}
		}
		return Result{Outcome: Accepted, Status: "204"}
	}}
	logs := &logRecorder{}
	r := NewRunner(sink, src, RunnerConfig{Logger: slog.New(logs),
		Delivery: Delivery{MinBackoff: time.Second, MaxBackoff: 30 * time.Second}})
	clock := time.Date(2026, 12, 3, 21, 40, 0, 0, time.UTC)
	r.now = func() time.Time { clock = clock.Add(10 * time.Second); return clock }
	var waits []time.Duration
	var mu sync.Mutex
	noSleep(r, &waits, &mu)
	runUntil(t, r, src.done)
	// 7 held attempts 10 s apart: logged at the 1st, 4th and 7th.
	if n := strings.Count(logs.String(), "request held"); n != 3 {
		t.Fatalf("held logged %d times, want 3:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "sink accepts requests again") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
}

// batchReq is a request of several lines that can be split.
type batchReq struct{ lines []string }

func (r *batchReq) Records() int { return len(r.lines) }
func (r *batchReq) Bytes() int {
	n := 0
	for _, l := range r.lines {
		n += len(l)
	}
	return n
}
func (r *batchReq) Sample() string { return r.lines[0] }
func (r *batchReq) WriteEntries(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, l := range r.lines {
		if err := enc.Encode(map[string]string{"line": l}); err != nil {
			return err
		}
	}
	return nil
}
func (r *batchReq) Release() {}

// splitSink takes requests of at most max records whose lines are not
// "huge", and answers TooLarge to the others, as a server's 413 would.
type splitSink struct {
	max      int
	mu       sync.Mutex
	accepted []string
	sizes    []int // records of every request sent
}

func (s *splitSink) Encode(recs []record.Record) *batchReq {
	r := &batchReq{}
	for _, rec := range recs {
		r.lines = append(r.lines, string(rec.Body))
	}
	return r
}

func (s *splitSink) Send(_ context.Context, req *batchReq) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizes = append(s.sizes, len(req.lines))
	if len(req.lines) > s.max || slices.Contains(req.lines, "huge") {
		return Result{Outcome: TooLarge, Status: "413", Reason: "too_large", Err: errors.New("413 Request Entity Too Large")}
	}
	s.accepted = append(s.accepted, req.lines...)
	return Result{Outcome: Accepted, Status: "204"}
}

func (s *splitSink) Split(req *batchReq) (*batchReq, *batchReq, bool) {
	if len(req.lines) < 2 {
		return nil, nil, false
	}
	h := len(req.lines) / 2
	return &batchReq{lines: req.lines[:h]}, &batchReq{lines: req.lines[h:]}, true
}

// A request too large for the server goes again in halves, recursively,
// in order; a single record still too large is dead-lettered as too_large;
// the batch is committed once every part has its outcome.
func TestRunnerSplitsTooLargeRequests(t *testing.T) {
	src := &listSource{n: 3, done: make(chan struct{}), batches: [][]string{
		{"a0", "a1", "a2", "a3", "a4", "a5", "a6"},
		{"b0", "huge", "b2"},
		{"c0"},
	}}
	sink := &splitSink{max: 2}
	dead, err := OpenDeadLetter(filepath.Join(testdir.New(t), "dead.jsonl"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	ev := &eventLog{}
	runUntil(t, NewRunner(sink, src, RunnerConfig{Events: ev, DeadLetter: dead, Delivery: Delivery{MaxInFlight: 3}}), src.done)
	if got := src.commits(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("commits = %v", got)
	}
	var a, b []string
	for _, l := range sink.accepted {
		switch l[0] {
		case 'a':
			a = append(a, l)
		case 'b':
			b = append(b, l)
		}
	}
	if !slices.Equal(a, src.batches[0]) || !slices.Equal(b, []string{"b0", "b2"}) {
		t.Fatalf("accepted %v: want every line but the huge one, in order", sink.accepted)
	}
	if ev.rejected["too_large"] != 1 || ev.sent != 10 {
		t.Fatalf("events %+v: want the huge line rejected as too_large, 10 sent", ev)
	}
	lines := readLines(t, dead.Path())
	if len(lines) != 2 || lines[0]["reason"] != "too_large" || lines[1]["line"] != "huge" {
		t.Fatalf("dead-letter file = %v", lines)
	}
}

// A sink that cannot split has its too-large requests rejected as such.
func TestRunnerRejectsTooLargeWithoutSplitter(t *testing.T) {
	src := newListSource(2)
	sink := &scriptSink{script: failAt(0, Result{Outcome: TooLarge, Status: "413", Err: errors.New("too large")})}
	ev := &eventLog{}
	runUntil(t, NewRunner(sink, src, RunnerConfig{Events: ev}), src.done)
	if ev.rejected["too_large"] != 1 || ev.failed["413/false"] != 1 {
		t.Fatalf("events %+v", ev)
	}
}

// logRecorder keeps the runner's log records as "LEVEL message k=v ...".
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	return nil
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (e *eventLog) Duplicate(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dups += n
}

// itemSink answers record by record, as a bulk API does: a line "retry<n>"
// fails retryably (429) until its n-th resend, a line "bad" is refused for
// good (400 mapper_parsing_exception), a line "dup" is already stored
// (409, a duplicate); every other line is accepted.
type itemSink struct {
	mu       sync.Mutex
	sent     [][]string // the lines of every request, in sending order
	tries    map[string]int
	accepted []string
	released int
}

type itemReq struct {
	batchReq
	s *itemSink
}

func (r *itemReq) Release() {
	r.s.mu.Lock()
	r.s.released++
	r.s.mu.Unlock()
}

func (s *itemSink) Encode(recs []record.Record) *itemReq {
	return &itemReq{batchReq: *(&splitSink{}).Encode(recs), s: s}
}

func (s *itemSink) Send(_ context.Context, req *itemReq) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tries == nil {
		s.tries = map[string]int{}
	}
	s.sent = append(s.sent, slices.Clone(req.lines))
	res := Result{Outcome: Partial, Status: "429"}
	retry, bad := &itemReq{s: s}, &itemReq{s: s}
	for _, l := range req.lines {
		try := s.tries[l]
		s.tries[l]++
		n, _ := strconv.Atoi(strings.TrimPrefix(l, "retry"))
		switch {
		case l == "bad":
			bad.lines = append(bad.lines, l)
			continue
		case l == "dup":
			res.Duplicates++
		case strings.HasPrefix(l, "retry") && try < n:
			retry.lines = append(retry.lines, l)
			continue
		}
		res.Accepted++
		res.AcceptedBytes += len(l)
		s.accepted = append(s.accepted, l)
	}
	if len(bad.lines) > 0 {
		res.Rejected = []Rejection{{Req: bad, Status: "400", Reason: "mapper_parsing_exception", Err: errors.New("failed to parse field [message]")}}
	}
	if len(retry.lines) > 0 {
		res.Retry = retry
	}
	if res.Retry == nil && res.Rejected == nil {
		return Result{Outcome: Accepted, Status: "200", Duplicates: res.Duplicates}
	}
	return res
}

// After a Partial answer only the records that failed retryably are sent
// again, with a growing backoff; the refused ones are dead-lettered with
// their reason, duplicates count as delivered, and the batch is committed
// only once every record has a final outcome, batches in read order.
func TestRunnerResendsOnlyFailedRecordsOfPartialAnswers(t *testing.T) {
	src := &listSource{n: 3, done: make(chan struct{}), batches: [][]string{
		{"a0", "retry1", "bad", "dup", "retry3", "a5"},
		{"b0", "b1"},
		{"retry2"},
	}}
	sink := &itemSink{}
	dead, err := OpenDeadLetter(filepath.Join(testdir.New(t), "dead.jsonl"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	ev := &eventLog{}
	r := NewRunner(sink, src, RunnerConfig{Events: ev, DeadLetter: dead, Delivery: Delivery{MaxInFlight: 1}})
	var waits []time.Duration
	r.sleep = func(ctx context.Context, d time.Duration) bool { waits = append(waits, d); return ctx.Err() == nil }
	r.jitter = func(d time.Duration) time.Duration { return d }
	runUntil(t, r, src.done)

	if got := src.commits(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("commits = %v, want every batch in read order", got)
	}
	wantSent := [][]string{
		{"a0", "retry1", "bad", "dup", "retry3", "a5"}, {"retry1", "retry3"}, {"retry3"}, {"retry3"},
		{"b0", "b1"},
		{"retry2"}, {"retry2"}, {"retry2"},
	}
	if !slices.EqualFunc(sink.sent, wantSent, slices.Equal) {
		t.Fatalf("requests sent:\n got  %q\n want %q", sink.sent, wantSent)
	}
	if want := []string{"a0", "dup", "a5", "retry1", "retry3", "b0", "b1", "retry2"}; !slices.Equal(sink.accepted, want) {
		t.Errorf("accepted %q, want %q", sink.accepted, want)
	}
	min := DefaultDelivery().MinBackoff
	if want := []time.Duration{min, 2 * min, 4 * min, min, 2 * min}; !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v: growing per round, from the start for each request", waits, want)
	}
	if ev.sent != 8 || ev.dups != 1 || ev.rejected["mapper_parsing_exception"] != 1 || len(ev.rejected) != 1 {
		t.Errorf("events %+v: want 8 sent, 1 duplicate, 1 rejected as mapper_parsing_exception", ev)
	}
	lines := readLines(t, dead.Path())
	if len(lines) != 2 || lines[0]["reason"] != "mapper_parsing_exception" || lines[0]["records"] != 1.0 ||
		!strings.Contains(fmt.Sprint(lines[0]["error"]), "failed to parse") || lines[1]["line"] != "bad" {
		t.Errorf("dead-letter file = %v", lines)
	}
	// Every remainder and rejected part is released: 5 remainders, 1
	// rejected part, the 3 batches.
	if sink.released != 9 {
		t.Errorf("%d requests released, want 9", sink.released)
	}
}

// A run that ends while records of a Partial answer wait to be resent
// commits nothing, so the source hands the batch out again, and releases
// every remainder it was given.
func TestRunnerPartialCancelledDoesNotCommit(t *testing.T) {
	src := &listSource{n: 1, done: make(chan struct{}), batches: [][]string{{"a0", "retry1000"}}}
	sink := &itemSink{}
	r := NewRunner(sink, src, RunnerConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleeps := 0
	r.sleep = func(ctx context.Context, _ time.Duration) bool {
		if sleeps++; sleeps == 2 {
			cancel()
		}
		return ctx.Err() == nil
	}
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := src.commits(); len(got) != 0 {
		t.Errorf("commits = %v, want none", got)
	}
	if len(sink.sent) != 2 || sink.released != 3 {
		t.Errorf("%d requests sent, %d released; want 2 sent, and the batch and both remainders released", len(sink.sent), sink.released)
	}
}

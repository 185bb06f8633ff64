package outputs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
	mu       sync.Mutex
	sent     int
	failed   map[string]int
	rejected map[string]int
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

// runUntil runs r until src has committed everything, then stops it.
func runUntil(t *testing.T, r *Runner[*testReq], src *listSource) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	select {
	case <-src.done:
	case <-time.After(20 * time.Second):
		t.Errorf("not everything committed: %v", src.commits())
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
	runUntil(t, r, src)
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
	runUntil(t, r, src)
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

func TestRunnerRejectsPermanentFailuresToDeadLetter(t *testing.T) {
	src := newListSource(3)
	sink := &scriptSink{script: func(off int64, _ int) Result {
		if off == 1 {
			return Result{Outcome: Permanent, Status: "400", Reason: "line_too_long", Err: errors.New("line too long")}
		}
		return Result{Outcome: Accepted, Status: "200"}
	}}
	path := filepath.Join(testdir.New(t), "dead.jsonl")
	dead, err := OpenDeadLetter(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	ev := &eventLog{}
	runUntil(t, NewRunner(sink, src, RunnerConfig{Name: "loki", Events: ev, DeadLetter: dead}), src)
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
	sink := &scriptSink{script: func(off int64, _ int) Result {
		if off == 1 {
			return Result{Outcome: Retryable, Status: "503", Err: errors.New("unavailable")}
		}
		return Result{Outcome: Accepted, Status: "200"}
	}}
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

package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/cmd/flb-sluice/internal/chunk/chunktest"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// fakeReq is a request of the fake sink: the bodies it carries.
type fakeReq struct{ lines []string }

func (r *fakeReq) Records() int   { return len(r.lines) }
func (r *fakeReq) Bytes() int     { return len(strings.Join(r.lines, "")) }
func (r *fakeReq) Sample() string { return r.lines[0] }
func (r *fakeReq) Release()       {}
func (r *fakeReq) WriteEntries(w io.Writer) error {
	for _, l := range r.lines {
		if _, err := fmt.Fprintf(w, "{\"line\":%q}\n", l); err != nil {
			return err
		}
	}
	return nil
}

// fakeSink answers each Send with the next scripted result (the last one
// repeats) and records what it was sent.
type fakeSink struct {
	mu      sync.Mutex
	answers []func(r *fakeReq) outputs.Result
	sent    [][]string
	split   bool
}

func (s *fakeSink) Encode(recs []record.Record) *fakeReq {
	r := &fakeReq{}
	for _, rec := range recs {
		r.lines = append(r.lines, string(rec.Body))
	}
	return r
}

func (s *fakeSink) Send(_ context.Context, r *fakeReq) outputs.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, r.lines)
	a := s.answers[min(len(s.sent), len(s.answers))-1]
	return a(r)
}

// splittingSink is a fakeSink that can cut requests in halves.
type splittingSink struct{ *fakeSink }

func (s splittingSink) Split(r *fakeReq) (*fakeReq, *fakeReq, bool) {
	if len(r.lines) < 2 {
		return nil, nil, false
	}
	h := len(r.lines) / 2
	return &fakeReq{r.lines[:h]}, &fakeReq{r.lines[h:]}, true
}

func result(o outputs.Outcome, status string) func(*fakeReq) outputs.Result {
	return func(*fakeReq) outputs.Result {
		return outputs.Result{Outcome: o, Status: status, Err: errors.New("server says " + status)}
	}
}

// partial accepts the first record, rejects the second and leaves the
// rest to retry (when retry is set).
func partial(retry bool) func(*fakeReq) outputs.Result {
	return func(r *fakeReq) outputs.Result {
		res := outputs.Result{Outcome: outputs.Partial, Status: "200", Accepted: 1,
			Rejected: []outputs.Rejection{{Req: &fakeReq{r.lines[1:2]}, Status: "400", Reason: "mapper_parsing_exception", Err: errors.New("bad field")}}}
		if retry {
			res.Retry = &fakeReq{r.lines[2:]}
		}
		return res
	}
}

// tooLargeAbove answers TooLarge to requests of more than n records.
func tooLargeAbove(n int) func(*fakeReq) outputs.Result {
	return func(r *fakeReq) outputs.Result {
		if len(r.lines) > n {
			return outputs.Result{Outcome: outputs.TooLarge, Status: "413"}
		}
		return outputs.Result{Outcome: outputs.Accepted, Status: "204"}
	}
}

func flushWith(t *testing.T, sink outputs.Sink[*fakeReq], dead *outputs.DeadLetter, maxRecords int, write func(w *chunktest.Writer)) Code {
	t.Helper()
	hold, _ := outputs.ParseStatusSet(outputs.DefaultHoldStatuses())
	log := slog.New(slog.DiscardHandler)
	in := &Instance{log: log, m: Mapping{logKeys: []string{"log"}, format: formatLog}, ctx: context.Background(),
		send: newSender("t", sink, hold, dead, log, maxRecords, 1<<20).send}
	in.pool.New = func() any { return new(batch) }
	var w chunktest.Writer
	write(&w)
	return in.Flush(w.B, "tag")
}

func threeLines(w *chunktest.Writer) {
	for i := range 3 {
		w.Event(time.Unix(int64(i+1), 0), map[string]any{"log": fmt.Sprintf("line %d", i)})
	}
}

// What a flush answers Fluent Bit for each outcome of its sends.
func TestFlushOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answers    []func(*fakeReq) outputs.Result
		split      bool
		maxRecords int
		want       Code
		sends      int
		dead       int // records dead-lettered
	}{
		{"accepted", []func(*fakeReq) outputs.Result{result(outputs.Accepted, "204")}, false, 100, OK, 1, 0},
		{"retryable", []func(*fakeReq) outputs.Result{result(outputs.Retryable, "503")}, false, 100, Retry, 1, 0},
		{"held", []func(*fakeReq) outputs.Result{result(outputs.Held, "401")}, false, 100, Retry, 1, 0},
		{"permanent in hold_statuses", []func(*fakeReq) outputs.Result{result(outputs.Permanent, "404")}, false, 100, Retry, 1, 0},
		{"permanent", []func(*fakeReq) outputs.Result{result(outputs.Permanent, "400")}, false, 100, Error, 1, 3},
		{"partial, rest refused", []func(*fakeReq) outputs.Result{partial(false)}, false, 100, OK, 1, 1},
		{"partial, rest to retry", []func(*fakeReq) outputs.Result{partial(true)}, false, 100, Retry, 1, 1},
		{"too large, split", []func(*fakeReq) outputs.Result{tooLargeAbove(1)}, true, 100, OK, 5, 0},
		{"too large, cannot split", []func(*fakeReq) outputs.Result{tooLargeAbove(1)}, false, 100, Error, 1, 3},
		{"cut into requests", []func(*fakeReq) outputs.Result{result(outputs.Accepted, "204")}, false, 2, OK, 2, 0},
		{"first request fails: the rest waits for the retry",
			[]func(*fakeReq) outputs.Result{result(outputs.Retryable, "503")}, false, 2, Retry, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fakeSink{answers: tc.answers}
			var sink outputs.Sink[*fakeReq] = fs
			if tc.split {
				sink = splittingSink{fs}
			}
			path := filepath.Join(testdir.New(t), "dead.jsonl")
			dead, err := outputs.OpenDeadLetter(path, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer dead.Close()
			if got := flushWith(t, sink, dead, tc.maxRecords, threeLines); got != tc.want {
				t.Errorf("flush = %d, want %d", got, tc.want)
			}
			if len(fs.sent) != tc.sends {
				t.Errorf("%d sends %q, want %d", len(fs.sent), fs.sent, tc.sends)
			}
			raw, _ := os.ReadFile(path)
			if n := strings.Count(string(raw), `"line":`); n != tc.dead {
				t.Errorf("%d records dead-lettered, want %d:\n%s", n, tc.dead, raw)
			}
		})
	}
}

// A chunk with nothing readable is an error (retrying reads the same
// bytes); one with only group markers is done.
func TestFlushUnreadable(t *testing.T) {
	fs := &fakeSink{answers: []func(*fakeReq) outputs.Result{result(outputs.Accepted, "204")}}
	if got := flushWith(t, fs, nil, 100, func(w *chunktest.Writer) { w.Legacy("x", map[string]any{"log": "a"}) }); got != Error {
		t.Errorf("only an unknown shape: %d, want Error", got)
	}
	if got := flushWith(t, fs, nil, 100, func(w *chunktest.Writer) { w.GroupStart(map[string]any{}); w.GroupEnd() }); got != OK {
		t.Errorf("only markers: %d, want OK", got)
	}
	if got := flushWith(t, fs, nil, 100, func(w *chunktest.Writer) { threeLines(w); w.B = append(w.B, 0x92, 0xc1) }); got != OK {
		t.Errorf("three lines, then garbage: %d, want OK", got)
	}
	if len(fs.sent) != 1 || len(fs.sent[0]) != 3 {
		t.Errorf("sent %q, want the three lines before the garbage", fs.sent)
	}
}

// Concurrent flushes of one instance (Workers N) share nothing but the
// sink; run with -race.
func TestConcurrentFlushes(t *testing.T) {
	fs := &fakeSink{answers: []func(*fakeReq) outputs.Result{result(outputs.Accepted, "204")}}
	hold, _ := outputs.ParseStatusSet(nil)
	log := slog.New(slog.DiscardHandler)
	in := &Instance{log: log, m: Mapping{logKeys: []string{"log"}, format: formatLog}, ctx: context.Background(),
		send: newSender("t", outputs.Sink[*fakeReq](fs), hold, nil, log, 100, 1<<20).send}
	in.pool.New = func() any { return new(batch) }
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for c := range 20 {
				var w chunktest.Writer
				w.Event(time.Unix(1, 0), map[string]any{"log": fmt.Sprintf("g%d c%d", g, c), "k": "v"})
				if in.Flush(w.B, "tag") != OK {
					t.Error("flush failed")
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, s := range fs.sent {
		for _, l := range s {
			seen[l] = true
		}
	}
	if len(seen) != 80 {
		t.Errorf("%d distinct lines sent, want 80", len(seen))
	}
}

package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

// harness runs a Tailer over a test folder and collects what it emits,
// acknowledging each batch (or not, when hold is set).
type harness struct {
	t      testing.TB
	dir    string
	cfg    Config
	counts *Counts
	tl     *Tailer
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	recs []record.Record
	hold bool

	// stall, when set, is a channel the consumer waits on before taking
	// the first batch: a sink that does not keep up.
	stall chan struct{}
	// answer, when set, answers each batch instead of an Ack: n counts
	// the batches from 0.
	answer func(n int, b *record.Batch)
}

func testConfig(dir string) Config {
	return Config{
		Include:          []string{filepath.Join(dir, "*.log")},
		Flavor:           glob.Native,
		Format:           FormatAuto,
		MaxLineSize:      1 << 20,
		PollInterval:     10 * time.Millisecond,
		DiscoverInterval: 20 * time.Millisecond,
		MaxOpenFiles:     64,
		IdleTimeout:      time.Minute,
		RotateWait:       200 * time.Millisecond,
		CheckpointPath:   filepath.Join(dir, "state", "files.json"),
		CheckpointEvery:  20 * time.Millisecond,
		BatchSize:        128,
	}
}

func newHarness(t testing.TB, dir string, edit func(*Config)) *harness {
	t.Helper()
	if dir == "" {
		dir = testdir.New(t)
	}
	cfg := testConfig(dir)
	if edit != nil {
		edit(&cfg)
	}
	return &harness{t: t, dir: dir, cfg: cfg}
}

// start runs a fresh Tailer with the harness's config.
func (h *harness) start() {
	h.t.Helper()
	h.counts = &Counts{}
	h.cfg.Events = h.counts
	tl, err := New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.tl, h.cancel, h.done = tl, cancel, make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); tl.Run(ctx) }()
	stall, answer := h.stall, h.answer
	go func() {
		defer wg.Done()
		if stall != nil {
			select {
			case <-stall:
			case <-ctx.Done():
			}
		}
		n := 0
		for b := range tl.Out() {
			h.mu.Lock()
			for _, r := range b.Records {
				r.Body = append([]byte(nil), r.Body...)
				h.recs = append(h.recs, r)
			}
			hold := h.hold
			h.mu.Unlock()
			switch {
			case answer != nil:
				answer(n, b)
			case !hold:
				b.Ack()
			}
			n++
		}
	}()
	go func() { wg.Wait(); close(h.done) }()
	h.t.Cleanup(h.stop)
}

// stop ends the Tailer and saves its checkpoint, as the daemon does.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.done
	if err := h.tl.Save(); err != nil {
		h.t.Errorf("save checkpoint: %v", err)
	}
	h.cancel = nil
}

func (h *harness) bodies() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, len(h.recs))
	for i, r := range h.recs {
		out[i] = string(r.Body)
	}
	return out
}

func (h *harness) records() []record.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]record.Record(nil), h.recs...)
}

// waitFor polls until cond holds; the deadline only bounds a hang.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; counts %+v; have %d records: %q", what, h.counts.Snapshot(), len(h.bodies()), tail(h.bodies(), 10))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) waitCount(n int) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("%d records", n), func() bool { return len(h.bodies()) >= n })
}

// tail returns the last n strings, each cut to 80 bytes, for failure messages.
func tail(s []string, n int) []string {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	out := make([]string, len(s))
	for i, v := range s {
		if len(v) > 80 {
			v = v[:80] + "..."
		}
		out[i] = v
	}
	return out
}

func appendFile(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// criLines returns CRI lines "msg-<from>" .. "msg-<to-1>".
func criLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "2026-11-26T00:54:07.%09dZ stdout F msg-%d\n", i, i)
	}
	return b.String()
}

func msgs(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("msg-%d", i))
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

package enrich

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// fakePods is a PodSource the test fills by hand.
type fakePods struct {
	mu      sync.Mutex
	byName  map[[2]string]*podmeta.Pod
	byUID   map[string]*podmeta.Pod
	changed chan struct{}
	lookups atomic.Int64
}

func newFakePods(pods ...*podmeta.Pod) *fakePods {
	f := &fakePods{byName: map[[2]string]*podmeta.Pod{}, byUID: map[string]*podmeta.Pod{}, changed: make(chan struct{})}
	for _, p := range pods {
		f.add(p)
	}
	return f
}

func (f *fakePods) add(p *podmeta.Pod) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byName[[2]string{p.Namespace, p.Name}] = p
	f.byUID[p.UID] = p
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakePods) Pod(ns, name string) (*podmeta.Pod, bool) {
	f.lookups.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.byName[[2]string{ns, name}]
	return p, ok
}

func (f *fakePods) PodByUID(uid string) (*podmeta.Pod, bool) {
	f.lookups.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.byUID[uid]
	return p, ok
}

func (f *fakePods) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// webPod is the pod of ctrPath and podsPath.
func webPod() *podmeta.Pod {
	return &podmeta.Pod{
		Namespace: "shop", Name: "web-7d9f", UID: uid,
		Attrs:      attrs("node", "akswin000001", "workload_kind", "Deployment", "label.app", "web"),
		Containers: []podmeta.Container{{Name: "nginx", Image: "nginx:1.27", ID: "fromstatus"}},
	}
}

// stageRun is a running Stage with a clock and ticker the test drives.
type stageRun struct {
	t    *testing.T
	in   chan *record.Batch
	out  chan *record.Batch
	tick chan time.Time
	mu   sync.Mutex
	now  time.Time
	ev   *counts
	done chan struct{}
	stop context.CancelFunc
}

func startStage(t *testing.T, c StageConfig) *stageRun {
	t.Helper()
	r := &stageRun{t: t, in: make(chan *record.Batch), out: make(chan *record.Batch), tick: make(chan time.Time),
		now: time.Unix(1_800_000_000, 0), ev: &counts{}, done: make(chan struct{})}
	c.Events = r.ev
	s := NewStage(c)
	s.now = r.clock
	s.tick = r.tick
	ctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	go func() { defer close(r.done); s.Run(ctx, r.in, r.out) }()
	t.Cleanup(func() { stop(); <-r.done })
	return r
}

func (r *stageRun) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

const patience = 10 * time.Second // only ever reached when a test fails

func (r *stageRun) send(b *record.Batch) {
	r.t.Helper()
	select {
	case r.in <- b:
	case <-time.After(patience):
		r.t.Fatal("the stage does not take a batch")
	}
}

func (r *stageRun) recv() *record.Batch {
	r.t.Helper()
	select {
	case b, ok := <-r.out:
		if !ok {
			r.t.Fatal("out closed")
		}
		return b
	case <-time.After(patience):
		r.t.Fatal("no batch out")
	}
	return nil
}

// advance moves the clock and lets the stage see a tick. A tick at the old
// time goes first: the stage takes it only once done with what it was
// given before, so the clock never moves under a batch being handled.
func (r *stageRun) advance(d time.Duration) {
	r.t.Helper()
	r.tickAt(r.clock())
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
	r.tickAt(r.clock())
}

func (r *stageRun) tickAt(now time.Time) {
	r.t.Helper()
	select {
	case r.tick <- now:
	case <-time.After(patience):
		r.t.Fatal("the stage does not take a tick")
	}
}

// mkBatch makes a batch of n records of path whose bodies say "name/i", and
// counts its acks in acks.
func mkBatch(name, path string, n int, acks *atomic.Int32) *record.Batch {
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Path: path, Body: fmt.Appendf(nil, "%s/%d", name, i)}
	}
	return record.NewBatch(recs, func() { acks.Add(1) })
}

func expect(t *testing.T, b *record.Batch, name string, want []record.Attr) {
	t.Helper()
	for i, r := range b.Records {
		if got, want := strings.TrimSpace(string(r.Body)), fmt.Sprintf("%s/%d", name, i); got != want {
			t.Fatalf("got record %q, want %s", got, want)
		}
		if !reflect.DeepEqual(r.Attrs, want) {
			t.Fatalf("batch %s record %d:\n got %v\nwant %v", name, i, r.Attrs, want)
		}
	}
}

var (
	ctrHit  = join(attrs("namespace", "shop", "pod", "web-7d9f", "pod_uid", uid, "container", "nginx", "container_id", id64, "container_image", "nginx:1.27"), webPod().Attrs)
	podsHit = join(attrs("namespace", "shop", "pod", "web-7d9f", "pod_uid", uid, "container", "nginx", "container_id", "fromstatus", "container_image", "nginx:1.27"), webPod().Attrs)
)

func TestStageEnriches(t *testing.T) {
	tests := []struct {
		name   string
		pods   bool // whether the source is there at all
		known  bool // whether it knows webPod
		path   string
		want   []record.Attr
		misses int
	}{
		{"hit containers layout keeps the path's id", true, true, ctrPath, ctrHit, 0},
		{"hit pods layout takes the status id", true, true, podsPath, podsHit, 0},
		{"unparsed path gets node only", true, true, other, node, 1},
		{"no source: path-derived", false, false, ctrPath, join(ctrAttrs, node), 0},
		{"no source: unparsed", false, false, other, node, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := StageConfig{Node: "akswin000001"}
			if tt.pods {
				src := newFakePods()
				if tt.known {
					src.add(webPod())
				}
				c.Pods = src
			}
			r := startStage(t, c)
			for i := range 3 {
				r.send(mkBatch(fmt.Sprint(i), tt.path, 4, new(atomic.Int32)))
				expect(t, r.recv(), fmt.Sprint(i), tt.want)
			}
			if got := r.ev.get(MissPathUnparsed); got != tt.misses {
				t.Errorf("%d path misses, want %d", got, tt.misses)
			}
		})
	}
}

// TestStageHoldReleasedOnAdd holds a file whose pod is unknown, lets another
// file through meanwhile, and releases the held batches, in order and
// enriched, when the pod shows up.
func TestStageHoldReleasedOnAdd(t *testing.T) {
	src := newFakePods(&podmeta.Pod{Namespace: "other", Name: "x", UID: "u"})
	r := startStage(t, StageConfig{Node: "akswin000001", Pods: src})
	var acks atomic.Int32
	r.send(mkBatch("a1", ctrPath, 3, &acks))
	r.send(mkBatch("a2", ctrPath, 3, &acks))
	// Had a1 not been held, it would come out before b.
	r.send(mkBatch("b", other, 2, &acks))
	expect(t, r.recv(), "b", node)
	r.send(mkBatch("a3", ctrPath, 1, &acks))
	src.add(webPod())
	for _, name := range []string{"a1", "a2", "a3"} {
		expect(t, r.recv(), name, ctrHit)
	}
	if n := acks.Load(); n != 0 {
		t.Fatalf("the stage acked %d batches; acking is the buffer's job", n)
	}
	if n := r.ev.get(MissPodNotFound); n != 0 {
		t.Fatalf("%d pod_not_found misses, want 0", n)
	}
}

// TestStageHoldTimesOut checks that a file whose pod never shows up goes out
// after Wait with path-derived attributes, is counted once, and is not held
// again until its pod appears, after which it is enriched in full.
func TestStageHoldTimesOut(t *testing.T) {
	src := newFakePods()
	r := startStage(t, StageConfig{Node: "akswin000001", Pods: src, Wait: time.Second})
	pathOnly := join(ctrAttrs, node)
	r.send(mkBatch("a1", ctrPath, 2, new(atomic.Int32)))
	r.advance(500 * time.Millisecond)
	r.send(mkBatch("a2", ctrPath, 2, new(atomic.Int32)))
	r.send(mkBatch("b", other, 1, new(atomic.Int32)))
	expect(t, r.recv(), "b", node) // a1 and a2 are still held: 500ms < Wait
	r.advance(500 * time.Millisecond)
	expect(t, r.recv(), "a1", pathOnly)
	expect(t, r.recv(), "a2", pathOnly)
	if n := r.ev.get(MissPodNotFound); n != 1 {
		t.Fatalf("%d pod_not_found misses, want 1 per expired wait", n)
	}
	r.send(mkBatch("a3", ctrPath, 1, new(atomic.Int32)))
	expect(t, r.recv(), "a3", pathOnly) // not held again
	src.add(webPod())
	r.send(mkBatch("a4", ctrPath, 1, new(atomic.Int32)))
	expect(t, r.recv(), "a4", ctrHit) // caught up
	if n := r.ev.get(MissPodNotFound); n != 1 {
		t.Fatalf("%d pod_not_found misses, want still 1", n)
	}
}

// TestStageHoldBounded checks that a file holding more than MaxHeld batches
// or MaxHeldBytes lets the oldest go early, counted, and keeps the rest, in
// order, for its pod.
func TestStageHoldBounded(t *testing.T) {
	tests := []struct {
		name     string
		maxHeld  int
		maxBytes int
		early    []int // batches expected out early after each send; every batch has 10 body bytes
	}{
		{"by count", 2, 0, []int{0, 0, 1, 1}},
		{"by bytes", 0, 25, []int{0, 0, 1, 1}},
		{"one batch over the byte cap goes at once", 0, 5, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakePods()
			r := startStage(t, StageConfig{Pods: src, MaxHeld: tt.maxHeld, MaxHeldBytes: tt.maxBytes})
			next, total := 0, 0 // the next batch expected out; early ones so far
			for i, early := range tt.early {
				b := mkBatch(fmt.Sprintf("a%d", i), ctrPath, 1, new(atomic.Int32))
				b.Records[0].Body = fmt.Appendf(nil, "%-10s", b.Records[0].Body)
				r.send(b)
				for range early {
					expect(t, r.recv(), fmt.Sprintf("a%d", next), ctrAttrs)
					next++
					total++
				}
			}
			if n := r.ev.get(MissHoldFull); n != total {
				t.Fatalf("%d hold_full misses, want %d", n, total)
			}
			src.add(webPod())
			for ; next < len(tt.early); next++ {
				expect(t, r.recv(), fmt.Sprintf("a%d", next), ctrHit)
			}
		})
	}
}

// TestStageShutdown checks both ways Run ends: a closed input releases what
// is held, at once; a cancelled context returns without forwarding or
// acking what is held. Either way out is closed.
func TestStageShutdown(t *testing.T) {
	t.Run("input closed", func(t *testing.T) {
		r := startStage(t, StageConfig{Node: "akswin000001", Pods: newFakePods()})
		var acks atomic.Int32
		r.send(mkBatch("a1", ctrPath, 2, &acks))
		r.send(mkBatch("p1", podsPath, 2, &acks))
		r.send(mkBatch("a2", ctrPath, 2, &acks))
		close(r.in)
		got := map[string][]string{}
		for b := range r.out {
			name, _, _ := strings.Cut(string(b.Records[0].Body), "/")
			got[b.Records[0].Path] = append(got[b.Records[0].Path], name)
		}
		want := map[string][]string{ctrPath: {"a1", "a2"}, podsPath: {"p1"}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("released %v, want %v", got, want)
		}
		if n := r.ev.get(MissPodNotFound); n != 2 {
			t.Fatalf("%d pod_not_found misses, want 2 (one per file)", n)
		}
		if acks.Load() != 0 {
			t.Fatal("the stage acked a batch")
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		r := startStage(t, StageConfig{Pods: newFakePods()})
		var acks atomic.Int32
		r.send(mkBatch("a1", ctrPath, 2, &acks))
		r.stop()
		select {
		case <-r.done:
		case <-time.After(patience):
			t.Fatal("Run did not return")
		}
		if _, open := <-r.out; open {
			t.Fatal("a held batch came out after cancel")
		}
		if acks.Load() != 0 {
			t.Fatal("a held batch was acked after cancel")
		}
	})
}

// TestStageRealTicker runs the stage with its own ticker: the held batch
// goes out after Wait without anyone driving the clock.
func TestStageRealTicker(t *testing.T) {
	s := NewStage(StageConfig{Pods: newFakePods(), Wait: 20 * time.Millisecond})
	in, out := make(chan *record.Batch), make(chan *record.Batch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, in, out) }()
	defer func() { cancel(); <-done }()
	start := time.Now()
	in <- mkBatch("a1", ctrPath, 1, new(atomic.Int32))
	select {
	case b := <-out:
		expect(t, b, "a1", ctrAttrs)
	case <-time.After(patience):
		t.Fatal("the held batch never went out")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("released after %v, before Wait", d)
	}
}

// TestStageLookup checks how a path finds its pod: by uid first for the
// pods layout, by name when the uid is unknown (a static pod's directory
// carries its config hash), and a new *Pod is picked up.
func TestStageLookup(t *testing.T) {
	static := webPod()
	static.UID = "mirror-uid" // the path's uid is the config hash
	src := newFakePods(static)
	r := startStage(t, StageConfig{Pods: src})
	r.send(mkBatch("p1", podsPath, 1, new(atomic.Int32)))
	want := join(attrs("namespace", "shop", "pod", "web-7d9f", "pod_uid", "mirror-uid", "container", "nginx",
		"container_id", "fromstatus", "container_image", "nginx:1.27"), webPod().Attrs)
	expect(t, r.recv(), "p1", want)

	changed := webPod()
	changed.Containers[0].Image = "nginx:1.28"
	src.add(changed) // now the uid matches too
	r.send(mkBatch("p2", podsPath, 1, new(atomic.Int32)))
	want = join(attrs("namespace", "shop", "pod", "web-7d9f", "pod_uid", uid, "container", "nginx",
		"container_id", "fromstatus", "container_image", "nginx:1.28"), webPod().Attrs)
	expect(t, r.recv(), "p2", want)
}

// TestStageMixedBatch checks a batch holding records of several paths (the
// tailer makes none): each record gets its own path's attributes, in place.
func TestStageMixedBatch(t *testing.T) {
	r := startStage(t, StageConfig{Node: "akswin000001", Pods: newFakePods(webPod())})
	b := record.NewBatch([]record.Record{
		{Path: ctrPath, Body: []byte("0")},
		{Path: other, Body: []byte("1"), Attrs: attrs("stream", "stdout")},
		{Path: ctrPath, Body: []byte("2")},
	}, nil)
	r.send(b)
	got := r.recv()
	want := [][]record.Attr{ctrHit, join(attrs("stream", "stdout"), node), ctrHit}
	for i, rec := range got.Records {
		if string(rec.Body) != fmt.Sprint(i) || !reflect.DeepEqual(rec.Attrs, want[i]) {
			t.Fatalf("record %d: %q %v, want %v", i, rec.Body, rec.Attrs, want[i])
		}
	}
	if cap(got.Records[0].Attrs) != len(got.Records[0].Attrs) || &got.Records[0].Attrs[0] != &got.Records[2].Attrs[0] {
		t.Fatal("records of one path do not share one full slice")
	}
}

// TestStageHitAllocs checks that a hit costs no allocation, per record or
// per batch, once the path and pod have been seen.
func TestStageHitAllocs(t *testing.T) {
	s := NewStage(StageConfig{Node: "n", Pods: newFakePods(webPod())})
	out := make(chan *record.Batch, 1)
	b := mkBatch("a", ctrPath, 64, new(atomic.Int32))
	ctx := context.Background()
	s.handle(ctx, out, b)
	<-out
	n := testing.AllocsPerRun(100, func() {
		for i := range b.Records {
			b.Records[i].Attrs = nil
		}
		s.handle(ctx, out, b)
		<-out
	})
	if n != 0 {
		t.Fatalf("%v allocs per batch on a hit, want 0", n)
	}
}

// A path whose pod is known keeps no path-derived attributes: only a
// batch that goes out without its pod needs them.
func TestStageKeepsNoBaseOnHit(t *testing.T) {
	s := NewStage(StageConfig{Node: "n", Pods: newFakePods(webPod())})
	out := make(chan *record.Batch, 1)
	s.handle(context.Background(), out, mkBatch("a", ctrPath, 4, new(atomic.Int32)))
	<-out
	if st := s.paths[ctrPath]; st == nil || st.baseMade || st.base != nil {
		t.Fatalf("path state after a hit: %+v, want no path-derived attributes made", st)
	}
}

// TestStageEmptyBatch checks that a batch without records passes through.
func TestStageEmptyBatch(t *testing.T) {
	r := startStage(t, StageConfig{Pods: newFakePods()})
	b := record.NewBatch(nil, nil)
	r.send(b)
	if got := r.recv(); got != b {
		t.Fatal("another batch came out")
	}
}

// logCount is a slog.Handler that counts records per value of "path".
type logCount struct {
	mu     sync.Mutex
	byPath map[string]int
}

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCount) WithGroup(string) slog.Handler            { return l }
func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "path" {
			l.byPath[a.Value.String()]++
		}
		return true
	})
	return nil
}

func (l *logCount) get() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.byPath)
}

// TestStageHoldNodeCap checks the cap on bytes held by all files together:
// past it the oldest held batch, whichever file it belongs to, goes out
// early with path-derived attributes, counted as hold_full per batch and
// logged once per file, and every file's batches keep their order.
func TestStageHoldNodeCap(t *testing.T) {
	type step struct {
		name, path string
		early      []string // batches expected out, in this order, after this one is sent
	}
	tests := []struct {
		name   string
		cap    int
		steps  []step
		logged map[string]int
	}{
		{"cap reached: oldest released in order", 25, []step{
			{"a1", ctrPath, nil},
			{"p1", podsPath, nil},
			{"a2", ctrPath, []string{"a1"}},
			{"a3", ctrPath, []string{"p1"}},
			{"p2", podsPath, []string{"a2"}},
			{"a4", ctrPath, []string{"a3"}},
			{"big", podsPath, []string{"p2", "a4", "big"}}, // alone over the cap
		}, map[string]int{ctrPath: 1, podsPath: 1}},
		{"below cap: held as before", 1000, []step{
			{"a1", ctrPath, nil},
			{"p1", podsPath, nil},
			{"a2", ctrPath, nil},
			{"a3", ctrPath, nil},
			{"p2", podsPath, nil},
		}, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakePods()
			logs := &logCount{byPath: map[string]int{}}
			r := startStage(t, StageConfig{Pods: src, NodeMaxHeldBytes: tt.cap, Logger: slog.New(logs)})
			sent := map[string]string{}
			out := map[string]bool{}
			early := 0
			for _, st := range tt.steps {
				b := mkBatch(st.name, st.path, 1, new(atomic.Int32))
				size := 10
				if st.name == "big" {
					size = 40
				}
				b.Records[0].Body = fmt.Appendf(nil, "%-*s", size, b.Records[0].Body)
				sent[st.name] = st.path
				r.send(b)
				for _, name := range st.early {
					want := ctrAttrs
					if sent[name] == podsPath {
						want = podsAttrs
					}
					expect(t, r.recv(), name, want)
					out[name] = true
					early++
				}
			}
			if n := r.ev.get(MissHoldFull); n != early {
				t.Errorf("%d hold_full misses, want %d (one per batch released early)", n, early)
			}
			if got := logs.get(); !reflect.DeepEqual(got, tt.logged) {
				t.Errorf("logged %v per path, want %v", got, tt.logged)
			}
			src.add(webPod())
			// The rest come out enriched, each file in its order; files
			// may interleave.
			next := map[string][]string{}
			for _, st := range tt.steps {
				if !out[st.name] {
					next[st.path] = append(next[st.path], st.name)
				}
			}
			for len(next[ctrPath])+len(next[podsPath]) > 0 {
				b := r.recv()
				p := b.Records[0].Path
				if len(next[p]) == 0 {
					t.Fatalf("unexpected batch %q of %s", b.Records[0].Body, p)
				}
				want := ctrHit
				if p == podsPath {
					want = podsHit
				}
				expect(t, b, next[p][0], want)
				next[p] = next[p][1:]
			}
		})
	}
}

// TestStageForgetsIdlePaths checks that the state of a path with no batch
// for a while, holding nothing, is forgotten, and that busy and holding
// paths are kept.
func TestStageForgetsIdlePaths(t *testing.T) {
	const (
		idle    = "/var/log/pods/shop_idle_a1/app/0.log"
		busy    = "/var/log/pods/shop_busy_a2/app/0.log"
		holding = "/var/log/pods/shop_held_a3/app/0.log"
		late    = "/var/log/pods/shop_late_a4/app/0.log"
	)
	tests := []struct {
		name string
		// sweep is how the sweep is reached: by a tick or by a new path.
		sweep func(s *Stage, out chan *record.Batch, now time.Time)
	}{
		{"on a tick", func(s *Stage, out chan *record.Batch, now time.Time) { s.recheck(context.Background(), out, now) }},
		{"on a new path", func(s *Stage, out chan *record.Batch, _ time.Time) {
			s.handle(context.Background(), out, mkBatch("l", late, 1, new(atomic.Int32)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Unix(1_800_000_000, 0)
			now := start
			src := newFakePods(
				&podmeta.Pod{Namespace: "shop", Name: "idle", UID: "a1"},
				&podmeta.Pod{Namespace: "shop", Name: "busy", UID: "a2"},
				&podmeta.Pod{Namespace: "shop", Name: "late", UID: "a4"})
			s := NewStage(StageConfig{Pods: src, Wait: time.Hour}) // held's pod never comes
			s.now = func() time.Time { return now }
			out := make(chan *record.Batch, 100)
			ctx := context.Background()
			for _, p := range []string{idle, busy, holding} {
				s.handle(ctx, out, mkBatch("x", p, 1, new(atomic.Int32)))
			}
			// The first path set the first sweep at pathIdle, which finds
			// idle used since; the next is due at 2*pathIdle. Tick every
			// pathIdle/4 up to just before it.
			for range 7 {
				now = now.Add(pathIdle / 4)
				s.handle(ctx, out, mkBatch("x", busy, 1, new(atomic.Int32)))
				s.recheck(ctx, out, now)
			}
			if _, ok := s.paths[idle]; !ok {
				t.Fatal("idle path forgotten before it was idle for a whole interval")
			}
			now = now.Add(pathIdle / 2)
			tt.sweep(s, out, now)
			if _, ok := s.paths[idle]; ok {
				t.Errorf("idle path still known %v after its last batch", now.Sub(start))
			}
			for _, p := range []string{busy, holding} {
				if _, ok := s.paths[p]; !ok {
					t.Errorf("%s forgotten", p)
				}
			}
			if len(s.holding) != 1 {
				t.Fatalf("%d paths holding, want 1", len(s.holding))
			}
		})
	}
}

// TestStageHeldOrderBounded checks that batches that stopped being held
// the usual way (their wait ran out) do not pile up in the list the
// node-wide cap keeps, and that the cap still finds the oldest after.
func TestStageHeldOrderBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := NewStage(StageConfig{Pods: newFakePods(), Wait: time.Minute, NodeMaxHeldBytes: 25})
	s.now = func() time.Time { return now }
	out := make(chan *record.Batch, 10)
	ctx := context.Background()
	path := func(i int) string { return fmt.Sprintf("/var/log/pods/shop_p%d_a%d/app/0.log", i, i) }
	for i := range 1000 {
		s.handle(ctx, out, mkBatch("x", path(i), 1, new(atomic.Int32)))
		now = now.Add(time.Minute)
		s.recheck(ctx, out, now)
		<-out
	}
	if n := len(s.order.refs); n > 65 {
		t.Fatalf("%d entries listed with nothing held", n)
	}
	for i, name := range []string{"a", "b", "c"} {
		b := mkBatch(name, path(2000+i), 1, new(atomic.Int32))
		b.Records[0].Body = fmt.Appendf(nil, "%-10s", b.Records[0].Body)
		s.handle(ctx, out, b)
	}
	if got := strings.TrimSpace(string((<-out).Records[0].Body)); got != "a/0" || len(out) != 0 {
		t.Fatalf("released %q and %d more, want a/0 alone", got, len(out))
	}
}

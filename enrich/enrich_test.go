package enrich

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	id64 = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
	uid  = "7f5b3c1e-2d4a-4b6c-8e9f-0a1b2c3d4e5f"

	ctrPath  = `C:\var\log\containers\web-7d9f_shop_nginx-` + id64 + ".log"
	podsPath = `C:\var\log\pods\shop_web-7d9f_` + uid + `\nginx\0.log`
	podsRot  = "/var/log/pods/shop_web-7d9f_" + uid + "/nginx/0.log.20261126-005407.gz"
	other    = `C:\ProgramData\app\logs\service.log`
)

// counts is an Events that keeps the misses in memory.
type counts struct {
	mu     sync.Mutex
	misses map[string]int
}

func (c *counts) Miss(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.misses == nil {
		c.misses = map[string]int{}
	}
	c.misses[reason]++
}

func (c *counts) get(reason string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.misses[reason]
}

func attrs(kv ...string) []record.Attr {
	var a []record.Attr
	for i := 0; i < len(kv); i += 2 {
		a = append(a, record.Attr{Key: kv[i], Value: kv[i+1]})
	}
	return a
}

var (
	ctrAttrs  = attrs("namespace", "shop", "pod", "web-7d9f", "container", "nginx", "container_id", id64)
	podsAttrs = attrs("namespace", "shop", "pod", "web-7d9f", "pod_uid", uid, "container", "nginx")
	node      = attrs("node", "akswin000001")
)

// pathOnly is a Stage without a pod source, as sluice runs outside a
// cluster: it never holds, so each batch comes straight back.
type pathOnly struct {
	s       *Stage
	in, out chan *record.Batch
	cancel  context.CancelFunc
	done    chan struct{}
}

func newPathOnly(t *testing.T, node string, ev Events) *pathOnly {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pathOnly{s: NewStage(StageConfig{Node: node, Events: ev}), in: make(chan *record.Batch),
		out: make(chan *record.Batch), cancel: cancel, done: make(chan struct{})}
	go func() { defer close(p.done); p.s.Run(ctx, p.in, p.out) }()
	t.Cleanup(func() { p.cancel(); <-p.done })
	return p
}

// Enrich sends recs through the stage and waits for them.
func (p *pathOnly) Enrich(recs []record.Record) {
	p.enrichBatch(record.NewBatch(recs, nil))
}

func (p *pathOnly) enrichBatch(b *record.Batch) {
	p.in <- b
	<-p.out
}

func join(a ...[]record.Attr) []record.Attr {
	var out []record.Attr
	for _, x := range a {
		out = append(out, x...)
	}
	return out
}

func TestEnrich(t *testing.T) {
	type rec struct {
		path  string
		attrs []record.Attr
	}
	tests := []struct {
		name   string
		node   string
		recs   []rec
		want   [][]record.Attr
		misses int
	}{
		{"empty batch", "n", nil, nil, 0},
		{"containers layout", "", []rec{{path: ctrPath}}, [][]record.Attr{ctrAttrs}, 0},
		{"pods layout", "", []rec{{path: podsPath}}, [][]record.Attr{podsAttrs}, 0},
		{"rotated pods layout", "", []rec{{path: podsRot}}, [][]record.Attr{podsAttrs}, 0},
		{"node", "akswin000001", []rec{{path: ctrPath}}, [][]record.Attr{join(ctrAttrs, node)}, 0},
		{"unparsed keeps record without pod attrs", "", []rec{{path: other}}, [][]record.Attr{nil}, 1},
		{"unparsed still gets node", "akswin000001", []rec{{path: other}}, [][]record.Attr{node}, 1},
		{"empty path", "", []rec{{path: ""}}, [][]record.Attr{nil}, 1},
		{"appends to existing attrs", "", []rec{{path: podsPath, attrs: attrs("stream", "stdout")}},
			[][]record.Attr{join(attrs("stream", "stdout"), podsAttrs)}, 0},
		{"unparsed keeps existing attrs", "", []rec{{path: other, attrs: attrs("stream", "stdout")}},
			[][]record.Attr{attrs("stream", "stdout")}, 1},
		{"mixed batch in order", "akswin000001",
			[]rec{{path: ctrPath}, {path: other}, {path: ctrPath}, {path: podsPath}, {path: other}, {path: podsPath}},
			[][]record.Attr{join(ctrAttrs, node), node, join(ctrAttrs, node), join(podsAttrs, node), node, join(podsAttrs, node)}, 1},
		{"two unparsed paths count twice", "",
			[]rec{{path: other}, {path: other + "2"}, {path: other}},
			[][]record.Attr{nil, nil, nil}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &counts{}
			e := newPathOnly(t, tt.node, ev)
			recs := make([]record.Record, len(tt.recs))
			for i, r := range tt.recs {
				recs[i] = record.Record{Path: r.path, Attrs: r.attrs, Body: []byte(fmt.Sprint(i))}
			}
			e.Enrich(recs)
			if len(recs) != len(tt.want) {
				t.Fatalf("%d records after Enrich, want %d", len(recs), len(tt.want))
			}
			for i, r := range recs {
				if string(r.Body) != fmt.Sprint(i) || r.Path != tt.recs[i].path {
					t.Errorf("record %d changed: %q %q", i, r.Body, r.Path)
				}
				if len(r.Attrs) != 0 || len(tt.want[i]) != 0 {
					if !reflect.DeepEqual(r.Attrs, tt.want[i]) {
						t.Errorf("record %d (%s):\n got %v\nwant %v", i, r.Path, r.Attrs, tt.want[i])
					}
				}
			}
			if got := ev.get(MissPathUnparsed); got != tt.misses {
				t.Errorf("%d misses, want %d", got, tt.misses)
			}
		})
	}
}

// TestMissOncePerPath checks that a miss is counted per distinct path across
// batches, not per record.
func TestMissOncePerPath(t *testing.T) {
	ev := &counts{}
	e := newPathOnly(t, "", ev)
	for range 3 {
		recs := []record.Record{{Path: other}, {Path: other}, {Path: ctrPath}}
		e.Enrich(recs)
	}
	if got := ev.get(MissPathUnparsed); got != 1 {
		t.Fatalf("%d misses for one unparsed path in 9 records, want 1", got)
	}
}

// TestSharedAttrs checks the sharing contract: one slice per path with no
// spare capacity, so an append by a later stage leaves other records alone.
func TestSharedAttrs(t *testing.T) {
	e := newPathOnly(t, "n", nil)
	a := []record.Record{{Path: ctrPath}, {Path: podsPath}, {Path: ctrPath}}
	b := []record.Record{{Path: ctrPath}}
	e.Enrich(a)
	e.Enrich(b)
	if &a[0].Attrs[0] != &a[2].Attrs[0] || &a[0].Attrs[0] != &b[0].Attrs[0] {
		t.Fatal("records of one path do not share their attributes")
	}
	if cap(a[0].Attrs) != len(a[0].Attrs) {
		t.Fatalf("shared attrs have cap %d > len %d", cap(a[0].Attrs), len(a[0].Attrs))
	}
	want := append([]record.Attr(nil), a[2].Attrs...)
	a[0].Attrs = append(a[0].Attrs, record.Attr{Key: "extra", Value: "x"})
	if !reflect.DeepEqual(a[2].Attrs, want) || !reflect.DeepEqual(b[0].Attrs, want) {
		t.Fatalf("an append to one record changed another: %v", a[2].Attrs)
	}
}

// TestCacheBounded checks that the path cache stays within maxPaths and that
// a flushed unparsed path is counted again, as Events.Miss documents.
func TestCacheBounded(t *testing.T) {
	ev := &counts{}
	e := newPathOnly(t, "", ev)
	e.Enrich([]record.Record{{Path: other}})
	recs := make([]record.Record, 1)
	for i := range maxPaths + 10 {
		recs[0] = record.Record{Path: fmt.Sprintf("/var/log/pods/ns_pod-%d_%s/c/0.log", i, uid)}
		e.Enrich(recs)
		if n := len(e.s.paths); n > maxPaths {
			t.Fatalf("cache holds %d paths, want at most %d", n, maxPaths)
		}
		if got := recs[0].Attrs[1].Value; got != fmt.Sprintf("pod-%d", i) {
			t.Fatalf("pod %q for record %d", got, i)
		}
	}
	e.Enrich([]record.Record{{Path: other}})
	if got := ev.get(MissPathUnparsed); got != 2 {
		t.Fatalf("%d misses, want 2 (the path was flushed and seen again)", got)
	}
}

func TestPathOnlyHitAllocs(t *testing.T) {
	e := newPathOnly(t, "n", nil)
	recs := []record.Record{{Path: ctrPath}, {Path: ctrPath}, {Path: ctrPath}, {Path: ctrPath}}
	b := record.NewBatch(recs, nil)
	e.enrichBatch(b)
	n := testing.AllocsPerRun(100, func() {
		for i := range recs {
			recs[i].Attrs = nil
		}
		e.enrichBatch(b)
	})
	if n != 0 {
		t.Fatalf("%v allocs per batch on cache hits, want 0", n)
	}
}

package parse

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/parse/multiline"
	"github.com/sluicelog/sluice/parse/structured"
	"github.com/sluicelog/sluice/record"
)

const path = "/var/log/pods/shop_web-1_0f3c2a4e-1111-4222-8333-944455556666/app/0.log"

var src = &record.Source{Dev: 1, Ino: 2}

// lines makes one record per line of text, on stream, from offset, with
// the restart offsets the tailer gives (the end of each line).
func lines(stream string, offset int64, text string) []record.Record {
	var recs []record.Record
	for _, l := range strings.Split(text, "\n") {
		n := int64(len(l)) + 40 // a CRI header and the newline
		recs = append(recs, record.Record{Body: []byte(l), Stream: stream, Path: path, Offset: offset, Next: offset + n, Source: src,
			Time: time.Unix(1_700_000_000, offset)})
		offset += n
	}
	return recs
}

// acks records which input batches were acknowledged or not.
type acks struct {
	mu         sync.Mutex
	acked, bad []string
}

func (a *acks) batch(name string, recs []record.Record) *record.Batch {
	return record.NewBatch(recs, func() { a.mu.Lock(); a.acked = append(a.acked, name); a.mu.Unlock() }).
		OnNack(func() { a.mu.Lock(); a.bad = append(a.bad, name); a.mu.Unlock() })
}

func (a *acks) get() (acked, bad string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.acked, ","), strings.Join(a.bad, ",")
}

type counter struct {
	mu     sync.Mutex
	joined []int
	cuts   []string
	parsed []string
}

func (c *counter) Joined(n int)   { c.mu.Lock(); c.joined = append(c.joined, n); c.mu.Unlock() }
func (c *counter) Cut(why string) { c.mu.Lock(); c.cuts = append(c.cuts, why); c.mu.Unlock() }
func (c *counter) Parsed(format, outcome string) {
	c.mu.Lock()
	c.parsed = append(c.parsed, format+"/"+outcome)
	c.mu.Unlock()
}

func dotnetStage(t *testing.T, l Limits, ev Events) *Stage {
	t.Helper()
	pat, err := glob.Compile("/var/log/pods/shop_*/*/*.log", glob.Unix)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := multiline.Parse("dotnet", "")
	if err != nil {
		t.Fatal(err)
	}
	return NewStage(Config{Patterns: []Pattern{{Match: pat, Multiline: rule, Limits: l}}, Events: ev})
}

// run starts s between two channels; stop closes the input and waits.
func run(t *testing.T, s *Stage) (in chan *record.Batch, out chan *record.Batch, stop func()) {
	in, out = make(chan *record.Batch), make(chan *record.Batch, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, in, out) }()
	var once sync.Once
	stop = func() { once.Do(func() { close(in); <-done; cancel() }) }
	t.Cleanup(func() { stop(); cancel() })
	return in, out, stop
}

func recv(t *testing.T, out <-chan *record.Batch) *record.Batch {
	t.Helper()
	select {
	case b := <-out:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no batch came out")
		return nil
	}
}

const trace = `System.InvalidOperationException: Order 42 failed
   at Shop.Orders.Place(Order order) in C:\src\Orders.cs:line 17
   at Shop.Program.Main(String[] args) in C:\src\Program.cs:line 9`

// An exception whose lines come in two batches goes out as one record,
// with its first line's offset and time and its last line's restart
// offset; neither input batch is acknowledged before that record is.
func TestJoinAcrossBatches(t *testing.T) {
	var c counter
	s := dotnetStage(t, Limits{FlushTimeout: time.Hour}, &c)
	in, out, stop := run(t, s)
	var a acks
	recs := lines("stdout", 0, "starting\n"+trace+"\nnext line")
	in <- a.batch("b1", recs[:3]) // starting, the exception line, one frame
	b := recv(t, out)
	if len(b.Records) != 1 || string(b.Records[0].Body) != "starting" {
		t.Fatalf("first batch out: %+v", b.Records)
	}
	if b.Records[0].Next != recs[1].Offset {
		t.Errorf("restart offset of the line before the waiting exception = %d, want %d", b.Records[0].Next, recs[1].Offset)
	}
	b.Ack()
	if acked, _ := a.get(); acked != "" {
		t.Fatalf("acknowledged %q while the exception still waits", acked)
	}
	in <- a.batch("b2", recs[3:])
	b2 := recv(t, out)
	if len(b2.Records) != 1 || string(b2.Records[0].Body) != trace {
		t.Fatalf("second batch out: %q", bodies(b2))
	}
	r := b2.Records[0]
	if r.Offset != recs[1].Offset || !r.Time.Equal(recs[1].Time) || r.Next != recs[3].Next || r.Source != src || r.Path != path {
		t.Errorf("joined record: offset %d time %v next %d, want %d %v %d", r.Offset, r.Time, r.Next, recs[1].Offset, recs[1].Time, recs[3].Next)
	}
	if acked, _ := a.get(); acked != "" {
		t.Fatalf("acknowledged %q before the joined record was", acked)
	}
	b2.Ack()
	if acked, _ := a.get(); acked != "b1" {
		t.Fatalf("after the joined record: acknowledged %q, want b1 (b2's last line still waits)", acked)
	}
	stop() // the input ends: "next line" goes out
	b3 := recv(t, out)
	if string(b3.Records[0].Body) != "next line" {
		t.Fatalf("last batch: %q", bodies(b3))
	}
	b3.Ack()
	if acked, bad := a.get(); acked != "b1,b2" || bad != "" {
		t.Errorf("acknowledged %q, refused %q; want b1,b2 and none", acked, bad)
	}
	if len(c.joined) != 1 || c.joined[0] != 3 {
		t.Errorf("joined counts %v, want [3]", c.joined)
	}
}

func bodies(b *record.Batch) []string {
	var s []string
	for _, r := range b.Records {
		s = append(s, string(r.Body))
	}
	return s
}

// stdout and stderr lines of one file never join, and a stderr line that
// goes out while a stdout exception waits cannot move the file's restart
// offset past the exception's start.
func TestStreamsApart(t *testing.T) {
	s := dotnetStage(t, Limits{FlushTimeout: time.Hour}, nil)
	in, out, stop := run(t, s)
	var a acks
	out1 := lines("stdout", 0, trace)
	var recs []record.Record
	recs = append(recs, out1[0])
	recs = append(recs, lines("stderr", out1[0].Next, "   at looks like a frame but is stderr")...)
	e1 := recs[1]
	for _, r := range out1[1:] {
		r.Offset += e1.Next - e1.Offset
		r.Next += e1.Next - e1.Offset
		recs = append(recs, r)
	}
	recs = append(recs, lines("stderr", recs[len(recs)-1].Next, "warning: disk slow")...)
	in <- a.batch("b1", recs)
	b := recv(t, out)
	// The stderr "frame" waits as its own event until the next stderr line.
	if len(b.Records) != 1 || string(b.Records[0].Body) != "   at looks like a frame but is stderr" {
		t.Fatalf("out: %q", bodies(b))
	}
	if b.Records[0].Next != recs[0].Offset {
		t.Errorf("stderr record's restart offset %d, want the waiting exception's start %d", b.Records[0].Next, recs[0].Offset)
	}
	stop()
	b2 := recv(t, out)
	got := strings.Join(bodies(b2), "|")
	if !strings.Contains(got, trace) || !strings.Contains(got, "warning: disk slow") || len(b2.Records) != 2 {
		t.Fatalf("at the end: %q", bodies(b2))
	}
}

// An event that nothing continues goes out after the flush timeout, not
// only when the next line comes.
func TestFlushTimeout(t *testing.T) {
	s := dotnetStage(t, Limits{FlushTimeout: 20 * time.Millisecond}, nil)
	in, out, _ := run(t, s)
	var a acks
	in <- a.batch("b1", lines("stdout", 0, trace))
	b := recv(t, out)
	if len(b.Records) != 1 || string(b.Records[0].Body) != trace {
		t.Fatalf("flushed %q", bodies(b))
	}
	b.Ack()
	if acked, _ := a.get(); acked != "b1" {
		t.Errorf("acknowledged %q, want b1", acked)
	}
}

// An event longer than MaxLines is cut there, counted, and the rest
// begins the next event; no line is lost.
func TestMaxLines(t *testing.T) {
	var c counter
	s := dotnetStage(t, Limits{MaxLines: 2, FlushTimeout: time.Hour}, &c)
	in, out, stop := run(t, s)
	var a acks
	in <- a.batch("b1", lines("stdout", 0, trace))
	stop()
	var got []string
	for b := range out {
		got = append(got, bodies(b)...)
		b.Ack()
	}
	all := strings.Join(got, "\n")
	if all != trace || len(got) != 2 {
		t.Fatalf("records %q, want the trace in two", got)
	}
	if len(c.cuts) != 1 || c.cuts[0] != CutMaxLines {
		t.Errorf("cuts %v", c.cuts)
	}
	if acked, _ := a.get(); acked != "b1" {
		t.Errorf("acknowledged %q", acked)
	}
}

// A refused output batch makes its input batches be read again.
func TestNackReachesTheInput(t *testing.T) {
	s := dotnetStage(t, Limits{FlushTimeout: time.Hour}, nil)
	in, out, stop := run(t, s)
	var a acks
	in <- a.batch("b1", lines("stdout", 0, "one\ntwo"))
	b := recv(t, out)
	b.Nack()
	stop()
	for b := range out {
		b.Ack()
	}
	if acked, bad := a.get(); acked != "" || bad != "b1" {
		t.Errorf("acknowledged %q, refused %q; want b1 refused", acked, bad)
	}
}

// A rotation in the middle of an event ends it: lines of two files are
// never one record.
func TestNewFileEndsEvent(t *testing.T) {
	s := dotnetStage(t, Limits{FlushTimeout: time.Hour}, nil)
	in, out, stop := run(t, s)
	var a acks
	recs := lines("stdout", 0, trace)
	recs[2].Source = &record.Source{Dev: 1, Ino: 3}
	in <- a.batch("b1", recs)
	stop()
	var got []string
	for b := range out {
		got = append(got, bodies(b)...)
	}
	if len(got) != 2 || got[1] != string(recs[2].Body) {
		t.Fatalf("records %q", got)
	}
}

// Files without a rule pass through as the same batch.
func TestNoRulePassesThrough(t *testing.T) {
	s := dotnetStage(t, Limits{}, nil)
	in, out, _ := run(t, s)
	recs := lines("stdout", 0, trace)
	for i := range recs {
		recs[i].Path = "/var/log/pods/other_web-1_0f3c2a4e-1111-4222-8333-944455556666/app/0.log"
	}
	b := record.NewBatch(recs, nil)
	in <- b
	if got := recv(t, out); got != b || len(got.Records) != 3 {
		t.Fatalf("got another batch (%d records)", len(got.Records))
	}
}

type pods map[string]*podmeta.Pod

func (p pods) Pod(ns, name string) (*podmeta.Pod, bool) { v, ok := p[ns+"/"+name]; return v, ok }
func (p pods) PodByUID(uid string) (*podmeta.Pod, bool) {
	for _, v := range p {
		if v.UID == uid {
			return v, true
		}
	}
	return nil, false
}
func (p pods) Changed() <-chan struct{} { return nil }

// A pod's sluice.io/multiline annotation wins over the patterns, for that
// pod only; an invalid one is ignored.
func TestAnnotation(t *testing.T) {
	py := `Traceback (most recent call last):
  File "/app/main.py", line 3, in <module>
ValueError: order 42`
	for _, tc := range []struct {
		annotation string
		want       int
	}{{"python", 1}, {"cobol", 3}, {"", 3}} {
		p := pods{"shop/web-1": {Namespace: "shop", Name: "web-1", UID: "0f3c2a4e-1111-4222-8333-944455556666", Multiline: tc.annotation}}
		s := NewStage(Config{Pods: p, Limits: Limits{FlushTimeout: time.Hour}})
		in, out, stop := run(t, s)
		in <- record.NewBatch(lines("stdout", 0, py), nil)
		stop()
		n := 0
		for b := range out {
			n += len(b.Records)
		}
		if n != tc.want {
			t.Errorf("annotation %q: %d records, want %d", tc.annotation, n, tc.want)
		}
	}
}

// Records are parsed after joining, by the format their file's pattern or
// pod annotation names, and LogMonitor's lines wherever they are when the
// base format is Auto; a plain line is left as it is.
func TestParsing(t *testing.T) {
	pat, err := glob.Compile("/var/log/pods/shop_*/*/*.log", glob.Unix)
	if err != nil {
		t.Fatal(err)
	}
	var c counter
	p := pods{"web/api-0": {Namespace: "web", Name: "api-0", UID: "1f3c2a4e-1111-4222-8333-944455556666", Parse: "json"}}
	s := NewStage(Config{Patterns: []Pattern{{Match: pat, Format: structured.JSON}}, Pods: p, Format: structured.Auto, Events: &c})
	in, out, stop := run(t, s)
	at := func(path, body string) record.Record {
		return record.Record{Body: []byte(body), Stream: "stdout", Path: path, Source: src, Next: 1}
	}
	const (
		shop  = path
		api   = "/var/log/pods/web_api-0_1f3c2a4e-1111-4222-8333-944455556666/app/0.log"
		other = "/var/log/pods/iis_web-0_2f3c2a4e-1111-4222-8333-944455556666/iis/0.log"
	)
	in <- record.NewBatch([]record.Record{
		at(shop, `{"level":"error","msg":"payment failed","order":42}`),
		at(api, `{"msg":"from the annotation"}`),
		at(other, `{"Source":"EventLog","LogEntry":{"Channel":"Application","Level":"Error","EventId":1000,"Message":"Faulting application w3wp.exe"}}`),
		at(other, `{"msg":"JSON, but nothing asks for it here"}`),
		at(other, "plain text"),
	}, nil)
	stop()
	var got []record.Record
	for b := range out {
		got = append(got, b.Records...)
	}
	if len(got) != 5 {
		t.Fatalf("%d records", len(got))
	}
	attr := func(r record.Record, key string) string {
		for _, a := range r.Attrs {
			if a.Key == key {
				return a.Value
			}
		}
		return ""
	}
	if string(got[0].Body) != "payment failed" || attr(got[0], "level") != "error" || attr(got[0], "json.order") != "42" {
		t.Errorf("pattern json: %q %v", got[0].Body, got[0].Attrs)
	}
	if string(got[1].Body) != "from the annotation" {
		t.Errorf("annotation json: %q", got[1].Body)
	}
	if string(got[2].Body) != "Faulting application w3wp.exe" || attr(got[2], "windows.event.id") != "1000" || attr(got[2], "windows.event.channel") != "Application" {
		t.Errorf("logmonitor: %q %v", got[2].Body, got[2].Attrs)
	}
	if string(got[3].Body) != `{"msg":"JSON, but nothing asks for it here"}` || string(got[4].Body) != "plain text" || len(got[3].Attrs)+len(got[4].Attrs) != 0 {
		t.Errorf("left alone: %q %q", got[3].Body, got[4].Body)
	}
	if strings.Join(c.parsed, ",") != "json/parsed,json/parsed,auto/parsed" {
		t.Errorf("counted %v", c.parsed)
	}
}

// A static pod's log folder carries its config hash, not the mirror pod's
// uid: its annotation is found by name, as enrichment finds its metadata.
func TestAnnotationOfStaticPod(t *testing.T) {
	p := pods{"shop/web-1": {Namespace: "shop", Name: "web-1", UID: "mirror-pod-uid", Multiline: "dotnet"}}
	s := NewStage(Config{Pods: p, Limits: Limits{FlushTimeout: time.Hour}})
	in, out, stop := run(t, s)
	in <- record.NewBatch(lines("stdout", 0, trace), nil)
	stop()
	n := 0
	for b := range out {
		n += len(b.Records)
	}
	if n != 1 {
		t.Errorf("%d records, want the trace as one", n)
	}
}

// The event kept for reuse holds nothing of the batch it came from: with
// a thousand quiet files, each path's spare would otherwise keep its last
// input batch, and the tailer's read slab that batch points into, alive.
func TestSpareEventHoldsNoBatch(t *testing.T) {
	s := dotnetStage(t, Limits{}, nil)
	out := make(chan *record.Batch, 4)
	var a acks
	if !s.handle(context.Background(), out, a.batch("1", lines("stdout", 0, trace))) {
		t.Fatal("handle refused the batch")
	}
	if !s.flush(context.Background(), out, time.Time{}) {
		t.Fatal("flush failed")
	}
	ps := s.paths[path]
	if ps == nil || ps.spare == nil {
		t.Fatal("no spare event after an event ended")
	}
	if sp := ps.spare; sp.body != nil || sp.first.Source != nil || sp.first.Path != "" || len(sp.refs) != 0 || slices.ContainsFunc(sp.refs[:cap(sp.refs)], func(r *inRef) bool { return r != nil }) {
		t.Fatalf("the spare event still holds its input: body %q, source %v, path %q, refs %v", sp.body, sp.first.Source, sp.first.Path, sp.refs[:cap(sp.refs)])
	}
}

// Package parse shapes records between enrichment and the buffer: it joins
// the lines of one event (a stack trace) into one record, per file and
// stream, by the rules of package multiline, and then takes structured
// lines apart (JSON, LogMonitor) with package structured; both chosen per
// file by a path pattern or by the pod's sluice.io/multiline and
// sluice.io/parse annotations.
//
// Guarantees, on top of enrichment's: no line is lost or acknowledged
// early. An input batch is acknowledged only when every record made from
// its lines is durable, so a line waiting for the rest of its event holds
// back its file's checkpoint; and the restart offset (Record.Next) of a
// record that goes out while an earlier line of its file still waits is
// held at that line's offset, so a restart after a crash reads the waiting
// event again whole. A joined record keeps its first line's time, offset,
// source and attributes, and the last line's restart offset. Lines of
// stdout and stderr never mix, nor lines of two different files (a
// rotation in the middle of an event ends it). An event is cut at
// MaxLines lines or MaxBytes bytes (counted), and goes out when no line
// has continued it for FlushTimeout, so a trailing stack trace is never
// held indefinitely.
package parse

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sluicelog/sluice/enrich"
	"github.com/sluicelog/sluice/enrich/kubepath"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/parse/multiline"
	"github.com/sluicelog/sluice/parse/structured"
	"github.com/sluicelog/sluice/record"
)

// Defaults for Limits.
const (
	DefaultMaxLines     = 500
	DefaultMaxBytes     = 1 << 20
	DefaultFlushTimeout = time.Second
)

// Limits bound one event.
type Limits struct {
	MaxLines     int           // 0 means DefaultMaxLines
	MaxBytes     int           // 0 means DefaultMaxBytes
	FlushTimeout time.Duration // 0 means DefaultFlushTimeout
}

func (l Limits) withDefaults() Limits {
	if l.MaxLines <= 0 {
		l.MaxLines = DefaultMaxLines
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.FlushTimeout <= 0 {
		l.FlushTimeout = DefaultFlushTimeout
	}
	return l
}

// Pattern gives the files whose path matches Match their rule.
type Pattern struct {
	Match     *glob.Pattern
	Multiline *multiline.Rule // nil: lines stay apart
	Limits    Limits
	Format    structured.Format // how the records are parsed once joined
}

// Cut reasons, metric label values.
const (
	CutMaxLines = "max_lines"
	CutMaxBytes = "max_bytes"
)

// Events receives what the stage did, for metrics.
type Events interface {
	// Joined reports a record made of lines lines (more than one).
	Joined(lines int)
	// Cut reports an event ended by a limit rather than by its rule.
	Cut(reason string)
	// Parsed reports what structured parsing made of a record, by format
	// and outcome (structured.Outcome's names); records a format does
	// not concern (Skipped) are not reported.
	Parsed(format, outcome string)
}

// Config is what a Stage needs from the daemon.
type Config struct {
	// Patterns are tried in order; the first whose Match matches a
	// record's path decides its rule.
	Patterns []Pattern
	// Pods, when not nil, is asked for the pod of a kubelet log path: its
	// sluice.io/multiline annotation wins over Patterns.
	Pods enrich.PodSource
	// Limits apply to rules chosen by annotation.
	Limits Limits
	// Format is how the records of files that no pattern or annotation
	// gives a format are parsed: structured.Auto finds LogMonitor's lines
	// wherever they are, structured.None leaves them.
	Format structured.Format
	// Parser parses structured lines; nil: structured.New's defaults.
	Parser *structured.Parser
	Events Events       // nil discards
	Logger *slog.Logger // nil discards
}

// Stage joins multiline events; see the package doc.
type Stage struct {
	patterns []Pattern
	pods     enrich.PodSource
	limits   Limits
	events   Events
	log      *slog.Logger
	tick     time.Duration
	parser   *structured.Parser // Run's goroutine only
	base     *plan              // the plan of paths nothing else decides

	batch   uint64                       // counts the batches handled, for state
	paths   map[string]*pathState        // owned by Run's goroutine
	rules   map[string]*multiline.Rule   // annotation → its rule, parsed once
	formats map[string]structured.Format // annotation → its format, 255 for a bad one
	now     func() time.Time
}

// NewStage returns a Stage; Run puts it to work.
func NewStage(c Config) *Stage {
	s := &Stage{
		patterns: c.Patterns, pods: c.Pods, limits: c.Limits.withDefaults(),
		events: c.Events, log: c.Logger, paths: map[string]*pathState{}, rules: map[string]*multiline.Rule{},
		formats: map[string]structured.Format{}, parser: c.Parser, now: time.Now,
	}
	s.base = &plan{limits: s.limits, format: c.Format}
	if s.parser == nil {
		s.parser, _ = structured.New(structured.Options{}) // the defaults are valid
	}
	for i := range s.patterns {
		s.patterns[i].Limits = s.patterns[i].Limits.withDefaults()
	}
	if s.events == nil {
		s.events = nopEvents{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.tick = s.limits.FlushTimeout
	for _, p := range s.patterns {
		s.tick = min(s.tick, p.Limits.FlushTimeout)
	}
	s.tick = max(s.tick/4, 10*time.Millisecond)
	return s
}

// Active reports whether the stage can change anything: with no pattern,
// no pod source and no format for other files it would only pass batches
// on.
func (s *Stage) Active() bool {
	return len(s.patterns) > 0 || s.pods != nil || s.base.format != structured.None
}

// pathState is what the stage knows of one path.
type pathState struct {
	plan    *plan
	pod     *podmeta.Pod // the pod plan was chosen with; a change chooses again
	meta    kubepath.Meta
	kubelet bool
	pending [3]*event // by stream: stdout, stderr, other
	spare   *event    // an event that went out, for the next one to reuse
	seen    time.Time
	batch   uint64 // the batch the pod was last looked up for
}

// plan is how a path's lines are joined (nil rule: not at all) and
// parsed.
type plan struct {
	rule   *multiline.Rule
	limits Limits
	format structured.Format
}

// event is one event being built: its lines' bodies joined by "\n", and
// the input batches its lines came from.
type event struct {
	first record.Record // Body unused
	body  []byte
	lines int
	next  int64
	flags record.Flags
	state multiline.State
	last  time.Time // when its last line arrived
	refs  []*inRef
}

// inRef counts what still holds an input batch back from its Ack: the
// stage while it handles it, each event holding some of its lines, and each
// output batch carrying records of it.
type inRef struct {
	mu     sync.Mutex
	b      *record.Batch
	holds  int
	failed bool
}

func (r *inRef) hold() {
	r.mu.Lock()
	r.holds++
	r.mu.Unlock()
}

// release drops one hold; durable false means the records of that hold
// will not be made safe, and the input must read the batch again.
func (r *inRef) release(durable bool) {
	r.mu.Lock()
	r.holds--
	if !durable {
		r.failed = true
	}
	done, failed := r.holds == 0, r.failed
	r.mu.Unlock()
	switch {
	case failed:
		r.b.Nack() // at once: waiting for the other holds would only delay the re-read
	case done:
		r.b.Ack()
	}
}

// Run moves batches from in to out until in is closed or ctx is done, and
// closes out before it returns. When in is closed, the events still being
// built go out first. When ctx is done they are dropped unacknowledged, so
// their lines are read again after a restart.
func (s *Stage) Run(ctx context.Context, in <-chan *record.Batch, out chan<- *record.Batch) {
	defer close(out)
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case b, open := <-in:
			if !open {
				s.flush(ctx, out, time.Time{})
				return
			}
			if !s.handle(ctx, out, b) {
				return
			}
		case now := <-t.C:
			if !s.flush(ctx, out, now) {
				return
			}
			s.sweep(now)
		}
	}
}

// handle joins b's lines and sends on what is complete.
func (s *Stage) handle(ctx context.Context, out chan<- *record.Batch, b *record.Batch) bool {
	now := s.now()
	s.batch++
	if !s.joins(b, now) {
		s.shapeAll(b.Records, now)
		return send(ctx, out, b)
	}
	ref := &inRef{b: b, holds: 1}
	o := outgoing{recs: make([]record.Record, 0, len(b.Records))}
	direct := false
	var ps *pathState
	for i := range b.Records {
		r := &b.Records[i]
		if ps == nil || r.Path != b.Records[i-1].Path {
			ps = s.state(r.Path, now)
		}
		if ps.plan.rule == nil {
			o.recs, direct = append(o.recs, *r), true
			s.shape(&o.recs[len(o.recs)-1], ps.plan)
			continue
		}
		k := streamIndex(r.Stream)
		if ev := ps.pending[k]; ev != nil {
			st, ok := ps.plan.rule.Continue(ev.state, r.Body)
			if ok && r.Source == ev.first.Source {
				switch {
				case ev.lines >= ps.plan.limits.MaxLines:
					s.events.Cut(CutMaxLines)
				case len(ev.body)+1+len(r.Body) > ps.plan.limits.MaxBytes:
					s.events.Cut(CutMaxBytes)
				default:
					ev.add(r, st, ref, now)
					continue
				}
			}
			s.end(&o, ps, k)
		}
		ps.pending[k] = ps.newEvent(r, ps.plan.rule.Begin(r.Body), ref, now)
	}
	if direct {
		o.refs = addRefs(o.refs, []*inRef{ref})
	}
	o.done = append(o.done, ref) // the stage's own hold, taken over by emit
	return s.emit(ctx, out, &o)
}

// outgoing is what one output batch carries: its records, the input
// batches they were made from, and the holds it takes over (its events',
// and the stage's own on the batch being handled).
type outgoing struct {
	recs       []record.Record
	refs, done []*inRef
}

// end moves the event of ps on stream k into o, parsed, and keeps it for
// the next event to reuse.
func (s *Stage) end(o *outgoing, ps *pathState, k int) {
	ev := ps.pending[k]
	o.recs = append(o.recs, s.finish(ev))
	s.shape(&o.recs[len(o.recs)-1], ps.plan)
	o.refs, o.done = addRefs(o.refs, ev.refs), append(o.done, ev.refs...)
	// Kept for reuse empty: its body, record and refs would keep the input
	// batch, and the tailer's read slab, alive for as long as the file is quiet.
	clear(ev.refs)
	*ev = event{refs: ev.refs[:0]}
	ps.pending[k], ps.spare = nil, ev
}

// release drops a hold on each of refs.
func release(refs []*inRef) {
	for _, r := range refs {
		r.release(true)
	}
}

// shapeAll parses the records of a batch that joins nothing, in place: the
// batch is the stage's until it is sent on.
func (s *Stage) shapeAll(recs []record.Record, now time.Time) {
	var ps *pathState
	for i := range recs {
		r := &recs[i]
		if ps == nil || r.Path != recs[i-1].Path {
			ps = s.state(r.Path, now)
		}
		s.shape(r, ps.plan)
	}
}

// shape parses r as its plan says and counts what came of it.
func (s *Stage) shape(r *record.Record, p *plan) {
	if p.format == structured.None {
		return
	}
	if o := s.parser.Apply(r, p.format); o != structured.Skipped {
		s.events.Parsed(p.format.String(), o.String())
	}
}

// joins reports whether any record of b has a path with a rule.
func (s *Stage) joins(b *record.Batch, now time.Time) bool {
	last := ""
	for i := range b.Records {
		p := b.Records[i].Path
		if i > 0 && p == last {
			continue
		}
		last = p
		if s.state(p, now).plan.rule != nil {
			return true
		}
	}
	return false
}

// emit sends o's records as one batch whose acknowledgement releases a
// hold on each input batch they were made from. The holds in o.done (of
// o's events, and the stage's own on the batch it handled) are dropped
// once that batch has taken over and before it is sent, so no input is
// acknowledged early and the one who acknowledges the batch last also
// acknowledges its inputs, not the stage some time later. Restart offsets
// are held at the first line still waiting in each record's file.
func (s *Stage) emit(ctx context.Context, out chan<- *record.Batch, o *outgoing) bool {
	recs, refs := o.recs, o.refs
	if len(recs) == 0 {
		release(o.done)
		return true
	}
	for i := range recs {
		r := &recs[i]
		if r.Next == 0 {
			continue
		}
		if ps := s.paths[r.Path]; ps != nil {
			for _, ev := range ps.pending {
				if ev != nil && ev.first.Offset < r.Next && ev.first.Source == r.Source {
					r.Next = ev.first.Offset
				}
			}
		}
	}
	for _, r := range refs {
		r.hold()
	}
	b := record.NewBatch(recs, func() { release(refs) }).OnNack(func() {
		for _, r := range refs {
			r.release(false)
		}
	})
	release(o.done)
	return send(ctx, out, b)
}

// flush sends the events that waited FlushTimeout since their last line;
// a zero now sends all.
func (s *Stage) flush(ctx context.Context, out chan<- *record.Batch, now time.Time) bool {
	var o outgoing
	for _, ps := range s.paths {
		for k, ev := range ps.pending {
			if ev == nil || (!now.IsZero() && now.Sub(ev.last) < ps.plan.limits.FlushTimeout) {
				continue
			}
			s.end(&o, ps, k)
		}
	}
	return s.emit(ctx, out, &o)
}

// finish makes ev's record. The holds ev has on its input batches are
// released by emit once the batch carrying the record holds them.
func (s *Stage) finish(ev *event) record.Record {
	r := ev.first
	r.Body, r.Next, r.Flags = ev.body, ev.next, ev.flags
	if ev.lines > 1 {
		s.events.Joined(ev.lines)
	}
	return r
}

// newEvent begins an event with r, reusing the one that went out last.
// Its body is r's own until a second line joins it: r's batch is not
// acknowledged while the event holds it, so the memory stays r's.
func (ps *pathState) newEvent(r *record.Record, st multiline.State, ref *inRef, now time.Time) *event {
	ev := ps.spare
	if ev == nil {
		ev = &event{}
	}
	ps.spare = nil
	*ev = event{first: *r, body: r.Body[:len(r.Body):len(r.Body)], state: st, lines: 1, next: r.Next, flags: r.Flags,
		last: now, refs: append(ev.refs[:0], ref)}
	ev.first.Body = nil
	ref.hold()
	return ev
}

func (ev *event) add(r *record.Record, st multiline.State, ref *inRef, now time.Time) {
	ev.body = append(append(ev.body, '\n'), r.Body...)
	ev.lines++
	ev.next, ev.flags, ev.state, ev.last = r.Next, ev.flags|r.Flags, st, now
	if ev.refs[len(ev.refs)-1] != ref {
		ev.refs = append(ev.refs, ref)
		ref.hold()
	}
}

// addRefs appends the refs of from that dst does not hold yet.
func addRefs(dst, from []*inRef) []*inRef {
	for _, r := range from {
		found := false
		for _, d := range dst {
			if d == r {
				found = true
				break
			}
		}
		if !found {
			dst = append(dst, r)
		}
	}
	return dst
}

func streamIndex(stream string) int {
	switch stream {
	case "stdout":
		return 0
	case "stderr":
		return 1
	}
	return 2
}

// state returns what the stage knows of path, choosing its plan again when
// its pod changed. The pod is looked up once per batch.
func (s *Stage) state(path string, now time.Time) *pathState {
	ps := s.paths[path]
	if ps == nil {
		ps = &pathState{}
		ps.meta, ps.kubelet = kubepath.Parse(path)
		s.paths[path] = ps
	}
	ps.seen = now
	if ps.plan != nil && ps.batch == s.batch {
		return ps // looked up for this batch already
	}
	ps.batch = s.batch
	var pod *podmeta.Pod
	if s.pods != nil && ps.kubelet {
		pod, _ = enrich.FindPod(s.pods, ps.meta)
	}
	if ps.plan == nil || pod != ps.pod {
		ps.pod = pod
		ps.plan = s.choose(path, pod)
	}
	return ps
}

// maxRules bounds the annotation rules kept parsed.
const maxRules = 256

// badFormat marks an annotation value that names no format.
const badFormat structured.Format = 255

// choose picks path's plan: the first matching pattern, overridden by the
// pod's annotations, else the stage's base plan.
func (s *Stage) choose(path string, pod *podmeta.Pod) *plan {
	p := *s.base
	matched := false
	for _, pat := range s.patterns {
		if pat.Match.Match(path) {
			p.rule, p.limits, p.format, matched = pat.Multiline, pat.Limits, pat.Format, true
			break
		}
	}
	if pod != nil {
		if r := s.annotatedRule(pod); r != nil {
			p.rule, p.limits, matched = r, s.limits, true
		}
		if f := s.annotatedFormat(pod); f != badFormat {
			p.format, matched = f, true
		}
	}
	if !matched {
		return s.base
	}
	return &p
}

// annotatedRule is the rule of pod's sluice.io/multiline annotation; nil
// when it has none or a bad one (warned about once).
func (s *Stage) annotatedRule(pod *podmeta.Pod) *multiline.Rule {
	if pod.Multiline == "" {
		return nil
	}
	r, ok := s.rules[pod.Multiline]
	if !ok {
		var err error
		if r, err = multiline.Parse(pod.Multiline, ""); err != nil {
			s.log.Warn("pod annotation "+podmeta.MultilineAnnotation+" ignored", "namespace", pod.Namespace, "pod", pod.Name, "err", err)
		}
		if len(s.rules) >= maxRules {
			clear(s.rules)
		}
		s.rules[pod.Multiline] = r
	}
	return r
}

// annotatedFormat is the format of pod's sluice.io/parse annotation;
// badFormat when it has none or a bad one (warned about once).
func (s *Stage) annotatedFormat(pod *podmeta.Pod) structured.Format {
	if pod.Parse == "" {
		return badFormat
	}
	f, ok := s.formats[pod.Parse]
	if !ok {
		var err error
		if f, err = structured.ParseFormat(pod.Parse); err != nil || f == structured.Auto {
			s.log.Warn("pod annotation "+podmeta.ParseAnnotation+" ignored: want json, logmonitor or none",
				"namespace", pod.Namespace, "pod", pod.Name, "value", pod.Parse)
			f = badFormat
		}
		if len(s.formats) >= maxRules {
			clear(s.formats)
		}
		s.formats[pod.Parse] = f
	}
	return f
}

// idleAfter is how long a path with nothing pending is remembered without
// a batch.
const idleAfter = 5 * time.Minute

// sweep forgets paths idle for idleAfter.
func (s *Stage) sweep(now time.Time) {
	for p, ps := range s.paths {
		if now.Sub(ps.seen) < idleAfter {
			continue
		}
		if ps.pending == [3]*event{} {
			delete(s.paths, p)
		}
	}
}

func send(ctx context.Context, out chan<- *record.Batch, b *record.Batch) bool {
	select {
	case out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

type nopEvents struct{}

func (nopEvents) Joined(int)            {}
func (nopEvents) Cut(string)            {}
func (nopEvents) Parsed(string, string) {}

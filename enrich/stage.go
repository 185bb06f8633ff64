package enrich

import (
	"context"
	"log/slog"
	"time"

	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// PodSource is what the Stage needs from a pod cache; *podcache.Cache is
// one. Implementations must be safe for concurrent use, and lookups must
// answer from memory: the Stage makes one per batch.
type PodSource interface {
	// Pod returns the pod called name in namespace.
	Pod(namespace, name string) (*podmeta.Pod, bool)
	// PodByUID returns the pod whose metadata.uid is uid.
	PodByUID(uid string) (*podmeta.Pod, bool)
	// Changed returns a channel that is closed when the source next learns
	// of a new or changed pod; call it again for the change after that. It
	// lets held batches go as soon as their pod shows up.
	Changed() <-chan struct{}
}

// Defaults for StageConfig.
const (
	// DefaultWait is long enough for a new pod's informer event to arrive
	// (usually well under a second) and short enough that a file of a pod
	// the API server never reports is not noticeably late.
	DefaultWait = 5 * time.Second
	// DefaultMaxHeld batches per file: about a minute of a busy file's reads
	// at the tailer's poll rate, far more than Wait lets pile up.
	DefaultMaxHeld = 64
	// DefaultMaxHeldBytes of record bodies per file.
	DefaultMaxHeldBytes = 8 << 20
	// DefaultNodeMaxHeldBytes of record bodies held by all files together:
	// what thousands of new files at once (an API server outage on a busy
	// node) may pin in memory while their pods are unknown.
	DefaultNodeMaxHeldBytes = 64 << 20
)

// StageConfig is what a Stage needs from the daemon.
type StageConfig struct {
	Node string    // the node's name, for records the pod cache cannot enrich; none when empty
	Pods PodSource // nil: path-derived attributes only, and nothing is ever held
	// Keys names the attributes; empty names take their defaults. Give the
	// pod cache the same Keys, or path-derived and cache-derived records
	// disagree on names.
	Keys podmeta.Keys
	// Wait bounds how long a file's batches are held waiting for its pod,
	// counted from the first batch held. 0 means DefaultWait; negative
	// means never hold.
	Wait         time.Duration
	MaxHeld      int // batches held per file before the oldest goes early; 0 means DefaultMaxHeld
	MaxHeldBytes int // body bytes held per file before the oldest goes early; 0 means DefaultMaxHeldBytes
	// NodeMaxHeldBytes bounds the body bytes held by all files together;
	// past it the oldest held batch of any file goes early. 0 means
	// DefaultNodeMaxHeldBytes.
	NodeMaxHeldBytes int
	Events           Events       // nil discards events
	Logger           *slog.Logger // nil discards; one line per file released early
}

// Stage enriches the batches flowing from the inputs to the buffer with pod
// metadata, holding a file's batches back for a short while when the pod
// cache does not know the file's pod yet (a pod that has just started).
//
// Guarantees: until Run's context ends, every batch that comes in goes out,
// once, the same *Batch with the same records in the same order; batches of one path go out in the
// order they came in; batches of other paths are never held behind a held
// one. A path's batches are held at most Wait from the first one held (plus
// one check interval, Wait/10 between 10ms and 1s), at most MaxHeld batches
// or MaxHeldBytes bytes; past that the oldest goes early. All paths together
// hold at most NodeMaxHeldBytes; past that the oldest held batch of any path
// goes early. A batch that goes early carries path-derived attributes and
// is counted as MissHoldFull; it is never dropped. The Stage never
// calls Ack: the buffer acknowledges a batch once it is durable, so a held
// batch also holds back its file's checkpoint.
//
// After a file's wait ran out, its later batches are not held again until
// its pod has been seen: they go out at once with what is known (checked
// per batch, a map lookup), and in full as soon as the cache has the pod.
type Stage struct {
	pods         PodSource
	keys         podmeta.Keys
	node         string
	wait         time.Duration
	maxHeld      int
	maxHeldBytes int
	nodeMaxHeld  int
	events       Events
	log          *slog.Logger

	paths   map[string]*pathState // owned by Run's goroutine, as is everything below
	holding map[*pathState]struct{}
	order   heldOrder // every held batch, oldest first, for NodeMaxHeldBytes
	// gen counts sweeps of paths; a path that saw no batch since the
	// previous sweep is forgotten by the next one.
	gen       uint64
	nextSweep time.Time
	// watch is the source's Changed channel, taken before the lookups that
	// decided to hold, so that a pod added after them cannot go unnoticed.
	watch <-chan struct{}

	now  func() time.Time
	tick <-chan time.Time // nil: Run starts a ticker; tests set their own
}

// NewStage returns a Stage; Run puts it to work.
func NewStage(c StageConfig) *Stage {
	s := &Stage{
		pods:         c.Pods,
		keys:         c.Keys.WithDefaults(),
		node:         c.Node,
		wait:         orDefault(c.Wait, DefaultWait),
		maxHeld:      orDefault(c.MaxHeld, DefaultMaxHeld),
		maxHeldBytes: orDefault(c.MaxHeldBytes, DefaultMaxHeldBytes),
		nodeMaxHeld:  orDefault(c.NodeMaxHeldBytes, DefaultNodeMaxHeldBytes),
		events:       orNop(c.Events),
		log:          c.Logger,
		paths:        make(map[string]*pathState),
		holding:      make(map[*pathState]struct{}),
		now:          time.Now,
	}
	if s.pods == nil {
		s.wait = -1
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Run moves batches from in to out, enriching them, until in is closed or
// ctx is done, and closes out before it returns. When in is closed, what is
// still held goes out at once, enriched as far as the cache allows by then.
// When ctx is done, Run returns promptly; what it holds then is neither
// forwarded nor acknowledged, so those lines are read again after a
// restart. Run must be called once.
func (s *Stage) Run(ctx context.Context, in <-chan *record.Batch, out chan<- *record.Batch) {
	defer close(out)
	tick, stop := s.ticker()
	defer stop()
	for {
		var changed <-chan struct{}
		if len(s.holding) > 0 {
			changed = s.watch
		}
		ok := true
		select {
		case <-ctx.Done():
			return
		case b, open := <-in:
			if !open {
				s.releaseAll(ctx, out)
				return
			}
			ok = s.handle(ctx, out, b)
		case <-changed:
			ok = s.recheck(ctx, out, s.now())
		case now := <-tick:
			ok = s.recheck(ctx, out, now)
		}
		if !ok {
			return
		}
	}
}

// ticker returns the channel that paces expiry checks; nil (never ready)
// when nothing can be held.
func (s *Stage) ticker() (<-chan time.Time, func()) {
	if s.tick != nil || s.wait <= 0 {
		return s.tick, func() {}
	}
	t := time.NewTicker(min(max(s.wait/10, 10*time.Millisecond), time.Second))
	return t.C, t.Stop
}

// handle enriches b and sends it on, or holds it.
func (s *Stage) handle(ctx context.Context, out chan<- *record.Batch, b *record.Batch) bool {
	if len(b.Records) == 0 {
		return s.send(ctx, out, b)
	}
	st := s.state(b.Records[0].Path)
	st.gen = s.gen
	if len(st.held) > 0 {
		return s.hold(ctx, out, st, b) // behind its file's earlier batches
	}
	mayHold := s.mayHold(st)
	if mayHold && s.watch == nil {
		s.watch = s.pods.Changed()
	}
	attrs, found := s.attrs(st)
	if !found && mayHold {
		st.since = s.now()
		s.holding[st] = struct{}{}
		return s.hold(ctx, out, st, b)
	}
	s.apply(b, attrs)
	return s.send(ctx, out, b)
}

// recheck releases the held files whose pod is now known or whose wait
// has run out.
func (s *Stage) recheck(ctx context.Context, out chan<- *record.Batch, now time.Time) bool {
	s.sweep(now)
	if s.pods != nil {
		s.watch = s.pods.Changed()
	}
	for st := range s.holding {
		attrs, found := s.attrs(st)
		if !found {
			if now.Sub(st.since) < s.wait {
				continue
			}
			st.missed = true
			s.events.Miss(MissPodNotFound)
		}
		if !s.releaseHeld(ctx, out, st, attrs) {
			return false
		}
	}
	return true
}

// releaseAll sends everything held, for a shutdown that has no more input.
func (s *Stage) releaseAll(ctx context.Context, out chan<- *record.Batch) {
	for st := range s.holding {
		attrs, found := s.attrs(st)
		if !found {
			s.events.Miss(MissPodNotFound)
		}
		if !s.releaseHeld(ctx, out, st, attrs) {
			return
		}
	}
}

// apply sets the records' attributes. Records are compared with the first
// one's path, not the cached copy, because the tailer gives a batch's
// records one string and equal pointers compare at once.
func (s *Stage) apply(b *record.Batch, attrs []record.Attr) {
	first := b.Records[0].Path
	for i := range b.Records {
		r := &b.Records[i]
		a := attrs
		if r.Path != first {
			a, _ = s.attrs(s.state(r.Path))
		}
		r.Attrs = appendShared(r.Attrs, a)
	}
}

func (s *Stage) send(ctx context.Context, out chan<- *record.Batch, b *record.Batch) bool {
	select {
	case out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

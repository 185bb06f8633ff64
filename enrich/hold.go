package enrich

import (
	"context"
	"strings"
	"time"

	"github.com/sluicelog/sluice/enrich/kubepath"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// pathState is what the Stage knows about one log path: what its path says,
// the attributes last built for it, and the batches it holds.
type pathState struct {
	path   string
	meta   kubepath.Meta
	parsed bool
	base   []record.Attr // path-derived, for when the pod is not known; see Stage.base
	// baseMade says base was made (it may be nil: no keys to fill).
	baseMade bool

	pod   *podmeta.Pod  // the pod attrs were built from; nil before the first hit
	attrs []record.Attr // for pod; rebuilt only when the cache hands out another *Pod

	missed    bool // its wait ran out and the pod has not been seen since
	held      []heldBatch
	heldBytes int
	since     time.Time // when the first of held was held
	warned    bool      // a batch of it went early and that was logged

	gen uint64 // the Stage's sweep generation at its last batch
}

// heldBatch is a batch waiting for its pod, with its body bytes and its
// place in the order of all held batches.
type heldBatch struct {
	b     *record.Batch
	bytes int
	seq   uint64
}

// heldOrder lists every held batch across paths, oldest first, so that the
// node-wide cap finds the oldest at once. Batches that left by another way
// (their pod came, their wait ran out) stay listed until they reach the
// front or a compaction, and are recognised as gone by their seq: a path's
// batches leave from its front only, so an entry is live exactly when its
// seq is at least that of its path's first held batch.
type heldOrder struct {
	refs  []heldRef
	seq   uint64 // of the last batch held
	bytes int    // body bytes held, all paths
	n     int    // batches held, all paths
}

type heldRef struct {
	st  *pathState
	seq uint64
}

func (r heldRef) live() bool {
	return len(r.st.held) > 0 && r.seq >= r.st.held[0].seq
}

// add lists a batch held by st and returns its seq.
func (o *heldOrder) add(st *pathState, bytes int) uint64 {
	o.seq++
	o.refs = append(o.refs, heldRef{st, o.seq})
	o.bytes += bytes
	o.n++
	// Entries that left by another way are dropped once they outnumber
	// the live ones, so the list stays within twice what is held plus a
	// constant, at amortized O(1) per batch.
	if len(o.refs) > 2*o.n+64 {
		live := o.refs[:0]
		for _, r := range o.refs {
			if r.live() {
				live = append(live, r)
			}
		}
		clear(o.refs[len(live):])
		o.refs = live
	}
	return o.seq
}

// oldest returns the path whose first held batch is the oldest held by
// any path. Something must be held.
func (o *heldOrder) oldest() *pathState {
	for !o.refs[0].live() {
		o.refs[0] = heldRef{}
		o.refs = o.refs[1:]
	}
	return o.refs[0].st
}

// state returns the state for path, parsing it the first time it is seen.
func (s *Stage) state(path string) *pathState {
	if st, ok := s.paths[path]; ok {
		return st
	}
	// The state outlives the batch and its strings are substrings of the
	// key, so a copy keeps it from pinning a larger string the path was cut
	// from.
	path = strings.Clone(path)
	m, ok := kubepath.Parse(path)
	if !ok {
		s.events.Miss(MissPathUnparsed)
	}
	// A new path is when the map grows, so sweeping here too bounds it
	// even when no ticker runs (nothing is ever held without a pod source).
	s.sweep(s.now())
	if len(s.paths) >= maxPaths {
		s.forgetIdle()
	}
	st := &pathState{path: path, meta: m, parsed: ok, gen: s.gen}
	s.paths[path] = st
	return st
}

// forgetIdle empties the path map of everything not holding batches. A node
// has far fewer live log files than maxPaths, so this is rare, and it keeps
// the map bounded without bookkeeping on the hit path.
func (s *Stage) forgetIdle() {
	for p, st := range s.paths {
		if len(st.held) == 0 {
			delete(s.paths, p)
		}
	}
}

// mayHold reports whether a batch of st may wait for its pod.
func (s *Stage) mayHold(st *pathState) bool {
	return s.wait > 0 && st.parsed && !st.missed
}

// attrs returns the attributes for st's records and whether the pod cache
// knows its pod. On a hit the slice is the one built before unless the
// cache has replaced the pod since: no allocation.
func (s *Stage) attrs(st *pathState) ([]record.Attr, bool) {
	p, ok := s.lookup(st)
	if !ok {
		return s.base(st), false
	}
	st.missed = false
	if p != st.pod {
		st.pod, st.attrs = p, p.RecordAttrs(s.keys, st.meta.Container, st.meta.ContainerID)
	}
	return st.attrs, true
}

// base returns st's path-derived attributes, made the first time a batch
// of st goes out without its pod: most paths' pods are known, and with
// a thousand quiet files the slices nobody used were a fifth of the
// stage's memory.
func (s *Stage) base(st *pathState) []record.Attr {
	if !st.baseMade {
		st.base, st.baseMade = pathAttrs(s.keys, st.meta, st.parsed, s.node), true
	}
	return st.base
}

// lookup finds st's pod.
func (s *Stage) lookup(st *pathState) (*podmeta.Pod, bool) {
	if s.pods == nil || !st.parsed {
		return nil, false
	}
	return FindPod(s.pods, st.meta)
}

// FindPod finds the pod of the log path m was parsed from: by uid when the
// path has one, since a name may have been reused by a newer pod, then by
// name, since a static pod's directory carries its config hash rather than
// the mirror pod's uid.
func FindPod(pods PodSource, m kubepath.Meta) (*podmeta.Pod, bool) {
	if m.PodUID != "" {
		if p, ok := pods.PodByUID(m.PodUID); ok && p.Namespace == m.Namespace && p.Name == m.Pod {
			return p, true
		}
	}
	return pods.Pod(m.Namespace, m.Pod)
}

// hold queues b behind st's held batches, letting the oldest go early, with
// path-derived attributes, when st holds too much, then the oldest of all
// paths while all of them together hold too much.
func (s *Stage) hold(ctx context.Context, out chan<- *record.Batch, st *pathState, b *record.Batch) bool {
	n := bodyBytes(b)
	st.held = append(st.held, heldBatch{b: b, bytes: n, seq: s.order.add(st, n)})
	st.heldBytes += n
	for len(st.held) > 0 && (len(st.held) > s.maxHeld || st.heldBytes > s.maxHeldBytes) {
		if !s.releaseFirst(ctx, out, st, "per file") {
			return false
		}
	}
	for s.order.bytes > s.nodeMaxHeld {
		if !s.releaseFirst(ctx, out, s.order.oldest(), "node") {
			return false
		}
	}
	return true
}

// releaseFirst sends st's oldest held batch early, without pod metadata,
// because limit (per file or node) was reached. Later batches of st stay
// behind it, so the file's order holds.
func (s *Stage) releaseFirst(ctx context.Context, out chan<- *record.Batch, st *pathState, limit string) bool {
	first := st.held[0]
	st.held[0] = heldBatch{}
	st.held = st.held[1:]
	st.heldBytes -= first.bytes
	s.order.bytes -= first.bytes
	s.order.n--
	if len(st.held) == 0 {
		s.stopHolding(st)
	}
	s.events.Miss(MissHoldFull)
	if !st.warned {
		// Once per file: under an API server outage every file of a busy
		// node goes this way, batch after batch.
		st.warned = true
		s.log.Warn("too many lines held waiting for pod metadata; this file's oldest go out with path fields only (counted as hold_full)",
			"path", st.path, "limit", limit, "held_bytes", s.order.bytes, "node_max_held_bytes", s.nodeMaxHeld)
	}
	s.apply(first.b, s.base(st))
	return s.send(ctx, out, first.b)
}

// releaseHeld sends all of st's held batches, in order, with attrs.
func (s *Stage) releaseHeld(ctx context.Context, out chan<- *record.Batch, st *pathState, attrs []record.Attr) bool {
	for i, h := range st.held {
		s.apply(h.b, attrs)
		if !s.send(ctx, out, h.b) {
			st.held = st.held[i:]
			return false
		}
	}
	s.stopHolding(st)
	return true
}

func (s *Stage) stopHolding(st *pathState) {
	s.order.bytes -= st.heldBytes
	s.order.n -= len(st.held)
	clear(st.held)
	st.held, st.heldBytes = st.held[:0], 0
	delete(s.holding, st)
}

func bodyBytes(b *record.Batch) int {
	n := 0
	for i := range b.Records {
		n += len(b.Records[i].Body)
	}
	return n
}

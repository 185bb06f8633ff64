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
	base   []record.Attr // path-derived, for when the pod is not known

	pod   *podmeta.Pod  // the pod attrs were built from; nil before the first hit
	attrs []record.Attr // for pod; rebuilt only when the cache hands out another *Pod

	missed    bool // its wait ran out and the pod has not been seen since
	held      []*record.Batch
	heldBytes int
	since     time.Time // when the first of held was held
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
	if len(s.paths) >= maxPaths {
		s.forgetIdle()
	}
	st := &pathState{path: path, meta: m, parsed: ok, base: pathAttrs(s.keys, m, ok, s.node)}
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
		return st.base, false
	}
	st.missed = false
	if p != st.pod {
		st.pod, st.attrs = p, p.RecordAttrs(s.keys, st.meta.Container, st.meta.ContainerID)
	}
	return st.attrs, true
}

// lookup finds st's pod: by uid when the path has one, since a name may
// have been reused by a newer pod, then by name, since a static pod's
// directory carries its config hash rather than the mirror pod's uid.
func (s *Stage) lookup(st *pathState) (*podmeta.Pod, bool) {
	if s.pods == nil || !st.parsed {
		return nil, false
	}
	m := st.meta
	if m.PodUID != "" {
		if p, ok := s.pods.PodByUID(m.PodUID); ok && p.Namespace == m.Namespace && p.Name == m.Pod {
			return p, true
		}
	}
	return s.pods.Pod(m.Namespace, m.Pod)
}

// hold queues b behind st's held batches, letting the oldest go early, with
// path-derived attributes, when st holds too much.
func (s *Stage) hold(ctx context.Context, out chan<- *record.Batch, st *pathState, b *record.Batch) bool {
	st.held = append(st.held, b)
	st.heldBytes += bodyBytes(b)
	for len(st.held) > 0 && (len(st.held) > s.maxHeld || st.heldBytes > s.maxHeldBytes) {
		first := st.held[0]
		st.held[0] = nil
		st.held = st.held[1:]
		st.heldBytes -= bodyBytes(first)
		s.events.Miss(MissHoldFull)
		s.apply(first, st.base)
		if !s.send(ctx, out, first) {
			return false
		}
	}
	if len(st.held) == 0 {
		s.stopHolding(st)
	}
	return true
}

// releaseHeld sends all of st's held batches, in order, with attrs.
func (s *Stage) releaseHeld(ctx context.Context, out chan<- *record.Batch, st *pathState, attrs []record.Attr) bool {
	for i, b := range st.held {
		s.apply(b, attrs)
		if !s.send(ctx, out, b) {
			st.held = st.held[i:]
			return false
		}
	}
	s.stopHolding(st)
	return true
}

func (s *Stage) stopHolding(st *pathState) {
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

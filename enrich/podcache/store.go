package podcache

import (
	"slices"
	"sync"
	"time"

	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// store is the cache's own lookup maps: the enrichment hot path reads them
// under a read lock, never the informer's indexer (which would cost a key
// string per lookup and knows nothing of deleted pods kept for a while).
type store struct {
	mu      sync.RWMutex
	byName  map[nsName]*entry
	byUID   map[string]*entry
	nsAttrs map[string][]record.Attr // each namespace's labels, ready to append
	changed chan struct{}            // closed and replaced at every change of what lookups answer
}

type nsName struct{ namespace, name string }

// entry is one pod. Its fields change only under store.mu's write lock.
type entry struct {
	base    *podmeta.Pod // as the informer stores it
	pod     *podmeta.Pod // base with its namespace's labels; base itself when there are none
	deleted time.Time    // zero while the API server has it
}

func newStore() *store {
	return &store{
		byName:  make(map[nsName]*entry),
		byUID:   make(map[string]*entry),
		nsAttrs: make(map[string][]record.Attr),
		changed: make(chan struct{}),
	}
}

func (s *store) get(namespace, name string) (*podmeta.Pod, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e, ok := s.byName[nsName{namespace, name}]; ok {
		return e.pod, true
	}
	return nil, false
}

func (s *store) getUID(uid string) (*podmeta.Pod, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e, ok := s.byUID[uid]; ok {
		return e.pod, true
	}
	return nil, false
}

// base returns the pod with uid as the informer last stored it.
func (s *store) base(uid string) (*podmeta.Pod, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e, ok := s.byUID[uid]; ok {
		return e.base, true
	}
	return nil, false
}

func (s *store) changes() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.changed
}

// put adds or replaces a pod and returns how many pods are cached. A newer
// pod of the same name takes over the name; the older one stays reachable
// by uid until it is purged.
func (s *store) put(p *podmeta.Pod) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byUID[p.UID]
	if ok && e.base == p && e.deleted.IsZero() {
		return len(s.byUID) // a resync, or an update to something sluice does not keep
	}
	if !ok {
		e = &entry{}
		s.byUID[p.UID] = e
	}
	e.base, e.pod, e.deleted = p, withNamespaceLabels(p, s.nsAttrs[p.Namespace]), time.Time{}
	s.byName[nsName{p.Namespace, p.Name}] = e
	s.notify()
	return len(s.byUID)
}

// markDeleted starts a deleted pod's grace period.
func (s *store) markDeleted(uid string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byUID[uid]; ok && e.deleted.IsZero() {
		e.deleted = now
		s.notify()
	}
}

// purge removes pods deleted at or before cutoff and returns how many are
// left and how many went.
func (s *store) purge(cutoff time.Time) (left, purged int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for uid, e := range s.byUID {
		if e.deleted.IsZero() || e.deleted.After(cutoff) {
			continue
		}
		delete(s.byUID, uid)
		key := nsName{e.base.Namespace, e.base.Name}
		if s.byName[key] == e {
			delete(s.byName, key)
		}
		purged++
	}
	if purged > 0 {
		s.notify()
	}
	return len(s.byUID), purged
}

// setNamespace records a namespace's labels (nil when it is gone) and
// rebuilds its pods if they changed.
func (s *store) setNamespace(ns string, attrs []record.Attr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Equal(s.nsAttrs[ns], attrs) {
		return
	}
	if attrs == nil {
		delete(s.nsAttrs, ns)
	} else {
		s.nsAttrs[ns] = attrs
	}
	n := 0
	for _, e := range s.byUID {
		if e.base.Namespace == ns {
			e.pod = withNamespaceLabels(e.base, attrs)
			n++
		}
	}
	if n > 0 {
		s.notify()
	}
}

func (s *store) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byUID)
}

// notify wakes whoever waits on changes; called with the write lock held.
func (s *store) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// withNamespaceLabels returns p with ns appended to its attributes, as a
// new Pod: published Pods are never modified.
func withNamespaceLabels(p *podmeta.Pod, ns []record.Attr) *podmeta.Pod {
	if len(ns) == 0 {
		return p
	}
	q := *p
	q.Attrs = make([]record.Attr, 0, len(p.Attrs)+len(ns))
	q.Attrs = append(append(q.Attrs, p.Attrs...), ns...)
	return &q
}

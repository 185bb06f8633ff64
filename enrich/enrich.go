package enrich

import (
	"sync"

	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// Miss reasons, metric label values: the set stays closed.
const (
	// MissPathUnparsed is a path that is not a kubelet log path; counted once
	// per distinct path.
	MissPathUnparsed = "path_unparsed"
	// MissPodNotFound is a file whose pod the cache did not know within
	// Wait; counted once each time a file's wait runs out, not per batch.
	MissPodNotFound = "pod_not_found"
	// MissHoldFull is a batch released before its pod was known because its
	// file had too many batches or bytes held; counted per batch.
	MissHoldFull = "hold_full"
)

// Events receives what enrichment could not do, so the daemon can count it
// without this package choosing a metrics library. Implementations must be
// safe for concurrent use and cheap: the Enricher calls them with its lock
// held and the Stage from its only goroutine.
type Events interface {
	// Miss reports metadata that could not be found, by reason (one of the
	// Miss constants). Each reason says what one count is: a busy file of
	// an unknown pod would otherwise count millions of times and say
	// nothing more.
	Miss(reason string)
}

// Config is what an Enricher needs to know from the daemon.
type Config struct {
	Node   string       // the node's name, added as "node" to every record; none when empty
	Keys   podmeta.Keys // attribute names; empty ones take their defaults
	Events Events       // nil discards events
}

// Enricher adds path-derived metadata to records; it is safe for concurrent
// use and never holds a record back.
type Enricher struct {
	events Events
	mu     sync.Mutex // guards paths; taken once per Enrich call, not per record
	paths  pathCache
}

// New returns an Enricher for one node.
func New(c Config) *Enricher {
	return &Enricher{events: orNop(c.Events), paths: newPathCache(c.Node, c.Keys.WithDefaults())}
}

// Enrich appends each record's metadata to its Attrs. It does not look for
// keys already there: a record enriched twice carries them twice.
func (e *Enricher) Enrich(recs []record.Record) {
	if len(recs) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Records of a batch mostly come from one file, so the previous record's
	// answer is tried before the map.
	var (
		lastPath string
		last     []record.Attr
		have     bool
	)
	for i := range recs {
		r := &recs[i]
		if !have || r.Path != lastPath {
			lastPath, last, have = r.Path, e.paths.get(r.Path, e.events), true
		}
		r.Attrs = appendShared(r.Attrs, last)
	}
}

// appendShared adds shared to dst, handing out shared itself when dst is
// empty: that is the allocation-free case, and it is safe only because
// shared has no spare capacity for anyone to append into.
func appendShared(dst, shared []record.Attr) []record.Attr {
	if len(dst) == 0 {
		return shared
	}
	return append(dst, shared...)
}

func orNop(ev Events) Events {
	if ev == nil {
		return nopEvents{}
	}
	return ev
}

type nopEvents struct{}

func (nopEvents) Miss(string) {}

// Package enrich adds pod metadata to records on their way from the inputs to
// the buffer.
//
// Guarantees: enrichment never drops, reorders or delays a record and never
// blocks on anything but its own short lock; it only appends to Attrs. A
// record whose path is not a kubelet log path (see package kubepath) is kept
// as it is, with no pod attributes (only "node", when configured), and its
// path is counted through Events.Miss.
//
// Records of one path share one []record.Attr whose cap equals its len, so
// that enriching costs no allocation: a later stage may append to a record's
// Attrs (the append copies) but must never write to Attrs[i] in place.
//
// Attributes come from the log file's path alone for now; the path cache is
// built so that other sources (an informer-backed pod cache) can add to the
// same per-path slice later.
package enrich

import (
	"sync"

	"github.com/sluicelog/sluice/record"
)

// Attribute keys added by enrichment; sinks use them as labels or fields, so
// they are part of the output format.
const (
	KeyNamespace   = "namespace"
	KeyPod         = "pod"
	KeyPodUID      = "pod_uid"      // pods layout only
	KeyContainer   = "container"    // the container's name
	KeyContainerID = "container_id" // containers layout only
	KeyNode        = "node"
)

// MissPathUnparsed is the Miss reason for a path that is not a kubelet log
// path; a metric label value, so the set of reasons stays closed.
const MissPathUnparsed = "path_unparsed"

// Events receives what enrichment could not do, so the daemon can count it
// without this package choosing a metrics library. Implementations must be
// safe for concurrent use and cheap: they are called with the Enricher's lock
// held.
type Events interface {
	// Miss reports metadata that could not be found, by reason. It is called
	// once per distinct path, not per record: a busy unparsable file would
	// otherwise count millions of times and say nothing more. A path is
	// counted again only after the path cache has been flushed.
	Miss(reason string)
}

// Config is what an Enricher needs to know from the daemon.
type Config struct {
	Node   string // the node's name, added as "node" to every record; none when empty
	Events Events // nil discards events
}

// Enricher adds metadata to records; it is safe for concurrent use.
type Enricher struct {
	events Events
	mu     sync.Mutex // guards paths; taken once per Enrich call, not per record
	paths  pathCache
}

// New returns an Enricher for one node.
func New(c Config) *Enricher {
	ev := c.Events
	if ev == nil {
		ev = nopEvents{}
	}
	return &Enricher{events: ev, paths: newPathCache(c.Node)}
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

type nopEvents struct{}

func (nopEvents) Miss(string) {}

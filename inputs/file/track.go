package file

import (
	"sync"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/osfile"
)

// position is where reading of one file stands after a batch: everything
// before offset has been emitted, plus joins still waiting for their end.
type position struct {
	fp       fingerprint.Fingerprint
	offset   int64
	format   string
	partials []checkpoint.Partial
}

// track follows the batches of one file through acknowledgement. Its
// committed position only moves past a batch once that batch and every
// earlier one have been acknowledged, which is what the checkpoint saves.
type track struct {
	id       osfile.ID
	path     string
	realPath string

	mu        sync.Mutex
	committed position
	queue     []inflight
	nextSeq   uint64
	done      bool // the file is closed: forget it once nothing is in flight
	seen      time.Time
}

type inflight struct {
	seq   uint64
	acked bool
	pos   position
}

func newTrack(id osfile.ID, path, realPath string, start position) *track {
	return &track{id: id, path: path, realPath: realPath, committed: start, seen: time.Now()}
}

// sent registers a batch that ends at pos and returns its acknowledgement.
func (t *track) sent(pos position) func() {
	t.mu.Lock()
	seq := t.nextSeq
	t.nextSeq++
	t.queue = append(t.queue, inflight{seq: seq, pos: pos})
	t.seen = time.Now()
	t.mu.Unlock()
	return func() { t.ack(seq) }
}

// ack marks a batch safe and commits every position whose batches are all
// safe. Batches of one file are normally acknowledged in order; out-of-order
// acknowledgements wait for the earlier ones.
func (t *track) ack(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.queue {
		if t.queue[i].seq == seq {
			t.queue[i].acked = true
			break
		}
	}
	n := 0
	for n < len(t.queue) && t.queue[n].acked {
		t.committed = t.queue[n].pos
		n++
	}
	t.queue = append(t.queue[:0], t.queue[n:]...)
}

// setStart replaces the committed position before anything was sent, for a
// file whose start point was decided after the track was made.
func (t *track) setStart(pos position) {
	t.mu.Lock()
	t.committed = pos
	t.mu.Unlock()
}

// finish marks the file closed.
func (t *track) finish() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}

// entry returns the checkpoint entry and whether the track can be forgotten.
func (t *track) entry() (checkpoint.Entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.committed
	e := checkpoint.Entry{
		Dev: t.id.Dev, Ino: t.id.Ino, Fingerprint: c.fp, Path: t.path, RealPath: t.realPath,
		Offset: c.offset, Format: c.format, Partials: c.partials, Seen: t.seen,
	}
	return e, t.done && len(t.queue) == 0
}

// pendingCount is how many batches await acknowledgement.
func (t *track) pendingCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queue)
}

// registry holds every track whose position the checkpoint must carry.
type registry struct {
	mu     sync.Mutex
	tracks map[*track]struct{}
}

func (r *registry) add(t *track) {
	r.mu.Lock()
	if r.tracks == nil {
		r.tracks = map[*track]struct{}{}
	}
	r.tracks[t] = struct{}{}
	r.mu.Unlock()
}

// entries returns the checkpoint entries and drops finished tracks.
func (r *registry) entries() []checkpoint.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]checkpoint.Entry, 0, len(r.tracks))
	for t := range r.tracks {
		e, forget := t.entry()
		if forget {
			delete(r.tracks, t)
			continue
		}
		out = append(out, e)
	}
	return out
}

package file

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/osfile"
)

// maxInflight bounds the batches of one file that await acknowledgement. A
// file at the bound is not read until acknowledgements come, so a consumer
// that never answers cannot make the queue grow without end.
const maxInflight = 4096

// position is where reading of one file stands after a batch: everything
// before offset has been emitted, plus joins still waiting for their end.
type position struct {
	fp       fingerprint.Fingerprint
	offset   int64
	format   string
	partials []checkpoint.Partial
}

// ackFuncs are the two answers a batch can get: safe, or to be read again.
type ackFuncs struct{ ack, nack func() }

// track follows the batches of one file through acknowledgement. Its
// committed position only moves past a batch once that batch and every
// earlier one have been acknowledged, which is what the checkpoint saves.
// A nack (the batch could not be made durable) forgets every batch in
// flight and asks the tailer to read the file again from the committed
// position. Nothing commits from the nack until the tailer has taken the
// rewind: batches it sent in between came from the old reading, and their
// acknowledgements, like those of every batch sent before, no longer count.
type track struct {
	id       osfile.ID
	path     string
	realPath string
	reg      *registry
	owner    *reader // the reader feeding this track; the tailer's goroutine only

	mu        sync.Mutex
	committed position
	queue     []inflight // batches in flight, the last of them sent as nextSeq-1
	nextSeq   uint64
	gen       uint64 // bumped when the tailer takes a rewind
	rewind    bool   // a nack is waiting for the tailer; nothing commits meanwhile
	done      bool   // the file is closed: forget it once nothing is in flight
	seen      time.Time
	size      int64 // file size when last read, for lost-byte counts at restart
}

type inflight struct {
	acked bool
	pos   position
}

func newTrack(id osfile.ID, path, realPath string, start position) *track {
	return &track{id: id, path: path, realPath: realPath, committed: start, seen: time.Now()}
}

// sent registers a batch that ends at pos and returns its answers.
func (t *track) sent(pos position, size int64) ackFuncs {
	t.mu.Lock()
	seq, gen := t.nextSeq, t.gen
	t.nextSeq++
	t.queue = append(t.queue, inflight{pos: pos})
	t.seen, t.size = time.Now(), size
	t.mu.Unlock()
	return ackFuncs{ack: func() { t.ack(gen, seq) }, nack: func() { t.nack(gen) }}
}

// ack marks a batch safe and commits every position whose batches are all
// safe. Batches of one file are normally acknowledged in order; out-of-order
// acknowledgements wait for the earlier ones.
func (t *track) ack(gen, seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	head := t.nextSeq - uint64(len(t.queue)) // sequence number of queue[0]
	if gen != t.gen || t.rewind || seq < head || seq >= t.nextSeq {
		return // sent before a rewind: that batch will be read again
	}
	t.queue[seq-head].acked = true
	n := 0
	for n < len(t.queue) && t.queue[n].acked {
		n++
	}
	if n == 0 {
		return
	}
	t.committed = t.queue[n-1].pos
	t.changed()
	clear(t.queue[:n])
	t.queue = t.queue[n:]
	if len(t.queue) == 0 {
		t.queue = nil // let the backing array go
	}
}

// nack forgets every batch in flight and asks the tailer to rewind.
func (t *track) nack(gen uint64) {
	t.mu.Lock()
	if gen != t.gen || t.rewind {
		t.mu.Unlock()
		return // a rewind for the same failure is already asked for
	}
	t.committed.fp = t.longestHead()
	t.queue = nil
	t.rewind = true
	t.mu.Unlock()
	if t.reg != nil {
		t.reg.requestRewind(t)
	}
}

// takeRewind returns the position to read again from, once per nack.
func (t *track) takeRewind() (position, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.rewind {
		return position{}, false
	}
	t.rewind = false
	t.gen++
	t.queue = nil
	return t.committed, true
}

// full reports whether the file must wait for acknowledgements.
func (t *track) full() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queue) >= maxInflight
}

// setStart replaces the committed position before anything was sent, for a
// file whose start point was decided after the track was made.
func (t *track) setStart(pos position) {
	t.mu.Lock()
	t.committed = pos
	t.changed()
	t.mu.Unlock()
}

// changed tells the registry the checkpoint has something new to save.
func (t *track) changed() {
	if t.reg != nil {
		t.reg.dirty.Store(true)
	}
}

// finish marks the file closed.
func (t *track) finish() {
	t.mu.Lock()
	t.done = true
	t.changed()
	t.mu.Unlock()
}

// reopen marks a closed file open again, for a rewind that reopened it.
func (t *track) reopen() {
	t.mu.Lock()
	t.done = false
	t.mu.Unlock()
}

// longestHead is the committed fingerprint, or a longer one of the same
// file that a batch in flight carries. A file opened while empty has an
// empty fingerprint until a batch of it is acknowledged; without the head
// it cannot be found again once kubelet has compressed it, after a nack or
// a restart. The caller holds t.mu.
func (t *track) longestHead() fingerprint.Fingerprint {
	fp := t.committed.fp
	if n := len(t.queue); n > 0 { // heads only grow: the newest batch has the longest
		if q := t.queue[n-1].pos.fp; q.Len() > fp.Len() && q.StartsWith(fp) {
			fp = q
		}
	}
	return fp
}

// entry returns the checkpoint entry and whether the track can be forgotten.
func (t *track) entry() (checkpoint.Entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.committed
	c.fp = t.longestHead()
	e := checkpoint.Entry{
		Dev: t.id.Dev, Ino: t.id.Ino, Fingerprint: c.fp, Path: t.path, RealPath: t.realPath,
		Offset: c.offset, Size: max(t.size, c.offset), Format: c.format, Partials: c.partials, Seen: t.seen,
	}
	return e, t.done && len(t.queue) == 0 && !t.rewind
}

// pendingCount is how many batches await acknowledgement.
func (t *track) pendingCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queue)
}

// registry holds every track whose position the checkpoint must carry, and
// the tracks that were nacked and wait for the tailer to rewind them.
type registry struct {
	mu      sync.Mutex
	tracks  map[*track]struct{}
	rewinds []*track
	nRewind atomic.Int32 // len(rewinds), read without the lock on every poll
	dirty   atomic.Bool  // a position moved or a track came or went since the last save
}

func (r *registry) add(t *track) {
	r.mu.Lock()
	if r.tracks == nil {
		r.tracks = map[*track]struct{}{}
	}
	t.reg = r
	r.tracks[t] = struct{}{}
	r.dirty.Store(true)
	r.mu.Unlock()
}

func (r *registry) requestRewind(t *track) {
	r.mu.Lock()
	r.rewinds = append(r.rewinds, t)
	r.nRewind.Store(int32(len(r.rewinds)))
	r.mu.Unlock()
}

// takeRewinds returns the tracks waiting to be rewound.
func (r *registry) takeRewinds() []*track {
	if r.nRewind.Load() == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.rewinds
	r.rewinds = nil
	r.nRewind.Store(0)
	return out
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

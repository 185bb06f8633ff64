// Package file tails log files: it discovers them by pattern, follows them
// through rename+create and copytruncate rotation, reads on from kubelet's
// gzipped rotated files when it fell behind, decodes CRI, Docker json-file
// and raw lines, and checkpoints how far each file was read.
//
// Guarantees: a file's records are emitted in file order; a checkpoint only
// covers records whose batch was acknowledged, so after a crash and restart
// every line is emitted at least once (duplicates are bounded by what was in
// flight); a nacked batch is read again. A renamed or deleted file is read
// to its end before it is closed, unless release_deleted says otherwise
// (then its unread bytes are counted). A busy consumer stops reading, never
// discovery. Memory is bounded by max_line_size per file, one read buffer,
// and at most maxInflight batch positions per file.
//
// Known limitations: lines written to a copytruncated file between sluice's
// last read and the truncation are recovered only when the copy sits next
// to the file with a rotated name. Files rotated after one that kubelet
// pruned while sluice was stopped are found by kubelet's timestamped names
// (the node's local time) or, for other names, by modification time.
// Reading a .gz from an offset decompresses everything before it.
package file

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/inputs/file/osfile"
	"github.com/sluicelog/sluice/internal/ctxsleep"
	"github.com/sluicelog/sluice/record"
)

// Config is what the tailer needs; the daemon fills it from config.Files.
type Config struct {
	Include, Exclude []string
	Flavor           glob.Flavor
	ReadFromTail     bool // files first seen at start begin at their end
	Format           string
	MaxLineSize      int
	PollInterval     time.Duration
	DiscoverInterval time.Duration
	MaxOpenFiles     int
	IdleTimeout      time.Duration
	RotateWait       time.Duration
	// ReleaseDeleted is how long a deleted file with unread bytes and no
	// .gz of it is kept open; then it is closed and its unread bytes are
	// counted as lost. Zero keeps it until read. On Windows a held deleted
	// file stays "delete pending" and stops kubelet's next rotation, so the
	// daemon sets a limit there.
	ReleaseDeleted  time.Duration
	CheckpointPath  string
	CheckpointEvery time.Duration
	BatchSize       int
	ReadBudget      int // bytes per file per turn, for fairness between files
	Logger          *slog.Logger
	Events          Events
	// Recovered are positions the disk buffer's newest records give; they
	// move checkpointed files forward (checkpoint.Merge) and place files
	// found at start that the checkpoint does not know (checkpoint.Furthest).
	Recovered []checkpoint.Entry
}

// Tailer reads every file the patterns match and sends batches downstream.
type Tailer struct {
	cfg     Config
	set     *glob.Set
	out     chan *record.Batch
	ev      Events
	log     *slog.Logger
	maxLine int
	buf     []byte // what files are read into: nil while idle (readBuf)
	bufSize int
	head    []byte // for comparing a file's first bytes with its fingerprint

	readers []*reader          // predecessors before successors
	byPath  map[string]*reader // the newest reader of each discovered path
	byID    map[osfile.ID]*reader
	skipped map[string]string // paths not read, with the reason, so each is counted once
	open    int
	reg     registry
	batch   batcher             // reused by every read turn
	emit    func(record.Record) // batch.add, bound once
	saved   []checkpoint.Entry  // loaded at start, matched during the first discovery
}

// New checks cfg and compiles its patterns. Batches arrive on Out.
func New(cfg Config) (*Tailer, error) {
	set, err := glob.NewSet(cfg.Include, cfg.Exclude, cfg.Flavor)
	if err != nil {
		return nil, fmt.Errorf("file input patterns: %w", err)
	}
	if cfg.Events == nil {
		cfg.Events = NopEvents{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadBudget <= 0 {
		cfg.ReadBudget = 4 << 20
	}
	bufSize := cfg.MaxLineSize + 1
	if bufSize < 256<<10 {
		bufSize = 256 << 10
	}
	t := &Tailer{
		cfg: cfg, set: set, out: make(chan *record.Batch, 4), ev: cfg.Events, log: cfg.Logger,
		maxLine: cfg.MaxLineSize, bufSize: bufSize, head: make([]byte, fingerprint.DefaultSize),
		byPath: map[string]*reader{}, byID: map[osfile.ID]*reader{}, skipped: map[string]string{},
	}
	t.batch = batcher{out: t.out, maxRecs: cfg.BatchSize, maxBytes: 1 << 20, pool: newPool()}
	t.emit = t.batch.add
	return t, nil
}

// Recover gives the positions the disk buffer's newest records hold (see
// Config.Recovered); call it before Run.
func (t *Tailer) Recover(entries []checkpoint.Entry) { t.cfg.Recovered = entries }

// Out delivers batches in file order per file. It is closed when Run returns.
func (t *Tailer) Out() <-chan *record.Batch { return t.out }

// Run tails until ctx is done, then closes Out. Call Save after the consumer
// has acknowledged what it will, to persist the final positions.
func (t *Tailer) Run(ctx context.Context) error {
	defer close(t.out)
	entries, err := checkpoint.Load(t.cfg.CheckpointPath)
	if err != nil {
		// A bad checkpoint must not stop a node's logging: reading from the
		// start gives duplicates, never loss.
		t.log.Error("checkpoint unreadable, reading files from their start", "err", err)
	}
	entries, moved := checkpoint.Merge(entries, t.cfg.Recovered)
	if moved > 0 {
		t.log.Info("files resume after the records the buffer holds, past their checkpoint", "files", moved)
	}
	t.saved = entries
	t.discover(true)
	t.resumeUnmatched()
	saveDone := make(chan struct{})
	saveCtx, stopSave := context.WithCancel(context.Background())
	go func() { defer close(saveDone); t.saveLoop(saveCtx) }()
	defer func() { stopSave(); <-saveDone }()

	lastDiscover := time.Now()
	idle := 0 // polls in a row that read nothing
	for ctx.Err() == nil {
		// Discovery, rotation and deletion checks and the closing of
		// drained files go on while the consumer is busy: only reading
		// new bytes waits for it.
		if time.Since(lastDiscover) >= t.cfg.DiscoverInterval {
			t.discover(false)
			lastDiscover = time.Now()
		}
		t.rewindNacked()
		progressed, more := t.poll()
		if progressed {
			idle = 0
		} else {
			idle++
		}
		if idle == idleTrimPolls {
			t.batch.trim()
			t.buf = nil
		}
		switch {
		case !t.batch.flush():
			t.batch.wait(ctx, t.cfg.PollInterval)
		case !more:
			// Every file was read to its end: polling again at once would
			// find a few new lines per file and cost a read and a stat
			// each, which at a steady rate over many files was most of
			// the tailer's CPU. New lines wait at most PollInterval.
			ctxsleep.Sleep(ctx, t.cfg.PollInterval)
		}
	}
	for _, r := range t.readers {
		r.close(t)
	}
	return nil
}

// idleTrimPolls is how many polls in a row must read nothing before the
// batcher lets go of its spare slabs and the tailer of its read buffer
// (a MiB by default): two seconds at the default interval.
const idleTrimPolls = 8

// readChunk is the size of the read buffer until a line longer than it
// comes: a quarter of the default max_line_size, held by a busy tailer
// the whole time.
const readChunk = 256 << 10

// readBuf returns the buffer files are read into, made again after an
// idle spell let go of it. whole asks for room for a line of max_line_size
// and its newline, which the buffer keeps from then on, until the next
// idle spell.
func (t *Tailer) readBuf(whole bool) []byte {
	size := min(readChunk, t.bufSize)
	if whole {
		size = t.bufSize
	}
	if len(t.buf) < size {
		t.buf = make([]byte, size)
	}
	return t.buf
}

// poll gives every readable file one turn; while the consumer is busy, it
// reads nothing but still finishes files that were read to their end. It
// reports whether any file returned data, and whether any stopped short
// of its end (its read budget, or a full batch) and so has more to read.
//
// A file read to its end costs one stat per poll: atEOF's, before the turn,
// says whether it grew, shrank or is drained, and the turn reads only if
// it grew. After a turn that read to the end, atEOF looks again at once,
// so a drained or truncated file is handled in the same poll.
func (t *Tailer) poll() (progressed, more bool) {
	for _, r := range t.readers {
		if r.f != nil && r.atEOF {
			t.atEOF(r)
		}
		p, m := r.turn(t, t.cfg.ReadBudget)
		progressed, more = progressed || p, more || m
		if p && r.f != nil && r.atEOF {
			t.atEOF(r)
		}
	}
	t.prune()
	return progressed, more
}

// Save writes the acknowledged positions to the checkpoint file.
func (t *Tailer) Save() error {
	if err := checkpoint.Save(t.cfg.CheckpointPath, t.reg.entries()); err != nil {
		t.ev.CheckpointFailed()
		return err
	}
	t.ev.CheckpointSaved(time.Now())
	return nil
}

func (t *Tailer) saveLoop(ctx context.Context) {
	tick := time.NewTicker(t.cfg.CheckpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			// An idle node rewrites nothing: with thousands of files the
			// checkpoint is megabytes of fingerprints.
			if !t.reg.dirty.Swap(false) {
				t.ev.CheckpointSaved(time.Now()) // the file on disk is still current
				continue
			}
			if err := t.Save(); err != nil {
				t.reg.dirty.Store(true)
				t.log.Error("save checkpoint", "err", err)
			}
		}
	}
}

// rewindNacked reads again, from their last acknowledged position, the
// files whose batches could not be made durable.
func (t *Tailer) rewindNacked() {
	reopened := false
	for _, tr := range t.reg.takeRewinds() {
		pos, ok := tr.takeRewind()
		if !ok {
			continue
		}
		t.log.Warn("records were not made durable; reading them again", "path", tr.path, "offset", pos.offset)
		if r := tr.owner; r != nil && r.state != stateDone {
			t.restartAt(r, pos)
			continue
		}
		reopened = t.reopenTrack(tr, pos) || reopened
	}
	if reopened {
		t.orderChains() // only a reopened file has a new place in the chain
	}
}

// restartAt moves an open (or parked) reader back to pos.
func (t *Tailer) restartAt(r *reader, pos position) {
	r.off, r.atEOF, r.tail = pos.offset, false, 0
	r.dec = newDecoder(t.cfg.Format, t.maxLine, t.ev)
	r.dec.format = pos.format
	r.dec.restore(pos.partials)
	if r.f == nil && r.state == stateLive {
		t.unpark(r, true)
	}
}

// reopenTrack finds a closed file again, by identity or as kubelet's .gz,
// and drains it from pos before the files that came after it. It reports
// whether it added a reader.
func (t *Tailer) reopenTrack(tr *track, pos position) bool {
	// The reader that holds the file reads it again, unless it holds
	// another file that got the inode of the deleted one.
	if o, held := t.byID[tr.id]; held && pos.fp.Len() > 0 && o.fp.StartsWith(pos.fp) {
		return false
	}
	s, ok := t.findContinuation(tr.realPath, tr.id, pos.fp, pos.offset)
	if !ok {
		if f, err := osfile.Open(tr.path); err == nil {
			head, herr := fingerprint.New(f, fingerprint.DefaultSize)
			// The inode of a deleted file is soon reused: the head must match too.
			if id, err := osfile.IDOf(f); err == nil && herr == nil && id == tr.id && head.StartsWith(pos.fp) {
				s, ok = sibling{path: tr.path, f: f, id: id}, true
			} else {
				f.Close()
			}
		}
	}
	if !ok {
		t.lost(tr.path, pos.offset, -1, "file to read again is gone")
		tr.finish()
		return false
	}
	r := t.addRotated(tr.path, tr.realPath, s, pos.offset, pos.fp, tr)
	r.dec.format = pos.format
	r.dec.restore(pos.partials)
	for _, o := range t.readers {
		if o != r && o.realPath == r.realPath && o.pred == nil && o.state != stateDone {
			r.succ, o.pred = o, r // the files after it wait until it is read again
			break
		}
	}
	return true
}

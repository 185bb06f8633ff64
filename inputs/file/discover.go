package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/osfile"
)

// discover expands the patterns, opens new files and checks known ones that
// were idle since the last discovery: only those can have been rotated,
// truncated or removed, so busy files cost no stat.
func (t *Tailer) discover(ctx context.Context, start bool) {
	paths, errs := t.set.Expand()
	for _, err := range errs {
		t.noteOnce(err.Error(), SkipUnreadable, "cannot list files", err)
	}
	seen := make(map[string]bool, len(paths))
	for _, p := range paths {
		if isRotatedName(p) {
			continue
		}
		seen[p] = true
		r := t.byPath[p]
		switch {
		case r == nil:
			t.openNew(p, start, nil)
		case r.fresh:
			r.fresh = false
		default:
			t.check(ctx, r)
		}
	}
	for p, r := range t.byPath {
		if !seen[p] && r.state == stateLive {
			t.drain(ctx, r)
		}
	}
}

// check looks at an idle file through its path and its handle.
func (t *Tailer) check(ctx context.Context, r *reader) {
	id, err := osfile.StatID(r.path)
	if err != nil {
		if r.state == stateLive {
			t.drain(ctx, r)
		}
		return
	}
	if id != r.id {
		if r.state == stateLive {
			t.drain(ctx, r)
		}
		// While sluice was held back (a slow sink), the path may have been
		// rotated more than once: the files in between are drained in order.
		t.openNew(r.path, false, t.chainRotated(r, r.modTime()))
		return
	}
	if r.f == nil {
		t.unpark(r)
		return
	}
	if removed, err := osfile.Removed(r.f); err == nil && removed && r.state == stateLive {
		t.drain(ctx, r)
	}
	r.refreshFingerprint(fingerprint.DefaultSize)
}

// openNew starts reading the file at path; pred is the file it replaced.
func (t *Tailer) openNew(path string, start bool, pred *reader) {
	if t.open >= t.cfg.MaxOpenFiles && !t.parkOne() {
		t.noteOnce(path, SkipTooManyOpen, "max_open_files reached, file deferred", nil)
		return
	}
	f, err := osfile.Open(path)
	if err != nil {
		switch st, serr := os.Stat(path); {
		case errors.Is(err, os.ErrNotExist):
		case serr == nil && !st.Mode().IsRegular():
			// Windows refuses to open a folder as a file; say why it is skipped.
			t.noteOnce(path, SkipNotRegular, "not a regular file", nil)
		default:
			t.noteOnce(path, SkipUnreadable, "cannot open file", err)
		}
		return
	}
	r, err := t.identify(path, f)
	if err != nil || r == nil {
		f.Close()
		return
	}
	t.open++
	t.ev.Opened()
	r.off = t.startOffset(r, start)
	r.pred = pred
	if pred != nil {
		pred.succ = r
	}
	r.trk = newTrack(r.id, r.path, r.realPath, r.position())
	t.reg.add(r.trk)
	t.readers = append(t.readers, r)
	t.byPath[path], t.byID[r.id] = r, r
	delete(t.skipped, path)
}

// identify builds a reader for an open file, or returns nil for a file that
// is not to be read (not regular, or already read through another path).
func (t *Tailer) identify(path string, f *os.File) (*reader, error) {
	st, err := f.Stat()
	if err != nil {
		t.noteOnce(path, SkipUnreadable, "cannot stat file", err)
		return nil, err
	}
	if !st.Mode().IsRegular() {
		t.noteOnce(path, SkipNotRegular, "not a regular file", nil)
		return nil, nil
	}
	id, err := osfile.IDOf(f)
	if err != nil {
		t.noteOnce(path, SkipUnreadable, "cannot identify file", err)
		return nil, err
	}
	if _, dup := t.byID[id]; dup {
		return nil, nil // the same file through a second path is read once
	}
	fp, err := fingerprint.New(f, fingerprint.DefaultSize)
	if err != nil {
		t.noteOnce(path, SkipUnreadable, "cannot read file head", err)
		return nil, err
	}
	return &reader{
		path: path, realPath: realPath(path), id: id, fp: fp, f: f, size: st.Size(),
		dec: newDecoder(t.cfg.Format, t.maxLine, t.ev), lastData: time.Now(),
	}, nil
}

// startOffset picks where a newly opened file is read from: its checkpoint,
// its end (read_from: tail, only for files present at start that have no
// history), or its start.
func (t *Tailer) startOffset(r *reader, start bool) int64 {
	if !start {
		return 0
	}
	for i, e := range t.saved {
		if (osfile.ID{Dev: e.Dev, Ino: e.Ino}) == r.id && r.fp.StartsWith(e.Fingerprint) && e.Offset <= r.size {
			t.saved = append(t.saved[:i], t.saved[i+1:]...)
			r.dec.format = e.Format
			if off, ok := t.recovered(r); ok && off > e.Offset {
				return off // the partials ended before it: see checkpoint.Merge
			}
			r.dec.restore(e.Partials)
			return e.Offset
		}
	}
	if off, ok := t.recovered(r); ok {
		return off // opened after the last checkpoint save, and in the buffer
	}
	for _, e := range t.saved {
		if e.Path == r.path {
			return 0 // the file replaced one sluice knew: it is new since the stop
		}
	}
	if t.cfg.ReadFromTail {
		return r.size
	}
	return 0
}

// drain marks r as no longer named by its path: it is read to the end and
// closed once its writer has moved on.
func (t *Tailer) drain(ctx context.Context, r *reader) {
	r.state, r.drainAt = stateDraining, time.Now()
	if r.f == nil {
		t.reopenMoved(r)
	}
	if r.f == nil {
		t.finish(ctx, r)
	}
}

// atEOF runs when a turn reached the end of r: it notices truncation and
// closes drained files.
func (t *Tailer) atEOF(ctx context.Context, r *reader) error {
	st, err := r.f.Stat()
	if err != nil {
		t.readError(r, err)
		return nil
	}
	r.size = st.Size()
	if r.size < r.off {
		return t.truncated(ctx, r)
	}
	if r.state == stateDraining && t.drained(r) {
		return t.finish(ctx, r)
	}
	return nil
}

// drained reports whether a draining file's writer has surely moved on.
func (t *Tailer) drained(r *reader) bool {
	if r.static || time.Since(r.drainAt) >= t.cfg.RotateWait {
		return true
	}
	if s := r.succ; s != nil && s.f != nil {
		if st, err := s.f.Stat(); err == nil && st.Size() > 0 {
			return true // the runtime writes to the new file: the old one is complete
		}
	}
	return false
}

// finish emits what is left of a drained file and closes it for good.
func (t *Tailer) finish(ctx context.Context, r *reader) error {
	err := r.finishTail(ctx, t)
	r.close(t)
	r.state = stateDone
	r.trk.finish()
	t.ev.Rotated()
	return err
}

// prune forgets closed files and parks idle ones.
func (t *Tailer) prune() {
	kept := t.readers[:0]
	now := time.Now()
	for _, r := range t.readers {
		if r.state == stateDone {
			if t.byPath[r.path] == r {
				delete(t.byPath, r.path)
			}
			if t.byID[r.id] == r {
				delete(t.byID, r.id)
			}
			if r.succ != nil {
				r.succ.pred = nil
			}
			continue
		}
		if r.state == stateLive && r.f != nil && r.atEOF && now.Sub(r.lastData) > t.cfg.IdleTimeout {
			r.close(t)
		}
		kept = append(kept, r)
	}
	for i := len(kept); i < len(t.readers); i++ {
		t.readers[i] = nil
	}
	t.readers = kept
}

// parkOne closes the handle of the live file idle the longest, so a new file
// can be opened within max_open_files.
func (t *Tailer) parkOne() bool {
	var oldest *reader
	for _, r := range t.readers {
		if r.state == stateLive && r.f != nil && r.atEOF && (oldest == nil || r.lastData.Before(oldest.lastData)) {
			oldest = r
		}
	}
	if oldest == nil {
		return false
	}
	oldest.close(t)
	return true
}

// unpark reopens a parked file that has changed size. The handle must name
// the same file, which the identity check guarantees.
func (t *Tailer) unpark(r *reader) {
	st, err := os.Stat(r.path)
	if err != nil || st.Size() == r.size {
		return
	}
	if t.open >= t.cfg.MaxOpenFiles && !t.parkOne() {
		return
	}
	f, err := osfile.Open(r.path)
	if err != nil {
		return
	}
	if id, err := osfile.IDOf(f); err != nil || id != r.id {
		f.Close()
		return
	}
	r.f, r.atEOF = f, false
	t.open++
	t.ev.Opened()
}

// noteOnce counts and logs a problem with key once, until it clears.
func (t *Tailer) noteOnce(key, reason, msg string, err error) {
	if _, done := t.skipped[key]; done {
		return
	}
	t.skipped[key] = reason
	t.ev.Anomaly(reason, 1)
	t.log.Warn(msg, "path", key, "reason", reason, "err", err)
}

// readError counts every failed read but logs a file's first one only: a
// failing disk would otherwise log on every poll.
func (t *Tailer) readError(r *reader, err error) {
	t.ev.Anomaly(SkipReadError, 1)
	if !r.readFailed {
		r.readFailed = true
		t.log.Warn("read error", "path", r.path, "err", err)
	}
}

func realPath(p string) string {
	if rp, err := filepath.EvalSymlinks(p); err == nil {
		return rp
	}
	return p
}

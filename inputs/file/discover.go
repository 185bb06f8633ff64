package file

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/osfile"
)

// discover expands the patterns, opens new files and checks known ones that
// were idle since the last discovery: only those can have been rotated,
// truncated or removed, so busy files cost no stat.
func (t *Tailer) discover(start bool) {
	paths, errs := t.set.Expand()
	for _, err := range errs {
		t.noteOnce(listErrKey+err.Error(), SkipUnreadable, "cannot list files", err)
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
			t.check(r)
		}
	}
	for p, r := range t.byPath {
		if !seen[p] && r.state == stateLive {
			t.drain(r)
		}
	}
	for _, r := range t.readers {
		if r.state == stateDraining && r.f != nil {
			t.checkDeleted(r)
		}
	}
	t.forgetSkipped(seen)
}

// listErrKey prefixes the skip notes of folders that could not be listed,
// which are not paths and are kept, so each is logged once.
const listErrKey = "\x00list:"

// forgetSkipped drops skip notes of paths that no longer match, so the map
// does not grow with every file a node ever had.
func (t *Tailer) forgetSkipped(seen map[string]bool) {
	for p := range t.skipped {
		if !seen[p] && !strings.HasPrefix(p, listErrKey) {
			delete(t.skipped, p)
		}
	}
}

// check looks at an idle file through its path and its handle.
func (t *Tailer) check(r *reader) {
	id, err := osfile.StatID(r.path)
	if err != nil {
		if r.state == stateLive {
			t.drain(r)
		}
		return
	}
	if id != r.id {
		if r.state == stateLive {
			t.drain(r)
		}
		// While sluice was held back (a slow sink), the path may have been
		// rotated more than once: the files in between are drained in order.
		t.openNew(r.path, false, t.chainRotated(r))
		return
	}
	if r.f == nil {
		t.unpark(r, false)
		return
	}
	if removed, err := osfile.Removed(r.f); err == nil && removed && r.state == stateLive {
		t.drain(r)
	}
	r.refreshFingerprint(fingerprint.DefaultSize)
}

// checkDeleted handles a draining file whose name is gone (kubelet deleted
// it after compressing it, or pruned it) while bytes of it are unread. On
// Windows the held handle keeps it "delete pending", which stops kubelet's
// next rotation, so it is not kept longer than needed: the rest is read
// from kubelet's .gz when there is one; otherwise it is kept until read or
// until ReleaseDeleted, after which its unread bytes are counted as lost.
func (t *Tailer) checkDeleted(r *reader) {
	removed, err := osfile.Removed(r.f)
	if err != nil || !removed {
		return
	}
	if r.deletedAt.IsZero() {
		r.deletedAt = time.Now()
	}
	size := r.size
	if r.gz == nil {
		if n, err := osfile.Size(r.f); err == nil {
			size = n
		}
	}
	unread := size - r.off
	if unread <= 0 {
		return // read to its end: closed by the next turn
	}
	if r.gz == nil {
		if s, ok := t.findGz(r.realPath, r.fp, size); ok {
			r.f.Close()
			r.f, r.gz, r.size = s.f, s.gz, s.gz.Size()
			// Filed under the .gz from now on: the deleted file's inode is
			// free, and a new 0.log that gets it must not pass for this one.
			if t.byID[r.id] == r {
				delete(t.byID, r.id)
			}
			r.id = s.id
			t.byID[r.id] = r
			t.log.Info("held file deleted before it was read; reading the rest from kubelet's compressed copy",
				"path", r.path, "gz", s.path, "offset", r.off)
			return
		}
	}
	if t.cfg.ReleaseDeleted > 0 && time.Since(r.deletedAt) >= t.cfg.ReleaseDeleted {
		t.lost(r.path, r.off, unread, "deleted file released before it was read")
		t.ev.Anomaly(SkipReleased, 1)
		r.close(t)
		r.state = stateDone
		r.trk.finish()
	}
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
	t.newTrack(r)
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
func (t *Tailer) drain(r *reader) {
	r.state, r.drainAt = stateDraining, time.Now()
	if r.f == nil {
		t.reopenMoved(r)
	}
	if r.f == nil {
		t.finish(r)
	}
}

// atEOF runs when a turn reached the end of r: it notices truncation and
// closes drained files.
func (t *Tailer) atEOF(r *reader) {
	if r.gz != nil {
		if r.off+r.tail >= r.gz.Size() {
			t.finish(r) // a .gz is complete: its end is the file's end
		}
		return
	}
	size, err := osfile.Size(r.f)
	if err != nil {
		t.readError(r, err)
		r.atEOF = false // the turn reads instead, and finds data or the error
		return
	}
	r.size = size
	if r.size < r.off || r.headMoved {
		t.truncated(r)
		return
	}
	if r.size > r.off+r.tail {
		r.atEOF = false // more than the last unfinished line is there: read it first
		return
	}
	if r.state == stateDraining && t.drained(r) {
		t.finish(r)
	}
}

// drained reports whether a draining file's writer has surely moved on.
func (t *Tailer) drained(r *reader) bool {
	if r.static || time.Since(r.drainAt) >= t.cfg.RotateWait {
		return true
	}
	if s := r.succ; s != nil && s.f != nil {
		if n, err := osfile.Size(s.f); err == nil && n > 0 {
			return true // the runtime writes to the new file: the old one is complete
		}
	}
	return false
}

// finish emits what is left of a drained file and closes it for good.
func (t *Tailer) finish(r *reader) {
	r.finishTail(t)
	r.close(t)
	r.state = stateDone
	r.trk.finish()
	t.ev.Rotated()
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

// unpark reopens a parked file that has changed size, or at once when force
// is set. The handle must name the same file, which the identity check
// guarantees.
func (t *Tailer) unpark(r *reader, force bool) {
	st, err := os.Stat(r.path)
	if err != nil || (st.Size() == r.size && !force) {
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
	t.log.Warn(msg, "path", strings.TrimPrefix(key, listErrKey), "reason", reason, "err", err)
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

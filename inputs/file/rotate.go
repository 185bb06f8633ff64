package file

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/osfile"
)

// isRotatedName reports whether a path is a rotated or temporary file that
// must not be picked up as a new source: kubelet's `0.log.20261126-005407`,
// its gzipped form, and `.tmp` files.
func isRotatedName(p string) bool {
	base := strings.ToLower(filepath.Base(p))
	if strings.HasSuffix(base, ".gz") || strings.HasSuffix(base, ".tmp") {
		return true
	}
	i := strings.LastIndex(base, ".log.")
	return i >= 0 && i+5 < len(base) && base[i+5] >= '0' && base[i+5] <= '9'
}

// rotatedSiblings lists the uncompressed rotated copies of a file, oldest
// name first: `<name>.<suffix>` in the same folder.
func rotatedSiblings(path string) []string {
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if len(name) > len(base)+1 && sameName(name[:len(base)+1], base+".") && !e.IsDir() &&
			!strings.HasSuffix(strings.ToLower(name), ".gz") {
			out = append(out, filepath.Join(dir, name))
		}
	}
	sort.Strings(out)
	return out
}

// sibling is a rotated copy that continues a known file.
type sibling struct {
	path string
	f    *os.File
	id   osfile.ID
}

// findSibling looks next to realPath for the file with identity id (renamed
// by rotation) or, when copy is set, for a copy whose head matches fp and
// that holds at least minSize bytes (copytruncate).
func (t *Tailer) findSibling(realPath string, id osfile.ID, fp fingerprint.Fingerprint, minSize int64, copy bool) (sibling, bool) {
	if copy && fp.Len() == 0 {
		return sibling{}, false // an empty head would match any copy
	}
	for _, p := range rotatedSiblings(realPath) {
		sid, err := osfile.StatID(p)
		if err != nil || t.byID[sid] != nil || (sid != id && !copy) {
			continue
		}
		f, err := osfile.Open(p)
		if err != nil {
			continue
		}
		got, err := osfile.IDOf(f)
		head, herr := fingerprint.New(f, fingerprint.DefaultSize)
		st, serr := f.Stat()
		if err == nil && herr == nil && serr == nil && got == sid && head.StartsWith(fp) && st.Size() >= minSize {
			return sibling{path: p, f: f, id: got}, true
		}
		f.Close()
	}
	return sibling{}, false
}

// truncated handles a file that shrank below the read offset. Its old
// content may survive in a copy (copytruncate); that copy is read from the
// old offset first, then the file from its start.
func (t *Tailer) truncated(ctx context.Context, r *reader) error {
	t.ev.Truncated()
	t.log.Info("file truncated", "path", r.path, "offset", r.off, "size", r.size)
	if s, ok := t.findSibling(r.realPath, osfile.ID{}, r.fp, r.off, true); ok {
		c := t.addRotated(r.path, r.realPath, s, r.off, r.fp)
		c.dec = r.dec
		c.trk.setStart(c.position())
		c.pred = r.pred
		if r.pred != nil {
			r.pred.succ = c
		}
		// Fallen behind by more than one copytruncate: the later copies
		// were written after this one and are read before the file.
		last := t.chainRotated(c, c.modTime())
		last.succ, r.pred = r, last
		t.orderChains()
		r.dec = newDecoder(t.cfg.Format, t.maxLine, t.ev)
	} else if err := r.flush(ctx, t, r.dec.flushJoins); err != nil {
		return err
	}
	r.trk.finish()
	r.off = 0
	fp, err := fingerprint.New(r.f, fingerprint.DefaultSize)
	if err != nil {
		t.readError(r, err)
	}
	r.fp = fp
	r.trk = newTrack(r.id, r.path, r.realPath, r.position())
	t.reg.add(r.trk)
	return nil
}

// reopenMoved finds a parked file that was renamed while its handle was
// closed, so it can still be drained.
func (t *Tailer) reopenMoved(r *reader) {
	if s, ok := t.findSibling(r.realPath, r.id, r.fp, 0, false); ok {
		r.f = s.f
		t.open++
		t.ev.Opened()
	}
}

// resumeUnmatched handles checkpointed files that the first discovery did
// not find at their path: they were rotated (or copied and truncated) while
// sluice was stopped. Each is drained from its saved offset before the file
// that now has its path, oldest first, since a path may have been rotated
// more than once before the stop.
func (t *Tailer) resumeUnmatched() {
	var found []*reader
	for _, e := range t.saved {
		id := osfile.ID{Dev: e.Dev, Ino: e.Ino}
		s, ok := t.findSibling(e.RealPath, id, e.Fingerprint, e.Offset, false)
		if !ok {
			s, ok = t.findSibling(e.RealPath, id, e.Fingerprint, e.Offset, true)
		}
		if !ok {
			t.ev.Anomaly(SkipLostFile, 1)
			t.log.Warn("checkpointed file not found, lines after its checkpoint may be lost", "path", e.Path, "offset", e.Offset)
			continue
		}
		// Added (and so reserved by identity) before any chaining, so the
		// search for files in between never takes one of these from offset 0.
		r := t.addRotated(e.Path, e.RealPath, s, e.Offset, e.Fingerprint)
		r.dec.format = e.Format
		r.dec.restore(e.Partials)
		r.trk.setStart(r.position())
		found = append(found, r)
	}
	t.saved = nil
	sort.SliceStable(found, func(i, j int) bool { return found[i].modTime().Before(found[j].modTime()) })
	tails := map[string]*reader{}
	for _, r := range found {
		if prev := tails[r.path]; prev != nil {
			prev.succ, r.pred = r, prev
		}
		tails[r.path] = r
	}
	for path, last := range tails {
		last = t.chainRotated(last, last.modTime())
		switch next := t.byPath[path]; {
		case next == nil:
			t.byPath[path] = last
		case next.pred == nil:
			last.succ, next.pred = next, last
		}
	}
	t.orderChains()
}

// orderChains puts every file after the files it continues, so one poll
// reads a chain from oldest to newest instead of waiting a poll per link.
func (t *Tailer) orderChains() {
	ordered := make([]*reader, 0, len(t.readers))
	for _, r := range t.readers {
		if r.pred != nil {
			continue
		}
		for c := r; c != nil; c = c.succ {
			ordered = append(ordered, c)
		}
	}
	if len(ordered) == len(t.readers) {
		t.readers = ordered
	}
}

// addRotated starts draining a rotated file that no one writes any more.
func (t *Tailer) addRotated(path, realPath string, s sibling, off int64, fp fingerprint.Fingerprint) *reader {
	r := &reader{
		path: path, realPath: realPath, id: s.id, fp: fp, f: s.f, off: off,
		dec: newDecoder(t.cfg.Format, t.maxLine, t.ev), state: stateDraining, static: true,
		drainAt: time.Now(), lastData: time.Now(),
	}
	t.open++
	t.ev.Opened()
	r.trk = newTrack(r.id, r.path, r.realPath, r.position())
	t.reg.add(r.trk)
	t.byID[r.id] = r
	t.readers = append(t.readers, r)
	return r
}

// chainRotated queues, after r, the rotated siblings of r's file that are
// unknown and were last written after r's file: files the path named between
// r's and the current one. It returns the last reader of the chain.
func (t *Tailer) chainRotated(r *reader, after time.Time) *reader {
	if after.IsZero() {
		return r
	}
	type cand struct {
		s     sibling
		mtime time.Time
	}
	var cands []cand
	for _, p := range rotatedSiblings(r.realPath) {
		if id, err := osfile.StatID(p); err != nil || t.byID[id] != nil {
			continue
		}
		f, err := osfile.Open(p)
		if err != nil {
			continue
		}
		id, err := osfile.IDOf(f)
		st, serr := f.Stat()
		if err != nil || serr != nil || t.byID[id] != nil || !st.ModTime().After(after) {
			f.Close()
			continue
		}
		cands = append(cands, cand{sibling{path: p, f: f, id: id}, st.ModTime()})
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].mtime.Before(cands[j].mtime) })
	last := r
	for _, c := range cands {
		fp, _ := fingerprint.New(c.s.f, fingerprint.DefaultSize)
		m := t.addRotated(r.path, r.realPath, c.s, 0, fp)
		m.pred, last.succ = last, m
		t.log.Info("draining a file rotated while reading was held back", "path", r.path, "rotated", c.s.path)
		last = m
	}
	return last
}

// moveBefore places r just before next in reading order.
func (t *Tailer) moveBefore(r, next *reader) {
	for i, x := range t.readers {
		if x == r {
			t.readers = append(t.readers[:i], t.readers[i+1:]...)
			break
		}
	}
	t.insertBefore(r, next)
}

func (t *Tailer) insertBefore(r, next *reader) {
	for i, x := range t.readers {
		if x == next {
			t.readers = append(t.readers[:i], append([]*reader{r}, t.readers[i:]...)...)
			return
		}
	}
	t.readers = append(t.readers, r)
}

package file

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/gzread"
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

// isGz reports whether a name is a gzipped rotated file.
func isGz(name string) bool { return strings.HasSuffix(strings.ToLower(name), ".gz") }

// rotatedSiblings lists the rotated copies of a file, oldest name first:
// `<name>.<suffix>` in the same folder, without `.tmp` files (kubelet's
// compression in progress). gz selects the `.gz` ones instead of the
// uncompressed ones.
func rotatedSiblings(path string, gz bool) []string {
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if len(name) > len(base)+1 && sameName(name[:len(base)+1], base+".") && !e.IsDir() &&
			isGz(name) == gz && !strings.HasSuffix(strings.ToLower(name), ".tmp") {
			out = append(out, filepath.Join(dir, name))
		}
	}
	sort.Strings(out)
	return out
}

// kubeletKey returns the part of a rotated name that orders it among its
// siblings, `0.log.20261126-005407` for both that file and its `.gz`, and
// whether the name has kubelet's timestamp form. kubelet itself orders
// rotated files by name; their modification times say nothing once gzipped.
// A counter after the timestamp (`0.log.20261126-005407.1`, what a rotator
// writes when two rotations fall in one second) orders the file after the
// one without it; the key pads the counter so that .10 sorts after .9.
func kubeletKey(path string) (string, bool) {
	name, stamped, counter, ok := splitRotated(path)
	switch {
	case !ok:
		return name, false
	case counter == "":
		return stamped, true
	}
	return stamped + "." + strings.Repeat("0", 9-len(counter)) + counter, true
}

// splitRotated cuts a rotated file's name (without .gz) into the part that
// ends with kubelet's timestamp and the counter after it, if any; ok tells
// whether there is a timestamp.
func splitRotated(path string) (name, stamped, counter string, ok bool) {
	name = filepath.Base(path)
	if isGz(name) {
		name = name[:len(name)-3]
	}
	stamped = name
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i+1 < len(name) && len(name)-i-1 <= 9 && allDigits(name[i+1:]) {
		stamped, counter = name[:i], name[i+1:]
	}
	_, ok = stampOf(stamped)
	return name, stamped, counter, ok
}

// stampOf returns the timestamp that ends a kubelet rotated name (without
// its counter), and whether there is one.
func stampOf(name string) (string, bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || len(name)-i-1 != len("20060102-150405") {
		return "", false
	}
	_, err := time.Parse("20060102-150405", name[i+1:])
	return name[i+1:], err == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// sibling is a rotated copy that continues a known file.
type sibling struct {
	path string
	f    *os.File
	gz   *gzread.File // set when the copy is kubelet's .gz; f is then its handle
	id   osfile.ID
}

// findSibling looks next to realPath for the file with identity id (renamed
// by rotation) or, when copy is set, for a copy whose head matches fp and
// that holds at least minSize bytes (copytruncate).
func (t *Tailer) findSibling(realPath string, id osfile.ID, fp fingerprint.Fingerprint, minSize int64, copy bool) (sibling, bool) {
	if copy && fp.Len() == 0 {
		return sibling{}, false // an empty head would match any copy
	}
	for _, p := range rotatedSiblings(realPath, false) {
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

// findGz looks next to realPath for kubelet's `.gz` of the file whose head
// is fp and that held at least minSize bytes: the rest of a file sluice had
// not finished when kubelet compressed it.
func (t *Tailer) findGz(realPath string, fp fingerprint.Fingerprint, minSize int64) (sibling, bool) {
	if fp.Len() == 0 {
		return sibling{}, false // an empty head would match any file
	}
	for _, p := range rotatedSiblings(realPath, true) {
		if s, ok := t.openGz(p); ok {
			if gzStartsWith(s.gz, fp) && s.gz.Size() >= minSize {
				return s, true
			}
			s.gz.Close()
		}
	}
	return sibling{}, false
}

// openGz opens a `.gz` that no reader holds yet.
func (t *Tailer) openGz(p string) (sibling, bool) {
	f, id, ok := t.openUnheld(p)
	if !ok {
		return sibling{}, false
	}
	g, err := gzread.Open(f)
	if err != nil {
		t.noteOnce(p, SkipUnreadable, "cannot read compressed rotated file", err)
		f.Close()
		return sibling{}, false
	}
	return sibling{path: p, f: f, gz: g, id: id}, true
}

// gzStartsWith reports whether a .gz's decompressed content begins with fp.
func gzStartsWith(g *gzread.File, fp fingerprint.Fingerprint) bool {
	head, err := fingerprint.New(g, fp.Len())
	return err == nil && head.StartsWith(fp)
}

// truncated handles a file that shrank below the read offset, or whose
// head changed. Its old content may survive in a copy (copytruncate); that
// copy is read from the old offset first, then the file from its start.
func (t *Tailer) truncated(r *reader) {
	t.ev.Truncated()
	t.log.Info("file truncated", "path", r.path, "offset", r.off, "size", r.size, "head_changed", r.headMoved)
	r.headMoved = false
	if s, ok := t.findSibling(r.realPath, osfile.ID{}, r.fp, r.off, true); ok {
		c := t.addRotated(r.path, r.realPath, s, r.off, r.fp, nil)
		c.dec = r.dec
		c.trk.setStart(c.position())
		c.pred = r.pred
		if r.pred != nil {
			r.pred.succ = c
		}
		// Fallen behind by more than one copytruncate: the later copies
		// were written after this one and are read before the file.
		last := t.chainRotated(c)
		last.succ, r.pred = r, last
		t.orderChains()
		r.dec = newDecoder(t.cfg.Format, t.maxLine, t.ev)
	} else {
		r.flush(t, r.dec.flushJoins)
	}
	r.trk.finish()
	r.trk.owner = nil // a rewind of what was read before cannot come back to this reader
	r.off, r.atEOF = 0, false
	fp, err := fingerprint.New(r.f, fingerprint.DefaultSize)
	if err != nil {
		t.readError(r, err)
	}
	r.fp = fp
	t.newTrack(r)
}

// newTrack gives r a track starting at its current position.
func (t *Tailer) newTrack(r *reader) {
	r.trk = newTrack(r.id, r.path, r.realPath, r.position())
	r.trk.owner = r
	t.reg.add(r.trk)
}

// reopenMoved finds a parked file that was renamed while its handle was
// closed, or its .gz, so it can still be drained.
func (t *Tailer) reopenMoved(r *reader) {
	s, ok := t.findSibling(r.realPath, r.id, r.fp, 0, false)
	if !ok {
		s, ok = t.findGz(r.realPath, r.fp, r.off)
	}
	if ok {
		r.f, r.gz = s.f, s.gz
		t.open++
		t.ev.Opened()
	}
}

// findContinuation finds a file that is gone from its path: renamed by
// rotation, copied (copytruncate), or compressed by kubelet.
func (t *Tailer) findContinuation(realPath string, id osfile.ID, fp fingerprint.Fingerprint, off int64) (sibling, bool) {
	if s, ok := t.findSibling(realPath, id, fp, off, false); ok {
		return s, true
	}
	if s, ok := t.findSibling(realPath, id, fp, off, true); ok {
		return s, true
	}
	return t.findGz(realPath, fp, off)
}

// resumeUnmatched handles checkpointed files that the first discovery did
// not find at their path: they were rotated (or copied and truncated, or
// rotated and compressed) while sluice was stopped. Each is drained from
// its saved offset before the file that now has its path, oldest first,
// since a path may have been rotated more than once before the stop.
func (t *Tailer) resumeUnmatched() {
	var found []*reader
	var lost []checkpoint.Entry
	for _, e := range t.saved {
		id := osfile.ID{Dev: e.Dev, Ino: e.Ino}
		s, ok := t.findContinuation(e.RealPath, id, e.Fingerprint, e.Offset)
		if !ok {
			lost = append(lost, e)
			continue
		}
		// Added (and so reserved by identity) before any chaining, so the
		// search for files in between never takes one of these from offset 0.
		r := t.addRotated(e.Path, e.RealPath, s, e.Offset, e.Fingerprint, nil)
		r.dec.format = e.Format
		r.dec.restore(e.Partials)
		r.trk.setStart(r.position())
		found = append(found, r)
	}
	// Only once every entry that was found holds its file: the search for
	// files rotated after a lost one would otherwise take them from offset
	// 0, and their own entries would then be lost too.
	for _, e := range lost {
		t.lost(e.Path, e.Offset, e.Size-e.Offset, "checkpointed file not found")
		// The files rotated after it may still be there.
		if first := t.chainAfterLost(e.Path, e.RealPath, e.Seen); first != nil {
			found = append(found, first)
		}
	}
	t.saved = nil
	sort.SliceStable(found, func(i, j int) bool { return rotationBefore(found[i], found[j]) })
	tails := map[string]*reader{}
	for _, r := range found {
		if prev := tails[r.path]; prev != nil {
			prev.succ, r.pred = r, prev
		}
		tails[r.path] = r
	}
	for path, last := range tails {
		last = t.chainRotated(last)
		switch next := t.byPath[path]; {
		case next == nil:
			t.byPath[path] = last
		case next.pred == nil:
			last.succ, next.pred = next, last
		}
	}
	t.orderChains()
}

// chainAfterLost queues the rotated siblings of a path that were rotated
// after seen, the last time a file that is now gone was read: with
// kubelet's names by the time in the name, otherwise by modification time.
// It returns the first of the chain, or nil.
func (t *Tailer) chainAfterLost(path, realPath string, seen time.Time) *reader {
	var cands []sibling
	for _, p := range rotatedSiblings(realPath, false) {
		if rotatedAfter(p, seen) {
			if s, ok := t.openPlain(p); ok {
				cands = append(cands, s)
			}
		}
	}
	for _, p := range rotatedSiblings(realPath, true) {
		if k, ok := kubeletKey(p); ok && rotatedAfter(p, seen) && !slicesContainKey(cands, k) {
			if s, ok := t.openGz(p); ok {
				cands = append(cands, s)
			}
		}
	}
	sortByKubeletKey(cands)
	first, _ := t.chain(path, realPath, nil, cands)
	return first
}

// sortByKubeletKey orders rotated files by kubelet's name, the order it
// rotated them in.
func sortByKubeletKey(ss []sibling) {
	sort.SliceStable(ss, func(i, j int) bool {
		ki, _ := kubeletKey(ss[i].path)
		kj, _ := kubeletKey(ss[j].path)
		return ki < kj
	})
}

// chain starts draining files, in the order given, from their start, each
// after the one before it and the first after prev (nil: after nothing).
// It returns the first and the last reader added, both nil for no files.
func (t *Tailer) chain(path, realPath string, prev *reader, files []sibling) (first, last *reader) {
	last = prev
	for _, s := range files {
		fp, err := fingerprint.New(s.readerAt(), fingerprint.DefaultSize)
		if err != nil {
			t.noteOnce(s.path, SkipUnreadable, "cannot read file head", err)
		}
		m := t.addRotated(path, realPath, s, 0, fp, nil)
		if last != nil {
			m.pred, last.succ = last, m
		}
		if first == nil {
			first = m
		}
		t.log.Info("draining a rotated file sluice had not read yet", "path", path, "rotated", s.path)
		last = m
	}
	return first, last
}

// rotatedAfter reports whether the rotated file p was rotated after at:
// kubelet names it by the time of its rotation (the node's local time);
// other names say nothing, and the time it was last written stands in.
func rotatedAfter(p string, at time.Time) bool {
	if _, stamped, _, ok := splitRotated(p); ok {
		stamp, _ := stampOf(stamped)
		ts, err := time.ParseInLocation("20060102-150405", stamp, time.Local)
		return err == nil && !ts.Before(at.Truncate(time.Second))
	}
	if isGz(p) {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.ModTime().After(at)
}

func slicesContainKey(ss []sibling, key string) bool {
	for _, s := range ss {
		if k, _ := kubeletKey(s.path); k == key {
			return true
		}
	}
	return false
}

// rotationBefore orders two rotated files of one path: by kubelet's name
// when both have one, else by modification time.
func rotationBefore(a, b *reader) bool {
	ka, oka := kubeletKey(a.f.Name())
	kb, okb := kubeletKey(b.f.Name())
	if oka && okb {
		return ka < kb
	}
	return a.modTime().Before(b.modTime())
}

// lost counts a file whose unread bytes are gone for good. unread is
// negative when it cannot be known.
func (t *Tailer) lost(path string, off, unread int64, why string) {
	t.ev.Anomaly(SkipLostFile, 1)
	if unread > 0 {
		t.ev.Anomaly(SkipLostBytes, int(unread))
	}
	t.log.Warn(why+", lines after the offset may be lost", "path", path, "offset", off, "lost_bytes", unread)
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

// addRotated starts draining a rotated file that no one writes any more. trk
// is the file's track when a rewind reopens it, nil for a new one.
func (t *Tailer) addRotated(path, realPath string, s sibling, off int64, fp fingerprint.Fingerprint, trk *track) *reader {
	r := &reader{
		path: path, realPath: realPath, id: s.id, fp: fp, f: s.f, gz: s.gz, off: off,
		dec: newDecoder(t.cfg.Format, t.maxLine, t.ev), state: stateDraining, static: true,
		drainAt: time.Now(), lastData: time.Now(),
	}
	if s.gz != nil {
		r.size = s.gz.Size()
		t.log.Info("reading the rest of a file from kubelet's compressed copy", "path", path, "gz", s.path, "offset", off)
	}
	t.open++
	t.ev.Opened()
	if trk == nil {
		t.newTrack(r)
	} else {
		r.trk, trk.owner = trk, r
		trk.reopen()
		t.reg.add(trk)
	}
	t.byID[r.id] = r
	t.readers = append(t.readers, r)
	return r
}

// chainRotated queues, after r, the rotated siblings of r's file that are
// unknown and come after r's file: files the path named between r's and the
// current one. It returns the last reader of the chain.
func (t *Tailer) chainRotated(r *reader) *reader {
	_, last := t.chain(r.path, r.realPath, r, t.laterSiblings(r))
	return last
}

func (s sibling) readerAt() interface {
	ReadAt([]byte, int64) (int, error)
} {
	if s.gz != nil {
		return s.gz
	}
	return s.f
}

// laterSiblings opens the rotated siblings of r's file that no reader holds
// and that were rotated after it, in rotation order. With kubelet's names
// "after" is by name, which also finds files gzipped since; otherwise it is
// by modification time and only among uncompressed copies, since a .gz's
// time is when it was compressed.
func (t *Tailer) laterSiblings(r *reader) []sibling {
	if key, ok := t.rotatedKeyOf(r); ok {
		return t.laterByName(r, key)
	}
	after := r.modTime()
	if after.IsZero() {
		return nil
	}
	type cand struct {
		s     sibling
		mtime time.Time
	}
	var cands []cand
	for _, p := range rotatedSiblings(r.realPath, false) {
		if s, ok := t.openPlain(p); ok {
			if st, err := s.f.Stat(); err == nil && st.ModTime().After(after) {
				cands = append(cands, cand{s, st.ModTime()})
				continue
			}
			s.f.Close()
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].mtime.Before(cands[j].mtime) })
	out := make([]sibling, len(cands))
	for i, c := range cands {
		out[i] = c.s
	}
	return out
}

// openPlain opens an uncompressed rotated file that no reader holds yet.
func (t *Tailer) openPlain(p string) (sibling, bool) {
	if id, err := osfile.StatID(p); err != nil || t.byID[id] != nil {
		return sibling{}, false // held: not worth opening
	}
	f, id, ok := t.openUnheld(p)
	if !ok {
		return sibling{}, false
	}
	return sibling{path: p, f: f, id: id}, true
}

// openUnheld opens p unless a reader already holds that file, by the
// identity of the handle (the name may have moved meanwhile).
func (t *Tailer) openUnheld(p string) (*os.File, osfile.ID, bool) {
	f, err := osfile.Open(p)
	if err != nil {
		return nil, osfile.ID{}, false
	}
	id, err := osfile.IDOf(f)
	if err != nil || t.byID[id] != nil {
		f.Close()
		return nil, osfile.ID{}, false
	}
	return f, id, true
}

// rotatedKeyOf finds the kubelet name r's file has now: the name it was
// opened at when that is a rotated one, else the rotated sibling with its
// identity, else the .gz of its content.
func (t *Tailer) rotatedKeyOf(r *reader) (string, bool) {
	if r.f != nil {
		if k, ok := kubeletKey(r.f.Name()); ok {
			return k, true
		}
	}
	for _, p := range rotatedSiblings(r.realPath, false) {
		if id, err := osfile.StatID(p); err == nil && id == r.id {
			return kubeletKey(p)
		}
	}
	for _, p := range rotatedSiblings(r.realPath, true) {
		if t.gzOf(p, r.fp) {
			return kubeletKey(p)
		}
	}
	return "", false
}

// gzOf reports whether the .gz at p holds the file whose head is fp.
func (t *Tailer) gzOf(p string, fp fingerprint.Fingerprint) bool {
	if fp.Len() == 0 {
		return false
	}
	f, err := osfile.Open(p)
	if err != nil {
		return false
	}
	g, err := gzread.Open(f)
	if err != nil {
		f.Close()
		return false
	}
	defer g.Close()
	return gzStartsWith(g, fp)
}

// laterByName opens the siblings whose kubelet name sorts after key, leaving
// out files a reader holds and a .gz of a held file or of an uncompressed
// sibling that is still there.
func (t *Tailer) laterByName(r *reader, key string) []sibling {
	plain := map[string]bool{}
	var out []sibling
	for _, p := range rotatedSiblings(r.realPath, false) {
		if k, ok := kubeletKey(p); ok && k > key {
			plain[k] = true
			if s, ok := t.openPlain(p); ok {
				out = append(out, s)
			}
		}
	}
	for _, p := range rotatedSiblings(r.realPath, true) {
		k, ok := kubeletKey(p)
		if !ok || k <= key || plain[k] {
			continue
		}
		s, ok := t.openGz(p)
		if !ok {
			continue
		}
		if t.heldElsewhere(r.realPath, s.gz) {
			s.gz.Close()
			continue
		}
		out = append(out, s)
	}
	sortByKubeletKey(out)
	return out
}

// heldElsewhere reports whether a .gz holds the content of a file a reader
// of the same path already reads through another handle.
func (t *Tailer) heldElsewhere(realPath string, g *gzread.File) bool {
	var head fingerprint.Fingerprint
	for _, o := range t.readers {
		if o.realPath != realPath || o.fp.Len() == 0 || o.state == stateDone {
			continue
		}
		if head.Len() == 0 {
			h, err := fingerprint.New(g, fingerprint.DefaultSize)
			if err != nil {
				return false
			}
			head = h
		}
		if head.StartsWith(o.fp) {
			return true
		}
	}
	return false
}

package checkpoint

import "github.com/sluicelog/sluice/inputs/file/fingerprint"

// Merge moves saved entries forward to positions recovered elsewhere: from
// the newest records the disk buffer holds of each file (Dev, Ino,
// Fingerprint and Offset set, the rest ignored). The checkpoint trails the
// buffer by its save interval and by the buffer's fsync interval, so after
// a kill -9, which loses nothing already written to the page cache, the
// buffer is ahead and the lines in between would be read twice.
//
// A recovered position belongs to an entry when the device and inode are
// the same and one head is a prefix of the other (fingerprint.StartsWith
// either way: the head grows while a file is young). The entry takes the
// furthest offset and the longer head, which startOffset then checks
// against the file itself. An entry whose own head is empty matches
// anything and is left as is, as is one that heads of two different files
// (a reused inode) would match. Recovered positions that match no entry
// are not added: they are files the checkpoint forgot once read to their
// end (resuming them would report them lost when they are gone), or files
// opened after its last save, which the tailer finds with Furthest when
// it opens them.
//
// It returns the entries and how many moved forward.
func Merge(saved, recovered []Entry) ([]Entry, int) {
	moved := 0
	out := make([]Entry, len(saved))
	for i, e := range saved {
		out[i] = e
		best, ok := furthest(e, recovered)
		if ok && best.Offset > e.Offset {
			// Partials are joins or a cut line that began before e.Offset
			// and had not ended there. A record's restart offset never
			// passes the start of a join or cut still open when it was
			// emitted, and a line this reader did not see begin leaves it
			// unknown, so a recovered offset past e.Offset means those
			// lines were completed and emitted before it: restoring them
			// would emit them again, as fragments.
			out[i].Offset, out[i].Partials = best.Offset, nil
			moved++
		}
		if ok && best.Fingerprint.Len() > e.Fingerprint.Len() {
			out[i].Fingerprint = best.Fingerprint
		}
	}
	return out, moved
}

// furthest returns the furthest recovered position of e's file, with the
// longest head seen, or false when none matches or the match is ambiguous.
func furthest(e Entry, recovered []Entry) (Entry, bool) {
	if e.Fingerprint.Len() == 0 {
		return Entry{}, false
	}
	var best Entry
	var longest fingerprint.Fingerprint
	found := false
	for _, r := range recovered {
		if r.Dev != e.Dev || r.Ino != e.Ino || r.Fingerprint.Len() == 0 || !related(r.Fingerprint, e.Fingerprint) {
			continue
		}
		if found && !related(r.Fingerprint, longest) {
			return Entry{}, false // two files behind one inode: no way to tell which is e's
		}
		if !found || r.Offset > best.Offset {
			best = r
		}
		if r.Fingerprint.Len() > longest.Len() {
			longest = r.Fingerprint
		}
		found = true
	}
	best.Fingerprint = longest
	return best, found
}

// related reports whether one head is a prefix of the other.
func related(a, b fingerprint.Fingerprint) bool { return a.StartsWith(b) || b.StartsWith(a) }

// Furthest returns the furthest recovered position of the file with the
// given device, inode and head (read from the file itself), for a file the
// checkpoint has no entry for: one opened after the checkpoint's last
// save. A recovered head must be a prefix of the file's; an empty one
// matches nothing.
func Furthest(recovered []Entry, dev, ino uint64, head fingerprint.Fingerprint) (int64, bool) {
	var off int64
	found := false
	for _, r := range recovered {
		if r.Dev == dev && r.Ino == ino && r.Fingerprint.Len() > 0 && head.StartsWith(r.Fingerprint) && (!found || r.Offset > off) {
			off, found = r.Offset, true
		}
	}
	return off, found
}

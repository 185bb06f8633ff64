package file

import (
	"bytes"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/record"
)

// source returns the identity r's records carry, so the buffer can tell
// at a restart how far each file's records got (record.Record.Next). It is
// made again only when the fingerprint changed (it grows while a file is
// young, and is replaced after a truncation): records already sent keep
// the Source they were read under.
func (r *reader) source() *record.Source {
	head := r.fp.Bytes()
	if s := r.src; s != nil && s.Dev == r.id.Dev && s.Ino == r.id.Ino && bytes.Equal(s.Head, head) {
		return s
	}
	r.src = &record.Source{Dev: r.id.Dev, Ino: r.id.Ino, Head: head}
	return r.src
}

// recovered is how far the disk buffer's records of r's file got
// (Config.Recovered), checked against the file's own head: this catches
// what checkpoint.Merge cannot, a checkpoint entry saved while the file
// was empty or still short, and a file with no entry at all.
func (t *Tailer) recovered(r *reader) (int64, bool) {
	off, ok := checkpoint.Furthest(t.cfg.Recovered, r.id.Dev, r.id.Ino, r.fp)
	return off, ok && off <= r.size
}

package file

import (
	"time"
	"unicode/utf8"

	"github.com/sluicelog/sluice/inputs/cri"
	"github.com/sluicelog/sluice/inputs/docker"
	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/record"
)

// Formats a file's lines can have; detected from the first non-empty line
// unless configured.
const (
	FormatAuto   = "auto"
	FormatCRI    = "cri"
	FormatDocker = "docker"
	FormatRaw    = "raw"
)

const (
	streamStdout = 0
	streamStderr = 1
)

// pending is a line being assembled from chunks, or the head of a line that
// was cut at the size limit (split).
type pending struct {
	active bool
	time   time.Time
	stream string
	offset int64 // where the line starts in this file
	body   []byte
	// foreign marks a line this decoder did not see begin: restored from a
	// checkpoint or handed over from a rotated file. No offset in this
	// file can rebuild it, so while it is open records carry no restart
	// offset (see restart).
	foreign bool
}

// decoder turns physical lines of one file into records: it detects the
// format, joins partial chunks and labels the pieces of over-long lines. Its
// state is small and checkpointable, so a join can span a restart or a
// rotation.
type decoder struct {
	format  string // "" until detected
	max     int
	part    *partials // nil until the file's first split or joined line
	scratch []byte    // docker unescaping, reused
	now     time.Time // stamp for lines that carry no time
	end     int64     // where the last line fed ends: its newline included
	ev      Events
	emit    func(record.Record)
}

// partials are the lines a decoder has not finished. Most files never
// split or join a line, and a thousand readers each holding three empty
// ones inline was a quarter of their memory, so they are made on first use.
type partials struct {
	join [2]pending // per stream: containerd interleaves stdout and stderr chunks
	cont pending    // the rest of a line cut at max follows
}

// parts returns d's partials, making them on first use.
func (d *decoder) parts() *partials {
	if d.part == nil {
		d.part = new(partials)
	}
	return d.part
}

// splitting reports whether the pieces of a line cut at max are coming.
func (d *decoder) splitting() bool { return d.part != nil && d.part.cont.active }

func newDecoder(format string, max int, ev Events) decoder {
	if format == FormatAuto {
		format = ""
	}
	return decoder{format: format, max: max, ev: ev}
}

// feed handles one physical line (without '\n') starting at off; complete is
// false when the line was cut at max and continues.
func (d *decoder) feed(p []byte, off int64, complete bool) {
	d.end = off + int64(len(p))
	if complete {
		d.end++ // the newline
	}
	d.line(p, off, complete)
}

// feedTail handles the last bytes of a drained file, which have no newline.
func (d *decoder) feedTail(p []byte, off int64) {
	d.end = off + int64(len(p))
	d.line(p, off, true)
}

// line decodes one physical line. Every path updates the decoder's state
// before it emits, so each record's restart offset (restart) is computed
// from the state the line leaves behind.
func (d *decoder) line(p []byte, off int64, complete bool) {
	if d.splitting() {
		c := &d.part.cont
		if complete {
			p = trimCR(p)
		}
		if len(p) == 0 && complete {
			c.active = false // the cut fell just before the line end
			return
		}
		c.active = !complete
		d.out(c.time, c.stream, p, off, record.FlagSplit)
		d.ev.Anomaly(SkipSplitLine, 1)
		return
	}
	if d.format == "" {
		if len(p) == 0 {
			d.ev.Anomaly(SkipEmptyLine, 1)
			return
		}
		d.format = detect(p)
	}
	switch d.format {
	case FormatCRI:
		l, err := cri.Parse(p)
		d.parsed(p, off, complete, l.Time, l.Stream, l.Partial, l.Msg, err)
	case FormatDocker:
		l, err := docker.Parse(p, d.scratch[:0])
		if err == nil {
			d.scratch = l.Msg[:0]
		}
		d.parsed(p, off, complete, l.Time, l.Stream, l.Partial, l.Msg, err)
	default:
		d.raw(p, off, complete)
	}
}

func detect(p []byte) string {
	switch {
	case cri.Looks(p):
		return FormatCRI
	case docker.Looks(p):
		return FormatDocker
	default:
		return FormatRaw
	}
}

func (d *decoder) raw(p []byte, off int64, complete bool) {
	// CRI and Docker parsers handle "\r\n" themselves; raw files from
	// Windows programs end lines with it too.
	if complete {
		p = trimCR(p)
	}
	if len(p) == 0 {
		d.ev.Anomaly(SkipEmptyLine, 1)
		return
	}
	d.whole(time.Time{}, "", p, off, complete, 0)
}

// parsed routes one decoded line: cut, joined or whole.
func (d *decoder) parsed(p []byte, off int64, complete bool, t time.Time, stream string, partial bool, msg []byte, err error) {
	if err != nil {
		d.ev.Anomaly(SkipParseError, 1)
		d.flushBefore(off)
		d.whole(time.Time{}, "", p, off, complete, record.FlagRaw)
		return
	}
	if !complete {
		d.flushBefore(off)
		d.whole(t, stream, msg, off, false, 0)
		return
	}
	k := streamIndex(stream)
	if !partial && (d.part == nil || !d.part.join[k].active) {
		d.out(t, stream, msg, off, 0)
		return
	}
	j := &d.parts().join[k]
	d.add(j, t, stream, msg, off)
	if !partial {
		if len(msg) == 0 {
			// The runtime cut the line between "\r" and "\n": the
			// last chunk is empty and the CR ends the one before.
			j.body = trimCR(j.body)
		}
		// Closed before it is emitted, so its record may restart past it;
		// its body stays intact until the next chunk.
		j.active = false
		d.out(j.time, j.stream, j.body, j.offset, 0)
	}
}

// whole emits a line that needs no joining; when it was cut, the pieces that
// follow are labelled with its time and stream.
func (d *decoder) whole(t time.Time, stream string, body []byte, off int64, complete bool, fl record.Flags) {
	if !complete {
		fl |= record.FlagSplit
		d.parts().cont = pending{active: true, time: d.stamp(t), stream: stream, offset: off}
	}
	d.out(t, stream, body, off, fl)
}

// add appends a chunk to a join; a join that would pass max is emitted as a
// cut piece first, so memory stays bounded.
func (d *decoder) add(j *pending, t time.Time, stream string, msg []byte, off int64) {
	if j.active && len(j.body)+len(msg) > d.max {
		j.active = false
		// The chunk at off opens the next join of this stream, below.
		d.outNext(j.time, j.stream, j.body, j.offset, record.FlagSplit, min(d.restart(), off))
		d.ev.Anomaly(SkipSplitLine, 1)
	}
	if !j.active {
		*j = pending{active: true, time: t, stream: stream, offset: off, body: j.body[:0]}
	}
	j.body = append(j.body, msg...)
}

// flushJoins emits unfinished joins as they are: a file that ends would
// otherwise hold them forever.
func (d *decoder) flushJoins() { d.flushBefore(d.end) }

// flushBefore emits unfinished joins before the line at limit, which cannot
// continue them. That line's own record follows in the same feed, so no
// join's record may restart past it.
func (d *decoder) flushBefore(limit int64) {
	if d.part == nil {
		return
	}
	for i := range d.part.join {
		if j := &d.part.join[i]; j.active {
			// The joins not emitted yet still hold the restart offset back.
			j.active = false
			d.outNext(j.time, j.stream, j.body, j.offset, record.FlagSplit, min(d.restart(), limit))
		}
	}
}

// restart is the offset from which a reader with a fresh decoder loses
// nothing that was not emitted yet: the end of the last line fed, but not
// past the first chunk of a join still open, nor past the start of a line
// whose pieces are still coming (a piece read on its own would be taken
// for a line of its own). A line this decoder did not see begin cannot be
// rebuilt from this file: the offset is then 0, unknown. Since the state
// only moves forward, so does restart, record after record.
func (d *decoder) restart() int64 {
	n := d.end
	if d.part == nil {
		return n
	}
	for _, p := range [...]*pending{&d.part.join[0], &d.part.join[1], &d.part.cont} {
		if !p.active {
			continue
		}
		if p.foreign {
			return 0
		}
		n = min(n, p.offset)
	}
	return n
}

func (d *decoder) out(t time.Time, stream string, body []byte, off int64, fl record.Flags) {
	d.outNext(t, stream, body, off, fl, d.restart())
}

func (d *decoder) outNext(t time.Time, stream string, body []byte, off int64, fl record.Flags, next int64) {
	if !utf8.Valid(body) {
		fl |= record.FlagInvalidUTF8
		d.ev.Anomaly(SkipInvalidUTF8, 1)
	}
	d.emit(record.Record{Time: d.stamp(t), Stream: stream, Body: body, Offset: off, Flags: fl, Next: next})
}

func (d *decoder) stamp(t time.Time) time.Time {
	if t.IsZero() {
		return d.now
	}
	return t
}

// trimCR drops one trailing '\r', the rest of a "\r\n" line end.
func trimCR(p []byte) []byte {
	if len(p) > 0 && p[len(p)-1] == '\r' {
		return p[:len(p)-1]
	}
	return p
}

func streamIndex(stream string) int {
	if stream == "stderr" {
		return streamStderr
	}
	return streamStdout
}

// snapshot returns the state a checkpoint needs to resume this decoder.
func (d *decoder) snapshot(path string) []checkpoint.Partial {
	if d.part == nil {
		return nil
	}
	var out []checkpoint.Partial
	for _, j := range d.part.join {
		if j.active {
			out = append(out, checkpoint.Partial{Time: j.time, Stream: j.stream, Path: path, Offset: j.offset, Body: append([]byte(nil), j.body...)})
		}
	}
	if c := d.part.cont; c.active {
		out = append(out, checkpoint.Partial{Time: c.time, Stream: c.stream, Path: path, Split: true})
	}
	return out
}

// restore loads state saved by snapshot. A saved join may have begun in a
// file rotated away since, so restored lines count as foreign.
func (d *decoder) restore(ps []checkpoint.Partial) {
	for _, p := range ps {
		if p.Split {
			d.parts().cont = pending{active: true, time: p.Time, stream: p.Stream, foreign: true}
			continue
		}
		d.parts().join[streamIndex(p.Stream)] = pending{active: true, time: p.Time, stream: p.Stream, offset: p.Offset, body: p.Body, foreign: true}
	}
}

// handOver moves unfinished joins to the decoder of the file that replaced
// this one: containerd may finish a "P" line in the next file after rotation.
func (d *decoder) handOver(next *decoder) {
	if d.part != nil {
		for i := range d.part.join {
			if j := &d.part.join[i]; j.active && (next.part == nil || !next.part.join[i].active) {
				n := &next.parts().join[i]
				*n = *j
				n.foreign = true // its offset is in this file, not next's
				*j = pending{}
			}
		}
	}
	if next.format == "" {
		next.format = d.format
	}
}

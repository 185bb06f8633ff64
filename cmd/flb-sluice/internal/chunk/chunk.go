// Package chunk reads the log events of a Fluent Bit chunk: the msgpack
// stream an output plugin's flush receives.
//
// Both event formats are read: Fluent Bit 2.1+'s [[timestamp, metadata],
// record] (the metadata is not used) and the older [timestamp, record].
// Timestamps come as msgpack ext type 0 (EventTime: seconds and
// nanoseconds), integers (seconds) or floats (seconds with a fraction).
// Group markers (Fluent Bit 3.1+), events whose timestamp seconds are -1 or
// -2 (0xFFFFFFFF, 0xFFFFFFFE as EventTime), are skipped and counted apart.
//
// Guarantee: no event is lost silently. An event of a shape the reader does
// not know is skipped with a *ShapeError that carries a sample, and reading
// goes on with the next event; only bytes that are not msgpack at all (a
// cut-off or corrupt chunk) end the reading early, with a *CorruptError
// saying where. Values are views of the chunk's bytes: nothing is copied.
package chunk

import (
	"fmt"
	"io"
	"math"
	"time"
)

// Event is one log event: its time and its record, a msgpack map.
type Event struct {
	Time   time.Time // zero when the event's timestamp was 0
	Record Value
}

// Reader reads the events of one chunk in order.
type Reader struct {
	b       []byte
	off     int
	markers int
}

// NewReader returns a reader of the events in b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Markers is how many group markers were skipped so far.
func (r *Reader) Markers() int { return r.markers }

// ShapeError is an event the reader does not know how to read; it was
// skipped and the next call to Next reads the event after it.
type ShapeError struct {
	Offset int    // where the event starts in the chunk
	Why    string // what is wrong with it
	Sample string // the event as JSON, shortened
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("event at byte %d: %s: %s", e.Offset, e.Why, e.Sample)
}

// CorruptError is bytes that are not msgpack; the rest of the chunk from
// Offset on cannot be read.
type CorruptError struct {
	Offset, Left int // where it starts and how many bytes were left
	Err          error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("chunk unreadable from byte %d on (%d bytes left): %v", e.Offset, e.Left, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// maxSample bounds the sample of a ShapeError.
const maxSample = 256

// Next returns the next log event; io.EOF after the last. After a
// *ShapeError Next may be called again; after a *CorruptError it returns
// io.EOF.
func (r *Reader) Next() (Event, error) {
	for {
		if r.off >= len(r.b) {
			return Event{}, io.EOF
		}
		start := r.off
		n, err := skip(r.b[start:])
		if err != nil {
			r.off = len(r.b)
			return Event{}, &CorruptError{Offset: start, Left: len(r.b) - start, Err: err}
		}
		r.off += n
		ev, marker, why := decode(Value(r.b[start:r.off]))
		switch {
		case why != "":
			return Event{}, &ShapeError{Offset: start, Why: why, Sample: Sample(Value(r.b[start:r.off]))}
		case marker:
			r.markers++
			continue
		}
		return ev, nil
	}
}

// decode reads one event; marker is true for a group marker, why says what
// is wrong with an event of unknown shape.
func decode(v Value) (ev Event, marker bool, why string) {
	var parts [2]Value
	i := 0
	if v.Kind() != Array || v.Len() != 2 {
		return ev, false, "not an array of two items"
	}
	v.Items(func(_, x Value) bool { parts[i] = x; i++; return true })
	ts := parts[0]
	if ts.Kind() == Array {
		if ts.Len() < 1 {
			return ev, false, "empty event header"
		}
		ts.Items(func(_, x Value) bool { ts = x; return false })
	}
	sec, nsec, ok := timestamp(ts)
	if !ok {
		return ev, false, "timestamp is not an EventTime, an integer or a float"
	}
	if sec == -1 || sec == -2 {
		return ev, true, ""
	}
	if parts[1].Kind() != Map {
		return ev, false, "record is not a map"
	}
	if sec != 0 || nsec != 0 {
		ev.Time = time.Unix(sec, nsec)
	}
	ev.Record = parts[1]
	return ev, false, ""
}

// timestamp reads an EventTime, integer or float timestamp. EventTime
// seconds are unsigned 32-bit, except a group marker's 0xFFFFFFFF and
// 0xFFFFFFFE, which Fluent Bit writes for -1 and -2.
func timestamp(v Value) (sec, nsec int64, ok bool) {
	h, err := readHead(v)
	if err != nil {
		return 0, 0, false
	}
	switch h.kind {
	case Ext:
		if h.extType != 0 || h.n != 8 || len(v) < h.hdr+8 {
			return 0, 0, false
		}
		p := v[h.hdr:]
		s := int64(uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3]))
		if s >= 0xFFFFFFFE {
			s -= 1 << 32 // a group marker
		}
		ns := int64(uint32(p[4])<<24 | uint32(p[5])<<16 | uint32(p[6])<<8 | uint32(p[7]))
		if ns >= 1e9 {
			return 0, 0, false
		}
		return s, ns, true
	case Int:
		s, ok := v.Int()
		return s, 0, ok
	case Float:
		f, _ := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<62/1e9 {
			return 0, 0, false
		}
		// A float64 of today's seconds is exact to about 240ns: digits
		// below the microsecond are noise of the conversion, not time.
		us := math.Round(f * 1e6)
		sec := math.Floor(us / 1e6)
		return int64(sec), int64(us-sec*1e6) * 1e3, true
	}
	return 0, 0, false
}

// Sample renders v as JSON, cut at a few hundred bytes, for logs.
func Sample(v Value) string {
	b := AppendJSON(nil, v)
	if len(b) > maxSample {
		return string(b[:maxSample]) + "…"
	}
	return string(b)
}

// Package codec encodes records for the disk buffer.
//
// The encoding is versioned by its first byte, compact (varints), and
// decoding never trusts a length: a payload that passed its frame's CRC but
// was written by a different version, or is short, is an error, never a
// panic or an out-of-range slice.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sluicelog/sluice/record"
)

// Version is the first byte of every encoded record: 1 for Append's
// self-contained records, 2 for an Encoder's, which may refer to a source
// defined earlier in their segment, 3 for an Encoder's that also carry the
// source file's identity (in the source definition) and each record's
// restart offset (Next). Decode reads all three, so segments written by
// older versions stay readable; their records have no restart offset.
const (
	Version       = 1
	VersionSource = 2
	VersionResume = 3
)

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("codec: corrupt record")

// Append appends the encoding of r to b.
func Append(b []byte, r *record.Record) []byte {
	b = append(b, Version)
	var ts int64
	if !r.Time.IsZero() {
		ts = r.Time.UnixNano()
	}
	b = binary.AppendVarint(b, ts)
	b = appendBytes(b, r.Stream)
	b = appendBytes(b, r.Body)
	b = appendBytes(b, r.Path)
	b = binary.AppendVarint(b, r.Offset)
	b = append(b, byte(r.Flags))
	b = binary.AppendUvarint(b, uint64(len(r.Attrs)))
	for _, a := range r.Attrs {
		b = appendBytes(b, a.Key)
		b = appendBytes(b, a.Value)
	}
	return b
}

func appendBytes[T string | []byte](b []byte, s T) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendHeader writes what precedes the source in a version 3 record.
func appendHeader(b []byte, r *record.Record) []byte {
	b = append(b, VersionResume)
	var ts int64
	if !r.Time.IsZero() {
		ts = r.Time.UnixNano()
	}
	b = binary.AppendVarint(b, ts)
	b = appendBytes(b, r.Stream)
	b = appendBytes(b, r.Body)
	b = binary.AppendVarint(b, r.Offset)
	b = append(b, byte(r.Flags))
	return binary.AppendUvarint(b, nextCode(r))
}

// nextCode encodes Next relative to where the record's body would end if
// the line had no header: what is left is the header and the newline, a
// few dozen bytes, so one byte for most lines. 0 stands for unknown.
func nextCode(r *record.Record) uint64 {
	if r.Next == 0 {
		return 0
	}
	d := r.Next - r.Offset - int64(len(r.Body))
	return uint64(d<<1^d>>63) + 1 // zigzag: small negative values stay small
}

// nextFrom reverses nextCode.
func nextFrom(code uint64, off int64, bodyLen int) int64 {
	if code == 0 {
		return 0
	}
	z := code - 1
	d := int64(z>>1) ^ -int64(z&1)
	return off + int64(bodyLen) + d
}

// Decoder decodes records, sharing strings it has seen recently (stream
// names, paths, attribute keys) and whole attribute lists, so a batch of one
// file's lines costs one allocation for its path and one for its pod's
// attributes, not several per record.
type Decoder struct {
	recent [8]string // a small ring: a linear scan beats a map for so few
	next   int
	attrs  [8]attrList // recent attribute lists, by their encoding
	nextA  int
	// sources are the version 2 sources defined so far in the segment;
	// Reset clears them when the reader moves to another segment.
	sources map[uint64]*decodedSource
	last    *decodedSource // the source the last record defined or referred to
	lastID  uint64
	inline  decodedSource // the last srcInline record's, which no later record refers to
}

// attrList is a decoded attribute list and the bytes it was decoded from.
type attrList struct {
	raw   []byte
	attrs []record.Attr // cap == len: a stage that appends gets a copy
}

// Decode decodes p into r. r.Body aliases p, so callers that keep it beyond
// p's lifetime copy it. A version 2 or 3 record that refers to a source
// needs the records of its segment that came before it decoded first (a
// reader that starts mid-segment decodes them and drops them). r.Source
// stays nil: the buffer keeps a file's identity only as an [Identity],
// which Position returns.
func (d *Decoder) Decode(p []byte, r *record.Record) error {
	in := reader{b: p}
	v := in.byte()
	if err := checkVersion(v); err != nil {
		return err
	}
	ts := in.varint()
	*r = record.Record{Stream: d.str(in.bytes()), Body: in.bytes()}
	var err error
	if v == Version {
		r.Path, r.Offset, r.Flags = d.str(in.bytes()), in.varint(), record.Flags(in.byte())
		if in.err != nil {
			return in.err
		}
		r.Attrs, err = d.attrList(in.b)
	} else {
		r.Offset, r.Flags = in.varint(), record.Flags(in.byte())
		if v == VersionResume {
			r.Next = nextFrom(in.uvarint(), r.Offset, len(r.Body))
		}
		if in.err != nil {
			return in.err
		}
		_, err = d.readSource(&in, r, v, false)
	}
	if err != nil {
		return err
	}
	if ts != 0 {
		r.Time = time.Unix(0, ts).UTC()
	}
	return nil
}

func checkVersion(v byte) error {
	if v < Version || v > VersionResume {
		return fmt.Errorf("%w: version %d, want %d to %d", ErrCorrupt, v, Version, VersionResume)
	}
	return nil
}

// attrList decodes the attribute section, the rest of the record. Records
// of one pod carry the same list, so a recent equal encoding returns the
// list decoded then, shared.
func (d *Decoder) attrList(raw []byte) ([]record.Attr, error) {
	if len(raw) == 1 && raw[0] == 0 {
		return nil, nil
	}
	for i := range d.attrs {
		if a := &d.attrs[i]; a.attrs != nil && string(a.raw) == string(raw) {
			return a.attrs, nil
		}
	}
	in := reader{b: raw}
	n := in.uvarint()
	if n > uint64(len(raw)) {
		return nil, fmt.Errorf("%w: %d attributes in %d bytes", ErrCorrupt, n, len(raw))
	}
	attrs := make([]record.Attr, n)
	for i := range attrs {
		attrs[i] = record.Attr{Key: d.str(in.bytes()), Value: string(in.bytes())}
	}
	if in.err != nil {
		return nil, in.err
	}
	if len(in.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(in.b))
	}
	if n == 0 {
		return nil, nil
	}
	d.attrs[d.nextA] = attrList{raw: append(d.attrs[d.nextA].raw[:0], raw...), attrs: attrs}
	d.nextA = (d.nextA + 1) % len(d.attrs)
	return attrs, nil
}

// str returns b as a string, reusing a recent equal one.
func (d *Decoder) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	for _, s := range d.recent {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	d.recent[d.next] = s
	d.next = (d.next + 1) % len(d.recent)
	return s
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: short %s", ErrCorrupt, what)
	}
	r.b = nil
}

func (r *reader) bad(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail("byte")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	if len(r.b) > 0 && r.b[0] < 0x80 {
		// Lengths, sources and restart codes: most fit one byte.
		v := r.b[0]
		r.b = r.b[1:]
		return uint64(v)
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("string")
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

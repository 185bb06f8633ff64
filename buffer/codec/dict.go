package codec

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicelog/sluice/record"
)

// A record's source is its path and attributes: the same for every record
// of a file, and several hundred bytes once a pod's metadata is attached.
// Version 2 writes a source once per segment (and again every redefineEvery
// bytes) and refers to it by a small number from then on.
const (
	srcInline = 0 // path and attributes follow, as in version 1
	srcDefine = 1 // an id, then path and attributes: later records may refer to it
	srcRef    = 2 // an id defined earlier in the same segment
)

// redefineEvery bounds what a corrupt defining record costs: records that
// refer to its id are undecodable only until the source is written again,
// at most this many segment bytes later.
const redefineEvery = 256 << 10

// Encoder writes version 2 records with a per-segment source dictionary.
// The zero value is ready; Reset must be called whenever records start
// going to another segment, or after bytes it encoded were not written.
type Encoder struct {
	ids     map[string]*source // encoded source → its id
	next    uint64
	key     []byte
	lastSrc *source // the previous record's source, tried first
	lastP   string
	lastA   *record.Attr
	lastN   int
}

type source struct {
	id      uint64
	defined int64 // segment offset of the last definition
}

// Reset forgets every source: the next segment starts without them.
func (e *Encoder) Reset() {
	clear(e.ids)
	e.next, e.lastSrc, e.lastP, e.lastA, e.lastN = 0, nil, "", nil, 0
}

// Append appends r's encoding to b; at is the segment offset the record
// will be written at, which decides when a source is defined again.
func (e *Encoder) Append(b []byte, r *record.Record, at int64) []byte {
	b = appendHeader(b, r)
	src := e.source(r)
	if src.defined >= 0 && at-src.defined < redefineEvery {
		b = append(b, srcRef)
		return binary.AppendUvarint(b, src.id)
	}
	src.defined = at
	b = append(b, srcDefine)
	b = binary.AppendUvarint(b, src.id)
	return appendSource(b, r)
}

// source finds or adds r's source. Records of one file usually share the
// path string and the enrich stage's attribute slice, so a pointer check
// answers most of them without building the key.
func (e *Encoder) source(r *record.Record) *source {
	var first *record.Attr
	if len(r.Attrs) > 0 {
		first = &r.Attrs[0]
	}
	if e.lastSrc != nil && r.Path == e.lastP && first == e.lastA && len(r.Attrs) == e.lastN {
		return e.lastSrc
	}
	e.key = appendSource(e.key[:0], r)
	src := e.ids[string(e.key)]
	if src == nil {
		if e.ids == nil {
			e.ids = make(map[string]*source)
		}
		src = &source{id: e.next, defined: -1}
		e.next++
		e.ids[string(e.key)] = src
	}
	e.lastSrc, e.lastP, e.lastA, e.lastN = src, r.Path, first, len(r.Attrs)
	return src
}

func appendSource(b []byte, r *record.Record) []byte {
	b = appendBytes(b, r.Path)
	b = binary.AppendUvarint(b, uint64(len(r.Attrs)))
	for _, a := range r.Attrs {
		b = appendBytes(b, a.Key)
		b = appendBytes(b, a.Value)
	}
	return b
}

// decodedSource is a source as the decoder keeps it for later references.
type decodedSource struct {
	path  string
	attrs []record.Attr
}

// Reset forgets the sources of the segment the decoder read before.
func (d *Decoder) Reset() { clear(d.sources) }

// readSource decodes the source part of a version 2 record.
func (d *Decoder) readSource(in *reader, r *record.Record) error {
	mode := in.byte()
	if mode == srcInline {
		return d.readInline(in, r)
	}
	id := in.uvarint()
	if in.err != nil {
		return in.err
	}
	switch mode {
	case srcRef:
		s, ok := d.sources[id]
		if !ok {
			return fmt.Errorf("%w: source %d is not defined in this segment before the record", ErrCorrupt, id)
		}
		r.Path, r.Attrs = s.path, s.attrs
		return nil
	case srcDefine:
		if err := d.readInline(in, r); err != nil {
			return err
		}
		if d.sources == nil {
			d.sources = make(map[uint64]decodedSource)
		}
		// readInline copies strings out of the frame, so the dictionary
		// may keep what it made.
		d.sources[id] = decodedSource{path: r.Path, attrs: r.Attrs}
		return nil
	}
	return fmt.Errorf("%w: source mode %d", ErrCorrupt, mode)
}

// readInline decodes a path and the attribute list that ends the record.
func (d *Decoder) readInline(in *reader, r *record.Record) error {
	r.Path = d.str(in.bytes())
	if in.err != nil {
		return in.err
	}
	attrs, err := d.attrList(in.b)
	r.Attrs, in.b = attrs, nil
	return err
}

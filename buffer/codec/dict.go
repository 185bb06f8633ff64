package codec

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"

	"github.com/sluicelog/sluice/record"
)

// A record's source is its path, its file's identity and its attributes:
// the same for every record of a file, and several hundred bytes once a
// pod's metadata is attached. Versions 2 and 3 write a source once per
// segment (and again every redefineEvery bytes) and refer to it by a small
// number from then on. Version 3 adds the identity between the path and the
// attributes: in full (with the file's head, up to a KiB) in the source's
// first definition in the segment, and as "the same as before" in the
// definitions that repeat it, so the head costs a KiB per file and segment.
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
	ids     map[sourceKey]*source
	next    uint64
	key     []byte
	lastSrc *source // the previous record's source, tried first
	lastP   string
	lastA   *record.Attr
	lastN   int
	lastF   *record.Source
}

// sourceKey is the hash of what tells a source apart (appendKey), not the
// key itself: the key holds the file's head, up to a KiB, and the pod's
// attributes, and a node with a thousand files kept a megabyte of keys.
// Two hashes with seeds chosen at random per process make 128 bits that a
// file's content cannot be made to collide on.
type sourceKey [2]uint64

// keySeeds are the seeds of sourceKey's two hashes.
var keySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func keyOf(b []byte) sourceKey {
	return sourceKey{maphash.Bytes(keySeeds[0], b), maphash.Bytes(keySeeds[1], b)}
}

type source struct {
	id      uint64
	defined int64 // segment offset of the last definition, -1 before the first
}

// Identity is a file's identity as the buffer keeps it (record.Source as a
// comparable value).
type Identity struct {
	Dev, Ino uint64
	Head     string
}

// IdentityOf returns the identity the buffer keeps for s; ok is false for
// a nil Source.
func IdentityOf(s *record.Source) (Identity, bool) {
	if s == nil {
		return Identity{}, false
	}
	return Identity{Dev: s.Dev, Ino: s.Ino, Head: string(s.Head)}, true
}

// Reset forgets every source: the next segment starts without them.
func (e *Encoder) Reset() {
	clear(e.ids)
	e.next, e.lastSrc, e.lastP, e.lastA, e.lastN, e.lastF = 0, nil, "", nil, 0, nil
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
	first := src.defined < 0
	src.defined = at
	b = append(b, srcDefine)
	b = binary.AppendUvarint(b, src.id)
	b = appendBytes(b, r.Path)
	b = appendIdentity(b, r.Source, first)
	return appendAttrs(b, r.Attrs)
}

// source finds or adds r's source. Records of one file usually share the
// path string and the enrich stage's attribute slice, so a pointer check
// answers most of them without building the key.
func (e *Encoder) source(r *record.Record) *source {
	var first *record.Attr
	if len(r.Attrs) > 0 {
		first = &r.Attrs[0]
	}
	if e.lastSrc != nil && r.Path == e.lastP && first == e.lastA && len(r.Attrs) == e.lastN && r.Source == e.lastF {
		return e.lastSrc
	}
	e.key = appendKey(e.key[:0], r)
	k := keyOf(e.key)
	src := e.ids[k]
	if src == nil {
		if e.ids == nil {
			e.ids = make(map[sourceKey]*source)
		}
		src = &source{id: e.next, defined: -1}
		e.next++
		e.ids[k] = src
	}
	e.lastSrc, e.lastP, e.lastA, e.lastN, e.lastF = src, r.Path, first, len(r.Attrs), r.Source
	return src
}

// appendKey writes what tells r's source apart: its path, attributes and
// file identity.
func appendKey(b []byte, r *record.Record) []byte {
	b = appendBytes(b, r.Path)
	b = appendAttrs(b, r.Attrs)
	if s := r.Source; s != nil {
		b = binary.AppendUvarint(b, s.Dev)
		b = binary.AppendUvarint(b, s.Ino)
		b = appendBytes(b, s.Head)
	}
	return b
}

func appendAttrs(b []byte, attrs []record.Attr) []byte {
	b = binary.AppendUvarint(b, uint64(len(attrs)))
	for _, a := range attrs {
		b = appendBytes(b, a.Key)
		b = appendBytes(b, a.Value)
	}
	return b
}

// Identity kinds in a version 3 source definition.
const (
	identNone = 0 // records not read from a file
	identFile = 1 // dev, ino and head follow
	identSame = 2 // as in the source's first definition in the segment
)

// appendIdentity writes s's identity: in full in the first definition of
// its source in the segment, by reference to it in the others.
func appendIdentity(b []byte, s *record.Source, first bool) []byte {
	switch {
	case s == nil:
		return append(b, identNone)
	case !first:
		return append(b, identSame)
	}
	b = append(b, identFile)
	b = binary.AppendUvarint(b, s.Dev)
	b = binary.AppendUvarint(b, s.Ino)
	return appendBytes(b, s.Head)
}

// identity reads what appendIdentity wrote; same reports identSame. keep
// false skips the identity's fields without copying the head.
func (in *reader) identity(keep bool) (id Identity, ok, same bool) {
	switch in.byte() {
	case identNone:
		return Identity{}, false, false
	case identSame:
		return Identity{}, false, true
	case identFile:
		dev, ino, head := in.uvarint(), in.uvarint(), in.bytes()
		if keep {
			id = Identity{Dev: dev, Ino: ino, Head: string(head)}
		}
		return id, keep && in.err == nil, false
	}
	if in.err == nil {
		in.bad("identity kind")
	}
	return Identity{}, false, false
}

// decodedSource is a source as the decoder keeps it for later references.
type decodedSource struct {
	path  string
	attrs []record.Attr
	ident Identity
	hasID bool
	same  bool // the definition repeats the identity of the first
}

// Reset forgets the sources of the segment the decoder read before.
func (d *Decoder) Reset() {
	clear(d.sources)
	d.last, d.lastID = nil, 0
}

// readSource decodes the source part of a version v (2 or 3) record and
// returns the source's file identity, if it has one and ident asks for it.
// Only Position asks: records on their way to a sink need no identity, and
// a reader's dictionary of a thousand files would keep a KiB of head each.
// A record that refers to the source of the one before it, as the records
// of one file's batch do, is answered from d.last without a map lookup.
func (d *Decoder) readSource(in *reader, r *record.Record, v byte, ident bool) (*decodedSource, error) {
	mode := in.byte()
	if mode == srcInline {
		s, err := d.readInline(in, r, v, ident)
		d.inline = s
		return &d.inline, err
	}
	id := in.uvarint()
	if in.err != nil {
		return nil, in.err
	}
	switch mode {
	case srcRef:
		s := d.last
		if s == nil || d.lastID != id {
			if s = d.sources[id]; s == nil {
				return nil, fmt.Errorf("%w: source %d is not defined in this segment before the record", ErrCorrupt, id)
			}
			d.last, d.lastID = s, id
		}
		r.Path, r.Attrs = s.path, s.attrs
		return s, nil
	case srcDefine:
		s, err := d.readInline(in, r, v, ident)
		if err != nil {
			return nil, err
		}
		if d.sources == nil {
			d.sources = make(map[uint64]*decodedSource)
		}
		prev := d.sources[id]
		if s.same && prev != nil {
			// An id names one source per segment: a repeated definition
			// keeps the identity of the first. When the first was lost,
			// the identity stays unknown.
			s.ident, s.hasID = prev.ident, prev.hasID
		}
		// readInline copies strings out of the frame, so the dictionary
		// may keep what it made. Records decoded earlier hold the old
		// path and attributes themselves, so the entry can be replaced.
		if prev == nil {
			prev = new(decodedSource)
			d.sources[id] = prev
		}
		*prev = s
		d.last, d.lastID = prev, id
		return prev, nil
	}
	return nil, fmt.Errorf("%w: source mode %d", ErrCorrupt, mode)
}

// readInline decodes a path, the identity (version 3) and the attribute
// list that ends the record.
func (d *Decoder) readInline(in *reader, r *record.Record, v byte, ident bool) (decodedSource, error) {
	r.Path = d.str(in.bytes())
	var s decodedSource
	if v == VersionResume {
		s.ident, s.hasID, s.same = in.identity(ident)
	}
	if in.err != nil {
		return decodedSource{}, in.err
	}
	attrs, err := d.attrList(in.b)
	r.Attrs, in.b = attrs, nil
	s.path, s.attrs = r.Path, r.Attrs
	return s, err
}

// Position decodes what a restart needs from p: the identity of the file
// the record was read from and its restart offset (record.Record.Next).
// ok is false for a record that has neither: one written before version 3,
// or not read from a file. It needs the records of the segment before p
// decoded first by Position: Decode keeps no file identities.
func (d *Decoder) Position(p []byte) (id Identity, next int64, ok bool, err error) {
	in := reader{b: p}
	v := in.byte()
	if err := checkVersion(v); err != nil {
		return Identity{}, 0, false, err
	}
	if v != VersionResume {
		// Earlier versions carry no restart offset; their definitions are
		// never referred to by a version 3 record, which a new segment holds.
		return Identity{}, 0, false, nil
	}
	in.varint()
	in.bytes()
	bodyLen := len(in.bytes())
	off := in.varint()
	in.byte()
	next = nextFrom(in.uvarint(), off, bodyLen)
	if in.err != nil {
		return Identity{}, 0, false, in.err
	}
	var r record.Record
	s, err := d.readSource(&in, &r, v, true)
	if err != nil {
		return Identity{}, 0, false, err
	}
	return s.ident, next, s.hasID && next != 0, nil
}

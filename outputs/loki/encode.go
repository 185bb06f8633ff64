package loki

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/klauspost/compress/gzip"

	"github.com/sluicelog/sluice/record"
)

// maxCachedStreams bounds the label cache an encoder keeps across requests;
// past it the cache starts again, which costs one label string per stream.
const maxCachedStreams = 4096

// Times Loki can store (protobuf) and JSON can carry (int64 nanoseconds);
// a record outside gets the encode time rather than failing the batch.
const (
	minUnixSec = -9223372036
	maxUnixSec = 9223372035
)

// streamInfo is a stream's labels, computed once and kept across requests.
type streamInfo struct {
	labels string      // Prometheus text form, for protobuf
	pairs  []labelPair // sorted by name, for JSON
	epoch  uint64      // the request that last used it
	idx    int32       // its position in that request
}

// encoder is the reusable state of Encode: every slice keeps its capacity
// from one batch to the next, so a steady stream of batches allocates almost
// nothing per record. Entries point into the batch's bodies and attrs
// (unsafe.String) only while Encode runs; reset drops those references.
type encoder struct {
	ls    *labelSet
	fold  fallback               // where structured metadata goes: entries, the line or nowhere
	cache map[string]*streamInfo // stream key → labels
	names map[string]string      // attr key → metadata name, for keys that need sanitising
	epoch uint64

	active  []*streamInfo // streams of this request, first seen first
	of      []int32       // stream of each record
	tmp     []entry       // entries in record order
	flat    []entry       // entries grouped by stream
	offs    []int32       // start of each stream in flat
	streams []stream      // views of flat
	meta    []labelPair
	lines   []byte // bodies repaired to valid UTF-8
	vals    []string
	extra   []labelPair       // labels from prefixed attrs, in attr order
	prefixN map[string]string // attr key → label name of prefixed attrs, "" for none
	key     []byte
	lastKey []byte
	last    *streamInfo
	prev    prevRecord // what the last record's stream and metadata came from
	sizes   []int
	raw     []byte // the request before compression: whole for JSON, about a chunk for protobuf
	block   []byte // snappy's worst-case output room for one chunk
	metaEnc []byte // the protobuf bytes of the metadata written last, for entries sharing it
	gz      *gzip.Writer
	out     sliceWriter
}

// prevRecord is what decided the last record's stream and metadata. A
// file's records share one attrs slice (the enrichment stage's, or the
// buffer's source dictionary), so when the next record has the same
// slice, path, stream and flags, it has the same stream and metadata: add
// reuses them instead of walking its attrs again.
type prevRecord struct {
	ok     bool
	attrs  []record.Attr
	path   string
	stream string
	flags  record.Flags
	meta   []labelPair
}

// same reports whether r's stream and metadata are the previous record's.
func (p *prevRecord) same(r *record.Record) bool {
	return p.ok && sameSlice(r.Attrs, p.attrs) && r.Path == p.path && r.Stream == p.stream && r.Flags&flagMask == p.flags
}

// sameSlice reports whether a and b are the same slice (not merely equal).
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func newEncoder(ls *labelSet) *encoder {
	return &encoder{
		ls: ls, cache: make(map[string]*streamInfo), names: make(map[string]string),
		vals: make([]string, len(ls.keys)), prefixN: make(map[string]string),
	}
}

// build groups recs into e.streams, entries of each stream sorted by time.
func (e *encoder) build(recs []record.Record, now time.Time) {
	e.epoch++
	e.last, e.prev = nil, prevRecord{}
	if len(e.cache) > maxCachedStreams {
		clear(e.cache)
	}
	e.active, e.meta, e.lines = e.active[:0], e.meta[:0], e.lines[:0]
	e.of = slices.Grow(e.of[:0], len(recs))[:len(recs)]
	e.tmp = slices.Grow(e.tmp[:0], len(recs))[:len(recs)]
	for i := range recs {
		e.of[i] = e.add(&recs[i], &e.tmp[i], now)
	}
	e.group()
}

// add fills ent from r and returns the index of r's stream.
func (e *encoder) add(r *record.Record, ent *entry, now time.Time) int32 {
	if e.prev.same(r) {
		ent.Timestamp, ent.Line, ent.StructuredMetadata = entryTime(r.Time, now), e.line(r), e.prev.meta
		return e.last.idx
	}
	clear(e.vals)
	clear(e.extra)
	e.extra = e.extra[:0]
	ms := len(e.meta)
	for _, a := range r.Attrs {
		if j := e.ls.index(a.Key); j >= 0 {
			if e.vals[j] == "" {
				e.vals[j] = a.Value
			}
			continue
		}
		if n := e.prefixedName(a.Key); n != "" && a.Value != "" {
			e.extra = append(e.extra, labelPair{Name: n, Value: a.Value})
			continue
		}
		e.addMeta(a.Key, a.Value)
	}
	e.meta = appendMeta(e.meta, metaFilename, r.Path)
	e.meta = appendMeta(e.meta, metaStream, r.Stream)
	e.meta = appendMeta(e.meta, metaFlags, flagNames[r.Flags&flagMask])
	ent.Timestamp = entryTime(r.Time, now)
	ent.Line = e.line(r)
	ent.StructuredMetadata = nil
	switch {
	case len(e.meta) == ms:
	case e.fold == keepMetadata:
		// The slice stays valid if e.meta grows later: growing copies.
		ent.StructuredMetadata = e.meta[ms:len(e.meta):len(e.meta)]
	default:
		if e.fold == metadataInLine {
			start := len(e.lines)
			e.lines = appendLogfmt(append(e.lines, ent.Line...), e.meta[ms:])
			ent.Line = unsafe.String(&e.lines[start], len(e.lines)-start)
		}
		clear(e.meta[ms:])
		e.meta = e.meta[:ms]
	}
	idx := e.stream()
	// Folded into the line, metadata differs with every line.
	e.prev = prevRecord{ok: e.fold != metadataInLine, attrs: r.Attrs, path: r.Path, stream: r.Stream,
		flags: r.Flags & flagMask, meta: ent.StructuredMetadata}
	return idx
}

// prefixedName is the label name of an attr that a label prefix promotes,
// "" for none; names are cached, as attr keys repeat record after record.
func (e *encoder) prefixedName(key string) string {
	if len(e.ls.prefix) == 0 {
		return ""
	}
	n, ok := e.prefixN[key]
	if !ok {
		if len(e.prefixN) > maxCachedStreams {
			clear(e.prefixN)
		}
		n, _ = e.ls.prefixed(key)
		e.prefixN[strings.Clone(key)] = n
	}
	return n
}

func appendMeta(m []labelPair, name, value string) []labelPair {
	if value == "" {
		return m
	}
	return append(m, labelPair{Name: name, Value: value})
}

func (e *encoder) addMeta(key, value string) {
	if value == "" {
		return
	}
	name := key
	if !validName(key) {
		var ok bool
		if name, ok = e.names[key]; !ok {
			if len(e.names) > maxCachedStreams {
				clear(e.names)
			}
			name = sanitize(key)
			e.names[strings.Clone(key)] = name
		}
	}
	if name == metaFilename || name == metaStream || name == metaFlags {
		return
	}
	e.meta = append(e.meta, labelPair{Name: name, Value: value})
}

// line returns r's body as a string without copying it, or a copy with
// invalid UTF-8 replaced when the input flagged it.
func (e *encoder) line(r *record.Record) string {
	if r.Flags&record.FlagInvalidUTF8 == 0 {
		return unsafe.String(unsafe.SliceData(r.Body), len(r.Body))
	}
	start := len(e.lines)
	e.lines = appendValidUTF8(e.lines, r.Body)
	if len(e.lines) == start {
		return ""
	}
	return unsafe.String(&e.lines[start], len(e.lines)-start)
}

func entryTime(t, now time.Time) time.Time {
	if s := t.Unix(); t.IsZero() || s < minUnixSec || s > maxUnixSec {
		return now
	}
	return t
}

// stream returns the index of the stream whose label values are e.vals,
// adding it to the request when it is new there. Consecutive records mostly
// come from one file, so the last key is compared before the map is asked.
func (e *encoder) stream() int32 {
	k := e.key[:0]
	for _, v := range e.vals {
		if v == "" {
			k = append(k, 0)
			continue
		}
		k = append(k, 1)
		k = binary.AppendUvarint(k, uint64(len(v)))
		k = append(k, v...)
	}
	for _, x := range e.extra {
		k = append(k, 2)
		k = binary.AppendUvarint(k, uint64(len(x.Name)))
		k = append(k, x.Name...)
		k = binary.AppendUvarint(k, uint64(len(x.Value)))
		k = append(k, x.Value...)
	}
	e.key = k
	if e.last != nil && bytes.Equal(k, e.lastKey) {
		return e.last.idx
	}
	info := e.cache[string(k)]
	if info == nil {
		pairs := e.ls.pairs(e.vals, e.extra)
		info = &streamInfo{labels: formatLabels(pairs), pairs: pairs}
		e.cache[string(k)] = info
	}
	if info.epoch != e.epoch {
		info.epoch, info.idx = e.epoch, int32(len(e.active))
		e.active = append(e.active, info)
	}
	e.last, e.lastKey = info, append(e.lastKey[:0], k...)
	return info.idx
}

// group orders e.tmp by stream into e.flat with a counting sort, which keeps
// record order within a stream, then sorts each stream by time, stably.
func (e *encoder) group() {
	n := len(e.active)
	e.offs = slices.Grow(e.offs[:0], n+1)[:n+1]
	clear(e.offs)
	for _, st := range e.of {
		e.offs[st+1]++
	}
	for i := 1; i <= n; i++ {
		e.offs[i] += e.offs[i-1]
	}
	e.flat = slices.Grow(e.flat[:0], len(e.tmp))[:len(e.tmp)]
	for i, st := range e.of {
		e.flat[e.offs[st]] = e.tmp[i]
		e.offs[st]++
	}
	e.streams = e.streams[:0]
	start := int32(0)
	for i, info := range e.active {
		ents := e.flat[start:e.offs[i]]
		start = e.offs[i]
		if !slices.IsSortedFunc(ents, byTime) {
			slices.SortStableFunc(ents, byTime)
		}
		e.streams = append(e.streams, stream{Labels: info.labels, Entries: ents})
	}
}

func byTime(a, b entry) int { return a.Timestamp.Compare(b.Timestamp) }

// trim drops the buffers kept from one batch for the next, and the label
// cache: a thousand files' label strings are half a MB, and rebuilding one
// after an idle spell costs a microsecond.
func (e *encoder) trim() {
	e.cache = make(map[string]*streamInfo)
	e.active, e.of, e.tmp, e.flat, e.offs, e.streams = nil, nil, nil, nil, nil, nil
	e.meta, e.lines, e.sizes, e.raw, e.block, e.metaEnc = nil, nil, nil, nil, nil, nil
	e.key, e.lastKey, e.last, e.prev = nil, nil, nil, prevRecord{}
}

// reset drops the references to the batch, so that nothing reads a body
// after Encode returned and the batch's memory is not held.
func (e *encoder) reset() {
	e.prev = prevRecord{}
	clear(e.tmp)
	clear(e.flat)
	clear(e.streams)
	clear(e.meta)
	clear(e.vals)
	clear(e.extra)
}

// appendValidUTF8 appends s with each run of invalid bytes replaced by one
// U+FFFD, as strings.ToValidUTF8 does, without a string in between.
func appendValidUTF8(dst, s []byte) []byte {
	start, inRun := 0, false
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i, inRun = i+1, false
			continue
		}
		_, w := utf8.DecodeRune(s[i:])
		if w > 1 {
			i, inRun = i+w, false
			continue
		}
		dst = append(dst, s[start:i]...)
		if !inRun {
			dst = append(dst, "\uFFFD"...)
		}
		i, inRun = i+1, true
		start = i
	}
	return append(dst, s[start:]...)
}

const flagMask = record.FlagSplit | record.FlagRaw | record.FlagInvalidUTF8 | record.FlagNoNewline

// flagNames holds the "flags" metadata value for every flag combination, so
// that no record builds one.
var flagNames = func() (names [flagMask + 1]string) {
	for f := range names {
		names[f] = strings.Join(record.Flags(f).Names(), ",")
	}
	return names
}()

// sliceWriter lets the gzip writer append to a request's buffer.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

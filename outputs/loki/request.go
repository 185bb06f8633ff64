package loki

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"

	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

const sampleBytes = 200

// Request is one encoded push: the compressed body and what it carries. It
// owns its body; nothing in it refers to the records it was built from.
type Request struct {
	body    []byte
	records int
	bytes   int
	sample  []byte
	json    bool
	free    outputs.FreeList[*Request]
	pooled  bool // released: a second Release must not hand it out twice
}

// Records implements outputs.Request.
func (r *Request) Records() int { return r.records }

// Bytes implements outputs.Request: the bodies' size before compression.
func (r *Request) Bytes() int { return r.bytes }

// Sample implements outputs.Request: the first entry's line, cut to 200
// bytes at a character boundary.
func (r *Request) Sample() string { return string(r.sample) }

// Release implements outputs.Request; the sink reuses the request's buffers.
func (r *Request) Release() { r.free.Release(r, &r.pooled, cap(r.body)) }

// deadEntry is one line of the dead-letter file.
type deadEntry struct {
	Labels   string            `json:"labels"`
	Time     string            `json:"time"`
	Line     string            `json:"line"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// WriteEntries implements outputs.Request. It decodes the body again rather
// than keep a copy of every entry for the rare rejected request.
func (r *Request) WriteEntries(w io.Writer) error {
	streams, _, err := decodeBody(r.body, r.json)
	if err != nil {
		return fmt.Errorf("decode loki request: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, s := range streams {
		for _, e := range s.Entries {
			d := deadEntry{Labels: s.Labels, Time: e.Timestamp.UTC().Format(time.RFC3339Nano), Line: e.Line}
			if len(e.StructuredMetadata) > 0 {
				d.Metadata = make(map[string]string, len(e.StructuredMetadata))
				for _, m := range e.StructuredMetadata {
					d.Metadata[m.Name] = m.Value
				}
			}
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// Encode implements outputs.Sink: it groups recs into streams, sorts each by
// time and compresses the push request into a buffer the request owns.
func (s *Sink) Encode(recs []record.Record) *Request {
	e := s.enc
	// Encode is called by one goroutine at a time; should a caller break
	// that rule, it gets a fresh encoder instead of a data race.
	if !s.encMu.TryLock() {
		e = newEncoder(s.labels)
	} else {
		defer s.encMu.Unlock()
	}
	req := s.newRequest()
	req.records = len(recs)
	for i := range recs {
		req.bytes += len(recs[i].Body)
	}
	e.fold = s.fold()
	e.build(recs, time.Now())
	defer e.reset()
	if len(e.streams) > 0 {
		req.sample = appendSample(req.sample, e.streams[0].Entries[0].Line)
	}
	req.body = e.compress(req.body, s.json)
	return req
}

// compress encodes e.streams onto dst's memory in the sink's wire format.
func (e *encoder) compress(dst []byte, isJSON bool) []byte {
	if isJSON {
		e.raw = e.appendJSON(e.raw[:0])
		return e.gzip(dst[:0], e.raw)
	}
	return e.snappyProto(dst[:0])
}

// snappyChunk is how much of the request each step compresses: the block
// size of the reference snappy encoder, whose output is the same sequence
// of per-chunk elements after one length header.
const snappyChunk = 64 << 10

// protoRoom is the scratch the protobuf request is written into: one chunk
// and room for what an entry's head and metadata carry past its end, in
// whole pages as the allocator rounds it.
const protoRoom = snappyChunk + 8<<10

// snappyProto appends e.streams as a PushRequest in snappy's block format,
// which Loki reads, without the whole request ever being written out:
// sizeProto knows the length for the one header, and each 64 KiB chunk of
// the request is compressed as soon as writeProto completes it. The
// uncompressed request is three times the compressed body or more (every
// line carries its metadata), and was the largest allocation of a burst.
func (e *encoder) snappyProto(dst []byte) []byte {
	z := chunker{e: e, out: binary.AppendUvarint(dst, uint64(e.sizeProto()))}
	b := e.writeProto(slices.Grow(e.raw[:0], protoRoom), &z)
	e.raw = b[:0]
	return e.appendChunks(z.out, b)
}

// appendChunks appends the snappy elements of raw, compressing 64 KiB at a
// time into a small scratch: elements never refer back across a chunk, so
// after one header for the whole length they are a valid block, and no
// worst-case room for the whole request (1.17 × its size) is ever held.
// s2's snappy-compatible encoder is faster than snappy.Encode for a few
// percent larger output.
func (e *encoder) appendChunks(dst, raw []byte) []byte {
	if n := s2.MaxEncodedLen(snappyChunk); cap(e.block) < n {
		e.block = make([]byte, n)
	}
	for len(raw) > 0 {
		c := raw[:min(len(raw), snappyChunk)]
		raw = raw[len(c):]
		enc := s2.EncodeSnappy(e.block[:cap(e.block)], c)
		_, hdr := binary.Uvarint(enc)
		dst = append(dst, enc[hdr:]...)
	}
	return dst
}

// chunker compresses the request while writeProto writes it.
type chunker struct {
	e   *encoder
	out []byte // the header and the elements of the chunks so far
}

// flush compresses the full chunks at the start of b and returns b with
// only the rest, moved to its start.
func (z *chunker) flush(b []byte) []byte {
	n := len(b) / snappyChunk * snappyChunk
	z.out = z.e.appendChunks(z.out, b[:n])
	return b[:copy(b, b[n:])]
}

// appendString appends s to b, flushing each chunk s fills: a long line
// then needs no room of its own. A nil chunker only appends.
func (z *chunker) appendString(b []byte, s string) []byte {
	for z != nil && len(b)+len(s) > snappyChunk {
		n := max(snappyChunk-len(b), 0)
		b = z.flush(append(b, s[:n]...))
		s = s[n:]
	}
	return append(b, s...)
}

// Trim implements outputs.Trimmer: it lets go of the encoder's buffers
// and the pooled requests' bodies, unless an Encode is running.
func (s *Sink) Trim() {
	if !s.encMu.TryLock() {
		return
	}
	defer s.encMu.Unlock()
	s.enc.trim()
	s.free.Drop()
}

func (s *Sink) newRequest() *Request {
	if r, ok := s.free.Get(); ok {
		r.records, r.bytes, r.sample, r.pooled = 0, 0, r.sample[:0], false
		return r
	}
	return &Request{json: s.json, free: s.free}
}

// gzip compresses raw onto dst; JSON is several times larger than the
// protobuf form, and both Loki and VictoriaLogs read gzip.
func (e *encoder) gzip(dst, raw []byte) []byte {
	e.out.b = dst
	if e.gz == nil {
		e.gz, _ = gzip.NewWriterLevel(&e.out, gzip.BestSpeed) // a valid level: no error
	} else {
		e.gz.Reset(&e.out)
	}
	// Writes to a slice cannot fail.
	_, _ = e.gz.Write(raw)
	_ = e.gz.Close()
	dst, e.out.b = e.out.b, nil
	return dst
}

func appendSample(dst []byte, line string) []byte {
	if len(line) <= sampleBytes {
		return append(dst, line...)
	}
	cut := sampleBytes
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return append(dst, line[:cut]...)
}

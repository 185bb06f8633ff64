package elasticsearch

import (
	"bytes"
	"io"
	"unicode/utf8"

	"github.com/sluicelog/sluice/internal/jsontext"
	"github.com/sluicelog/sluice/outputs"
)

const sampleBytes = 200

// Request is one bulk request: NDJSON items (an action line and a document
// line each) and what it carries. It owns its memory; nothing in it refers
// to the records it was built from. Items keep the order of the records.
type Request struct {
	raw    []byte   // the items, uncompressed
	ends   []int    // end of each item in raw; item i starts at ends[i-1]
	sizes  []int    // body bytes of each item's record
	errs   []string // why each item was refused, for the dead-letter file; nil unless rejected
	bytes  int
	wire   []byte // raw compressed, made by the first Send when the sink compresses
	wired  bool
	free   outputs.FreeList[*Request]
	pooled bool // released: a second Release must not hand it out twice
}

// Records implements outputs.Request.
func (r *Request) Records() int { return len(r.ends) }

// Bytes implements outputs.Request: the records' bodies, before encoding.
func (r *Request) Bytes() int { return r.bytes }

// item returns item i: its action and document lines, newlines included.
func (r *Request) item(i int) []byte {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.raw[start:r.ends[i]]
}

// Sample implements outputs.Request: the first document, cut to 200 bytes
// at a character boundary.
func (r *Request) Sample() string {
	if len(r.ends) == 0 {
		return ""
	}
	it := r.item(0)
	doc := it[bytes.IndexByte(it, '\n')+1 : len(it)-1]
	if len(doc) > sampleBytes {
		cut := sampleBytes
		for cut > 0 && !utf8.RuneStart(doc[cut]) {
			cut--
		}
		doc = doc[:cut]
	}
	return string(doc)
}

// WriteEntries implements outputs.Request: a JSON line per item, holding its
// action, its document and, for refused items, the server's reason:
// {"action":{...},"document":{...},"error":"..."}. Replaying a line means
// posting its action and document to the bulk API.
func (r *Request) WriteEntries(w io.Writer) error {
	var b []byte
	for i := range r.ends {
		it := r.item(i)
		nl := bytes.IndexByte(it, '\n')
		b = append(b[:0], `{"action":`...)
		b = append(b, it[:nl]...)
		b = append(b, `,"document":`...)
		b = append(b, it[nl+1:len(it)-1]...)
		if i < len(r.errs) && r.errs[i] != "" {
			b = append(b, `,"error":`...)
			b = jsontext.AppendString(b, r.errs[i])
		}
		b = append(b, "}\n"...)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Release implements outputs.Request; the sink reuses the request's buffers.
func (r *Request) Release() { r.free.Release(r, &r.pooled, cap(r.raw)) }

// Trim implements outputs.Trimmer: it lets go of the kept requests'
// buffers, a batch's items each, when the logs went quiet.
func (s *Sink) Trim() { s.free.Drop() }

// newRequest returns an empty request, reusing a released one when it can.
func (s *Sink) newRequest() *Request {
	if r, ok := s.free.Get(); ok {
		r.raw, r.ends, r.sizes, r.errs, r.wire = r.raw[:0], r.ends[:0], r.sizes[:0], r.errs[:0], r.wire[:0]
		r.bytes, r.wired, r.pooled = 0, false, false
		return r
	}
	return &Request{free: s.free}
}

// addItem copies item i of from into r; err, when not empty, says why the
// server refused it.
func (r *Request) addItem(from *Request, i int, err string) {
	r.raw = append(r.raw, from.item(i)...)
	r.ends = append(r.ends, len(r.raw))
	r.sizes = append(r.sizes, from.sizes[i])
	r.bytes += from.sizes[i]
	if err != "" {
		for len(r.errs) < len(r.ends)-1 {
			r.errs = append(r.errs, "")
		}
		r.errs = append(r.errs, err)
	}
}

// Split implements outputs.Splitter: the items in two halves, in order.
func (s *Sink) Split(req *Request) (first, second *Request, ok bool) {
	n := len(req.ends)
	if n < 2 {
		return nil, nil, false
	}
	first, second = s.newRequest(), s.newRequest()
	for i := range n {
		half := first
		if i >= n/2 {
			half = second
		}
		half.addItem(req, i, "")
	}
	return first, second, true
}

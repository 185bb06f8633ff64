package loki

import (
	"testing"

	"github.com/sluicelog/sluice/record"
)

// Trim lets the encoder's buffers go, and the next request encodes the
// same as before it.
func TestTrim(t *testing.T) {
	s := newSink(t, Config{URL: "http://127.0.0.1:1/loki/api/v1/push"})
	recs := []record.Record{
		{Time: at(1), Body: []byte("one"), Attrs: podAttrs("default", "p", "app")},
		{Time: at(2), Body: []byte("two"), Attrs: podAttrs("default", "p", "app")},
	}
	req := s.Encode(recs)
	before := decodeAny(t, s, req.body)
	req.Release()
	if s.enc.raw == nil {
		t.Fatal("the encoder kept no request buffer to trim")
	}
	s.Trim()
	if s.enc.raw != nil || s.enc.block != nil || s.enc.metaEnc != nil || s.enc.tmp != nil || s.enc.meta != nil || s.free.Len() != 0 || len(s.enc.cache) != 0 {
		t.Errorf("after Trim: raw %d, block %d, encoded metadata %d, entries %d, metadata %d bytes kept, %d pooled requests, %d cached streams",
			cap(s.enc.raw), cap(s.enc.block), cap(s.enc.metaEnc), cap(s.enc.tmp), cap(s.enc.meta), s.free.Len(), len(s.enc.cache))
	}
	req = s.Encode(recs)
	defer req.Release()
	if after := decodeAny(t, s, req.body); !sameStreams(after, before) {
		t.Errorf("after Trim the request decodes as\n%+v\nbefore as\n%+v", after, before)
	}
}

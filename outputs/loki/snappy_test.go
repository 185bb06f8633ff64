package loki

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/sluicelog/sluice/record"
)

// snappy is what snappyProto's body is of the whole request, raw: its
// length, then its chunks' elements.
func (e *encoder) snappy(dst, raw []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(raw)))
	return e.appendChunks(dst, raw)
}

// The chunked encoder's output is one valid snappy block of the whole
// input, at every size around the chunk boundaries, and about as small as
// compressing it in one piece.
func TestSnappyChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var e encoder
	for _, n := range []int{0, 1, 100, snappyChunk - 1, snappyChunk, snappyChunk + 1, 3*snappyChunk + 17, 1 << 20} {
		raw := make([]byte, n)
		for i := 0; i < n; {
			// Log-like text: repeated words with some random bytes.
			w := fmt.Appendf(nil, "level=info msg=\"request %d served\" bytes=%d ", rng.IntN(1000), rng.IntN(1<<20))
			i += copy(raw[i:], w)
		}
		got := e.snappy(nil, raw)
		dec, err := s2.Decode(nil, got)
		if err != nil {
			t.Fatalf("%d bytes: decode: %v", n, err)
		}
		if !bytes.Equal(dec, raw) {
			t.Fatalf("%d bytes: decoded %d bytes that differ from the input", n, len(dec))
		}
		if whole := s2.EncodeSnappy(nil, raw); n > 0 && float64(len(got)) > 1.1*float64(len(whole)) {
			t.Errorf("%d bytes: chunked %d bytes, whole %d: more than 10%% larger", n, len(got), len(whole))
		}
	}
}

// The streamed protobuf body is the bytes of compressing the whole request
// in chunks, with the boundaries falling at every place of an entry (its
// head, line and metadata, shared or its own) and inside lines longer than
// a chunk, while the scratch it is written into stays about a chunk.
func TestSnappyProtoStreams(t *testing.T) {
	ls, err := newLabelSet([]string{"namespace", "pod"}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	shared := []record.Attr{{Key: "namespace", Value: "a"}, {Key: "pod", Value: "p"},
		{Key: "pod_uid", Value: "1f2e"}, {Key: "container_id", Value: strings.Repeat("c0ffee", 50)}}
	line := strings.Repeat("level=info msg=\"request served\" ", 10<<10)
	var recs []record.Record
	for i := range 3000 {
		r := record.Record{Time: at(i), Stream: "stdout", Path: "/a", Attrs: shared,
			Body: []byte(line[:rng.IntN(600)])}
		switch {
		case i%500 == 7: // longer than a chunk, and than two
			r.Body = []byte(line[:snappyChunk+rng.IntN(3*snappyChunk)])
		case i%9 == 0: // metadata of its own
			r.Attrs = slices.Clone(shared)
			r.Attrs[2].Value = strconv.Itoa(i)
		case i%13 == 0:
			r.Stream, r.Path = "stderr", "/b"
		}
		recs = append(recs, r)
	}
	e, ref := newEncoder(ls), newEncoder(ls)
	for shift := 0; shift < 600; shift += 37 {
		// A first line of one more byte moves every later byte across
		// the chunk boundaries by one.
		recs[0].Body = []byte(line[:shift])
		e.build(recs, at(0))
		got := e.compress(nil, false)
		e.reset()
		ref.build(recs, at(0))
		raw := ref.appendProto(nil)
		want := ref.snappy(nil, raw)
		ref.reset()
		if len(raw) < 10*snappyChunk {
			t.Fatalf("a request of %d bytes: it should span many chunks", len(raw))
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("shift %d: the streamed body (%d bytes) differs from snappy of appendProto (%d bytes)", shift, len(got), len(want))
		}
		if c := cap(e.raw); c > protoRoom {
			t.Fatalf("shift %d: the encoder grew its scratch to %d bytes for a %d-byte request", shift, c, len(raw))
		}
		if dec, err := s2.Decode(nil, got); err != nil || !bytes.Equal(dec, raw) {
			t.Fatalf("shift %d: the body decodes to %d bytes, not the request's %d (%v)", shift, len(dec), len(raw), err)
		}
	}
}

package loki

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/s2"
)

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

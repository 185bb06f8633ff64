package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// layout describes the segment a corruption case starts from.
type layout struct {
	offs  []int64 // frame offsets
	sizes []int64 // frame sizes, overhead included
	size  int64   // file size
}

// frames returns the total size of the given frames.
func (l layout) frames(idx ...int) int64 {
	var n int64
	for _, i := range idx {
		n += l.sizes[i]
	}
	return n
}

// expect is what reading and repairing a damaged segment must give.
type expect struct {
	survivors []int   // indexes of the payloads read back, in order
	skipped   int64   // bytes skipped
	corrupt   []int64 // offsets of the corruptions
	truncated int64   // bytes Repair removes; corruptions at or past size-truncated are the torn tail
}

var corruptPayloads = func() [][]byte {
	sizes := []int{10, 100, 0, 50, 1000, 20}
	p := make([][]byte, len(sizes))
	for i, n := range sizes {
		p[i] = text(i, n)
	}
	return p
}()

func TestCorruption(t *testing.T) {
	all := []int{0, 1, 2, 3, 4, 5}
	garbage := func(n int) []byte {
		rng := rand.New(rand.NewPCG(7, uint64(n)))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	tests := []struct {
		name    string
		mutate  func(d []byte, l layout) []byte
		badHead bool // the header is bad: no reader, Repair fails
		want    func(l layout) expect
	}{{
		name:   "intact",
		mutate: func(d []byte, l layout) []byte { return d },
		want:   func(l layout) expect { return expect{survivors: all} },
	}, {
		name:   "header only",
		mutate: func(d []byte, l layout) []byte { return d[:HeaderSize] },
		want:   func(l layout) expect { return expect{} },
	}, {
		name:   "flipped byte in a payload",
		mutate: func(d []byte, l layout) []byte { d[l.offs[1]+FrameOverhead+5] ^= 0x01; return d },
		want: func(l layout) expect {
			return expect{survivors: []int{0, 2, 3, 4, 5}, skipped: l.frames(1), corrupt: []int64{l.offs[1]}}
		},
	}, {
		name:   "flipped byte in a length, still plausible",
		mutate: func(d []byte, l layout) []byte { d[l.offs[4]] ^= 0x01; return d },
		want: func(l layout) expect {
			return expect{survivors: []int{0, 1, 2, 3, 5}, skipped: l.frames(4), corrupt: []int64{l.offs[4]}}
		},
	}, {
		name:   "flipped byte in a length, over MaxRecord",
		mutate: func(d []byte, l layout) []byte { d[l.offs[3]+3] ^= 0x80; return d },
		want: func(l layout) expect {
			return expect{survivors: []int{0, 1, 2, 4, 5}, skipped: l.frames(3), corrupt: []int64{l.offs[3]}}
		},
	}, {
		name: "length pointing past the end of the file",
		mutate: func(d []byte, l layout) []byte {
			binary.LittleEndian.PutUint32(d[l.offs[4]:], 60_000)
			return d
		},
		want: func(l layout) expect {
			return expect{survivors: []int{0, 1, 2, 3, 5}, skipped: l.frames(4), corrupt: []int64{l.offs[4]}}
		},
	}, {
		name:   "flipped byte in a CRC",
		mutate: func(d []byte, l layout) []byte { d[l.offs[0]+4] ^= 0xff; return d },
		want: func(l layout) expect {
			return expect{survivors: []int{1, 2, 3, 4, 5}, skipped: l.frames(0), corrupt: []int64{l.offs[0]}}
		},
	}, {
		name:   "flipped CRC of an empty record",
		mutate: func(d []byte, l layout) []byte { d[l.offs[2]+7] ^= 0x10; return d },
		want: func(l layout) expect {
			return expect{survivors: []int{0, 1, 3, 4, 5}, skipped: l.frames(2), corrupt: []int64{l.offs[2]}}
		},
	}, {
		name:    "flipped byte in the magic",
		mutate:  func(d []byte, l layout) []byte { d[0] ^= 0x20; return d },
		badHead: true,
	}, {
		name:    "unknown version",
		mutate:  func(d []byte, l layout) []byte { d[4] = 2; return d },
		badHead: true,
	}, {
		name:    "non-zero reserved header byte",
		mutate:  func(d []byte, l layout) []byte { d[7] = 1; return d },
		badHead: true,
	}, {
		name:    "shorter than the header",
		mutate:  func(d []byte, l layout) []byte { return d[:5] },
		badHead: true,
	}, {
		name:    "empty file",
		mutate:  func(d []byte, l layout) []byte { return d[:0] },
		badHead: true,
	}, {
		name:   "torn tail mid-payload",
		mutate: func(d []byte, l layout) []byte { return d[:l.offs[5]+FrameOverhead+7] },
		want: func(l layout) expect {
			return expect{survivors: all[:5], skipped: FrameOverhead + 7, corrupt: []int64{l.offs[5]}, truncated: FrameOverhead + 7}
		},
	}, {
		name:   "torn tail mid-header",
		mutate: func(d []byte, l layout) []byte { return d[:l.offs[5]+3] },
		want: func(l layout) expect {
			return expect{survivors: all[:5], skipped: 3, corrupt: []int64{l.offs[5]}, truncated: 3}
		},
	}, {
		name:   "torn tail right after a header",
		mutate: func(d []byte, l layout) []byte { return d[:l.offs[5]+FrameOverhead] },
		want: func(l layout) expect {
			return expect{survivors: all[:5], skipped: FrameOverhead, corrupt: []int64{l.offs[5]}, truncated: FrameOverhead}
		},
	}, {
		name:   "garbage appended",
		mutate: func(d []byte, l layout) []byte { return append(d, garbage(100)...) },
		want: func(l layout) expect {
			return expect{survivors: all, skipped: 100, corrupt: []int64{l.size}, truncated: 100}
		},
	}, {
		name:   "zeroed tail, as preallocated or sparse",
		mutate: func(d []byte, l layout) []byte { return append(d, make([]byte, 64<<10)...) },
		want: func(l layout) expect {
			return expect{survivors: all, skipped: 64 << 10, corrupt: []int64{l.size}, truncated: 64 << 10}
		},
	}, {
		name:   "impossible length at the end",
		mutate: func(d []byte, l layout) []byte { return append(d, 0xf0, 0xff, 0xff, 0xff, 1, 2, 3, 4) },
		want: func(l layout) expect {
			return expect{survivors: all, skipped: 8, corrupt: []int64{l.size}, truncated: 8}
		},
	}, {
		name: "zeroed region over whole frames",
		mutate: func(d []byte, l layout) []byte {
			clear(d[l.offs[1]:l.offs[3]])
			return d
		},
		want: func(l layout) expect {
			return expect{survivors: []int{0, 3, 4, 5}, skipped: l.frames(1, 2), corrupt: []int64{l.offs[1]}}
		},
	}, {
		name: "zeroed region inside a payload",
		mutate: func(d []byte, l layout) []byte {
			clear(d[l.offs[4]+FrameOverhead+100 : l.offs[4]+FrameOverhead+200])
			return d
		},
		want: func(l layout) expect {
			return expect{survivors: []int{0, 1, 2, 3, 5}, skipped: l.frames(4), corrupt: []int64{l.offs[4]}}
		},
	}, {
		name: "zeroed region from mid-frame to the end",
		mutate: func(d []byte, l layout) []byte {
			clear(d[l.offs[3]+20:])
			return d
		},
		want: func(l layout) expect {
			return expect{survivors: all[:3], skipped: l.size - l.offs[3], corrupt: []int64{l.offs[3]}, truncated: l.size - l.offs[3]}
		},
	}, {
		name: "two separate corrupt frames",
		mutate: func(d []byte, l layout) []byte {
			d[l.offs[1]+FrameOverhead] ^= 0x40
			d[l.offs[4]+5] ^= 0x40
			return d
		},
		want: func(l layout) expect {
			return expect{survivors: []int{0, 2, 3, 5}, skipped: l.frames(1, 4), corrupt: []int64{l.offs[1], l.offs[4]}}
		},
	}, {
		name: "adjacent corrupt frames are one region",
		mutate: func(d []byte, l layout) []byte {
			d[l.offs[1]+FrameOverhead] ^= 0x40
			d[l.offs[2]+4] ^= 0x40
			return d
		},
		want: func(l layout) expect {
			return expect{survivors: []int{0, 3, 4, 5}, skipped: l.frames(1, 2), corrupt: []int64{l.offs[1]}}
		},
	}, {
		name: "every frame corrupt",
		mutate: func(d []byte, l layout) []byte {
			for _, o := range l.offs {
				d[o+4] ^= 0x01
			}
			return d
		},
		want: func(l layout) expect {
			n := l.size - HeaderSize
			return expect{skipped: n, corrupt: []int64{HeaderSize}, truncated: n}
		},
	}, {
		name: "garbage inserted between frames",
		mutate: func(d []byte, l layout) []byte {
			return slices.Insert(d, int(l.offs[3]), garbage(37)...)
		},
		want: func(l layout) expect {
			return expect{survivors: all, skipped: 37, corrupt: []int64{l.offs[3]}}
		},
	}, {
		name: "corrupt frame and torn tail",
		mutate: func(d []byte, l layout) []byte {
			d[l.offs[2]+1] ^= 0x01
			return d[:l.size-1]
		},
		want: func(l layout) expect {
			return expect{
				survivors: []int{0, 1, 3, 4},
				skipped:   l.frames(2) + l.sizes[5] - 1,
				corrupt:   []int64{l.offs[2], l.offs[5]},
				truncated: l.sizes[5] - 1,
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testdir.New(t)
			orig, offs := segmentBytes(corruptPayloads)
			l := layout{offs: offs, size: int64(len(orig))}
			for _, p := range corruptPayloads {
				l.sizes = append(l.sizes, FrameOverhead+int64(len(p)))
			}
			data := tt.mutate(bytes.Clone(orig), l)
			writeFile(t, dir, 1, data)

			if tt.badHead {
				checkBadHeader(t, dir, 1)
				return
			}
			want := tt.want(l)
			wantRecs := pick(corruptPayloads, want.survivors)

			res := readAll(t, dir, 1)
			checkAgainstFile(t, data, res)
			if !equalRecords(res.recs, wantRecs) {
				t.Fatalf("records %s, want %s", describe(res.recs), describe(wantRecs))
			}
			if res.skipped != want.skipped {
				t.Errorf("Skipped() = %d, want %d", res.skipped, want.skipped)
			}
			if !slices.Equal(res.corrupt, want.corrupt) {
				t.Errorf("corruptions at %v, want %v", res.corrupt, want.corrupt)
			}

			truncated, corrupt, err := Repair(dir, 1)
			if err != nil {
				t.Fatalf("Repair: %v", err)
			}
			if truncated != want.truncated {
				t.Errorf("Repair truncated %d bytes, want %d", truncated, want.truncated)
			}
			kept := int64(len(data)) - want.truncated
			var wantMid []int64
			for _, o := range want.corrupt {
				if o < kept {
					wantMid = append(wantMid, o)
				}
			}
			var gotMid []int64
			for _, c := range corrupt {
				gotMid = append(gotMid, c.Offset)
			}
			if !slices.Equal(gotMid, wantMid) {
				t.Errorf("Repair reported corruptions at %v, want %v", gotMid, wantMid)
			}
			if got := int64(len(readFile(t, dir, 1))); got != kept {
				t.Fatalf("after Repair the file has %d bytes, want %d", got, kept)
			}

			// A repaired segment takes appends, and everything reads back.
			w, err := OpenForAppend(dir, 1)
			if err != nil {
				t.Fatal(err)
			}
			if w.Size() != kept {
				t.Errorf("OpenForAppend: Size() = %d, want %d", w.Size(), kept)
			}
			after := []byte("appended after repair")
			if off, err := w.Append(after); err != nil || off != kept {
				t.Fatalf("Append after repair: offset %d, %v; want offset %d", off, err, kept)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			again := readAll(t, dir, 1)
			checkAgainstFile(t, readFile(t, dir, 1), again)
			if wantAll := append(wantRecs, after); !equalRecords(again.recs, wantAll) {
				t.Fatalf("after repair and append: records %s, want %s", describe(again.recs), describe(wantAll))
			}
			if again.skipped != want.skipped-want.truncated || !slices.Equal(again.corrupt, wantMid) {
				t.Errorf("after repair: skipped %d at %v, want %d at %v",
					again.skipped, again.corrupt, want.skipped-want.truncated, wantMid)
			}
		})
	}
}

// checkBadHeader fails unless opening, appending to and repairing the
// segment all fail with a *CorruptionErr at offset 0.
func checkBadHeader(t *testing.T, dir string, index uint64) {
	t.Helper()
	check := func(what string, err error) {
		t.Helper()
		var ce *CorruptionErr
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a *CorruptionErr", what, err)
			return
		}
		if ce.Offset != 0 || ce.Segment != index || ce.Dir != dir {
			t.Errorf("%s: %+v, want segment %d at offset 0 in %s", what, ce, index, dir)
		}
	}
	r, err := OpenReader(dir, index, 0)
	if err == nil {
		r.Close()
	}
	check("OpenReader", err)
	w, err := OpenForAppend(dir, index)
	if err == nil {
		w.Close()
	}
	check("OpenForAppend", err)
	_, _, err = Repair(dir, index)
	check("Repair", err)
}

func pick(payloads [][]byte, idx []int) [][]byte {
	var out [][]byte
	for _, i := range idx {
		out = append(out, payloads[i])
	}
	return out
}

// TestResyncFindsLargeFrames covers the resync's CRC index: valid frames
// longer than the read window behind a corrupt frame and behind random bytes,
// whose every plausible length must be ruled out without a false match.
func TestResyncFindsLargeFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	payloads := [][]byte{text(0, 300), random(1 << 20), random(100_000), random(2*crcBlock + 1), text(4, 10)}
	data, offs := segmentBytes(payloads)
	tests := []struct {
		name      string
		mutate    func([]byte) []byte
		survivors []int
		skipped   int64
	}{{
		name:      "corrupt text frame before a 1 MiB frame",
		mutate:    func(d []byte) []byte { d[offs[0]+100] ^= 1; return d },
		survivors: []int{1, 2, 3, 4},
		skipped:   offs[1] - offs[0],
	}, {
		name:      "corrupt 1 MiB frame of random bytes",
		mutate:    func(d []byte) []byte { d[offs[1]+5000] ^= 1; return d },
		survivors: []int{0, 2, 3, 4},
		skipped:   offs[2] - offs[1],
	}, {
		name:      "256 KiB of random bytes before the large frames",
		mutate:    func(d []byte) []byte { return slices.Insert(d, int(offs[1]), random(256<<10)...) },
		survivors: []int{0, 1, 2, 3, 4},
		skipped:   256 << 10,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testdir.New(t)
			d := tt.mutate(bytes.Clone(data))
			writeFile(t, dir, 1, d)
			res := readAll(t, dir, 1)
			checkAgainstFile(t, d, res)
			if want := pick(payloads, tt.survivors); !equalRecords(res.recs, want) {
				t.Fatalf("records %s, want %s", describe(res.recs), describe(want))
			}
			if res.skipped != tt.skipped || len(res.corrupt) != 1 {
				t.Fatalf("skipped %d bytes at %v, want %d in one region", res.skipped, res.corrupt, tt.skipped)
			}
		})
	}
}

func TestCorruptionsAreCapped(t *testing.T) {
	payloads := make([][]byte, 2*maxCorruptions+100)
	for i := range payloads {
		payloads[i] = text(i, 30)
	}
	data, offs := segmentBytes(payloads)
	for i := 0; i < len(offs); i += 2 {
		data[offs[i]+4] ^= 1 // every other frame
	}
	dir := testdir.New(t)
	writeFile(t, dir, 1, data)
	res := readAll(t, dir, 1)
	checkAgainstFile(t, data, res)
	if len(res.recs) != len(payloads)/2 || len(res.corrupt) != maxCorruptions {
		t.Fatalf("%d records and %d corruptions, want %d and %d", len(res.recs), len(res.corrupt), len(payloads)/2, maxCorruptions)
	}
	if want := int64(len(payloads)/2) * (FrameOverhead + 30); res.skipped != want {
		t.Fatalf("skipped %d, want %d", res.skipped, want)
	}
}

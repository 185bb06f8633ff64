package segment

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// FuzzReader reads arbitrary bytes as a segment file, whole and in steps of
// a rising limit, then repairs it. It checks that nothing panics, that every
// record is a whole frame whose CRC matches, that frames, skipped bytes and
// header account for the file exactly, that reading under a limit finds what
// reading without one does, and that Repair removes exactly the tail after
// the last valid frame.
func FuzzReader(f *testing.F) {
	valid, offs := segmentBytes([][]byte{text(0, 10), {}, text(2, 100), text(3, 1), text(4, 2*crcBlock+100)})
	mid := bytes.Clone(valid)
	mid[offs[2]+20] ^= 1
	f.Add(valid, uint16(1))
	f.Add(valid[:HeaderSize], uint16(0))
	f.Add(valid[:len(valid)-3], uint16(5))
	f.Add(valid[:offs[1]+3], uint16(2))
	f.Add(mid, uint16(3))
	f.Add(append(bytes.Clone(valid), make([]byte, 100)...), uint16(9))
	f.Add(append(bytes.Clone(valid), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), uint16(40))
	f.Add(slices.Insert(bytes.Clone(valid), int(offs[3]), []byte("some garbage between frames")...), uint16(7))
	f.Add([]byte(headerStr+"not a frame at all, only text"), uint16(11))
	f.Add([]byte("SLSG"), uint16(0))
	f.Add([]byte("SLSG\x02\x00\x00\x00"), uint16(0))
	f.Add([]byte{}, uint16(0))
	dir := testdir.New(f)
	f.Fuzz(func(t *testing.T, data []byte, step uint16) {
		writeFile(t, dir, 1, data)
		checkSegmentFile(t, dir, 1, data, uint64(step))
	})
}

// checkSegmentFile runs the checks of FuzzReader on segment index in dir,
// which holds data, and returns what reading it without a limit gave, or
// false if its header is bad. It repairs the segment and appends to it.
func checkSegmentFile(t *testing.T, dir string, index uint64, data []byte, step uint64) (readResult, bool) {
	t.Helper()
	r, err := OpenReader(dir, index, 0)
	if err != nil {
		var ce *CorruptionErr
		if !errors.As(err, &ce) || checkHeader(data[:min(len(data), HeaderSize)]) == nil {
			t.Fatalf("OpenReader: %v, want a *CorruptionErr for a bad header", err)
		}
		if _, _, err := Repair(dir, index); !errors.As(err, &ce) {
			t.Fatalf("Repair of a segment with a bad header: %v, want a *CorruptionErr", err)
		}
		return readResult{}, false
	}
	var whole readResult
	drain(t, r, &whole)
	r.Close()
	checkAgainstFile(t, data, whole)

	// The same file read under a limit rising in uneven steps, then without.
	r, err = OpenReader(dir, index, 0)
	if err != nil {
		t.Fatal(err)
	}
	var stepped readResult
	for limit := int64(HeaderSize); limit < int64(len(data))+FrameOverhead; {
		r.SetLimit(limit)
		n := len(stepped.recs)
		drain(t, r, &stepped)
		for _, end := range stepped.ends[n:] {
			if end > limit {
				t.Fatalf("frame ending at %d read past the limit %d", end, limit)
			}
		}
		limit += 1 + int64(step%97)
		step = step*6364136223846793005 + 1442695040888963407
	}
	r.SetLimit(-1)
	drain(t, r, &stepped)
	r.Close()
	if !equalRecords(stepped.recs, whole.recs) || !slices.Equal(stepped.offs, whole.offs) ||
		stepped.skipped != whole.skipped || !slices.Equal(stepped.corrupt, whole.corrupt) {
		t.Fatalf("under a rising limit: %d records at %v, skipped %d at %v; without: %d records at %v, skipped %d at %v",
			len(stepped.recs), stepped.offs, stepped.skipped, stepped.corrupt,
			len(whole.recs), whole.offs, whole.skipped, whole.corrupt)
	}

	// Repair removes what follows the last valid frame and nothing else.
	good := int64(HeaderSize)
	if n := len(whole.ends); n > 0 {
		good = whole.ends[n-1]
	}
	var mid []int64
	for _, o := range whole.corrupt {
		if o < good {
			mid = append(mid, o)
		}
	}
	truncated, corrupt, err := Repair(dir, index)
	if err != nil {
		t.Fatalf("Repair: %v", err)
	}
	var got []int64
	for _, c := range corrupt {
		got = append(got, c.Offset)
	}
	if truncated != int64(len(data))-good || !slices.Equal(got, mid) {
		t.Fatalf("Repair truncated %d bytes and reported %v, want %d and %v", truncated, got, int64(len(data))-good, mid)
	}
	w, err := OpenForAppend(dir, index)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append([]byte("after repair")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	after := readAll(t, dir, index)
	if want := append(slices.Clone(whole.recs), []byte("after repair")); !equalRecords(after.recs, want) ||
		after.skipped != whole.skipped-truncated || !slices.Equal(after.corrupt, mid) {
		t.Fatalf("after repair and append: %d records, skipped %d at %v; want %d, %d at %v",
			len(after.recs), after.skipped, after.corrupt, len(want), whole.skipped-truncated, mid)
	}
	return whole, true
}

// FuzzFlip damages a valid segment of random records (flipped bytes, and a
// cut, a zeroed region or appended garbage) and checks that every record read
// back is one of those written, at its own offset, and that every frame the
// damage did not touch is read back.
func FuzzFlip(f *testing.F) {
	for seed := range uint64(16) {
		f.Add(seed, uint8(seed), uint8(seed/4))
	}
	dir := testdir.New(f)
	f.Fuzz(func(t *testing.T, seed uint64, flips, mode uint8) {
		checkFlips(t, dir, seed, flips, mode)
	})
}

func TestRandomFlips(t *testing.T) {
	dir := testdir.New(t)
	n := uint64(400)
	if testing.Short() {
		n = 50
	}
	for seed := range n {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkFlips(t, dir, seed, uint8(seed*7), uint8(seed/3))
		})
	}
}

func checkFlips(t *testing.T, dir string, seed uint64, flips, mode uint8) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	payloads := make([][]byte, 1+rng.IntN(40))
	for i := range payloads {
		n := rng.IntN(300)
		if rng.IntN(8) == 0 {
			n = rng.IntN(20_000) // past the resync's direct CRC
		}
		payloads[i] = make([]byte, n)
		for j := range payloads[i] {
			payloads[i][j] = byte(rng.Uint32())
		}
	}
	data, offs := segmentBytes(payloads)
	touched := make([]bool, len(data))
	for range 1 + int(flips%8) {
		p := rng.IntN(len(data))
		data[p] ^= byte(1 + rng.IntN(255))
		touched[p] = true
	}
	switch mode % 4 {
	case 1: // a torn tail
		data = data[:HeaderSize+rng.IntN(len(data)-HeaderSize+1)]
	case 2: // a zeroed region
		a := rng.IntN(len(data))
		b := a + rng.IntN(len(data)-a+1)
		clear(data[a:b])
		for i := a; i < b; i++ {
			touched[i] = true
		}
	case 3: // garbage appended
		for range rng.IntN(500) {
			data = append(data, byte(rng.Uint32()))
		}
	}
	writeFile(t, dir, 1, data)
	res, ok := checkSegmentFile(t, dir, 1, data, seed)
	if !ok {
		return // the header was hit
	}
	next := 0 // records come back in order
	for k, rec := range res.recs {
		i := slices.Index(offs, res.offs[k])
		if i < next || !bytes.Equal(rec, payloads[i]) {
			t.Fatalf("record at %d (%d bytes) is not the record written there", res.offs[k], len(rec))
		}
		next = i + 1
	}
	for i, o := range offs {
		end := o + FrameOverhead + int64(len(payloads[i]))
		if end > int64(len(data)) || slices.Contains(touched[o:end], true) {
			continue
		}
		if !slices.Contains(res.offs, o) {
			t.Fatalf("intact frame %d at %d was not read back; read %v, corruptions at %v", i, o, res.offs, res.corrupt)
		}
	}
}

package segment

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
)

func TestLimit(t *testing.T) {
	payloads := [][]byte{text(0, 10), {}, text(2, 40), text(3, 5)}
	data, o := segmentBytes(payloads)
	size := int64(len(data))
	steps := []struct {
		limit int64
		want  []int // records the step reads
	}{
		{HeaderSize, nil},
		{o[0] + 3, nil},                 // inside the first frame's header
		{o[0] + FrameOverhead + 5, nil}, // inside its payload
		{o[1], []int{0}},                // at its end
		{o[1], nil},                     // again: nothing new
		{o[2], []int{1}},                // the empty record
		{size - 1, []int{2}},            // one byte short of the last frame
		{HeaderSize, nil},               // a lower limit reads nothing
		{size, []int{3}},
		{-1, nil}, // no limit, nothing more in the file
	}
	dir := testdir.New(t)
	writeFile(t, dir, 1, data)
	r, err := OpenReader(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i, s := range steps {
		r.SetLimit(s.limit)
		var res readResult
		drain(t, r, &res)
		if want := pick(payloads, s.want); !equalRecords(res.recs, want) {
			t.Fatalf("step %d, limit %d: records %s, want %s", i, s.limit, describe(res.recs), describe(want))
		}
		for _, end := range res.ends {
			if s.limit >= 0 && end > s.limit {
				t.Fatalf("step %d: frame ending at %d read past the limit %d", i, end, s.limit)
			}
		}
		if res.skipped != 0 || len(res.corrupt) != 0 {
			t.Fatalf("step %d, limit %d: skipped %d bytes at %v", i, s.limit, res.skipped, res.corrupt)
		}
	}
}

func TestLimitAndTornTail(t *testing.T) {
	payloads := [][]byte{text(0, 10), text(1, 20), text(2, 30)}
	full, o := segmentBytes(payloads)
	data := full[:len(full)-4]
	tests := []struct {
		name        string
		limit       int64
		wantCorrupt bool
	}{
		{"limit at the end of the file waits", int64(len(data)), false},
		{"limit past the end of the file reports it", int64(len(data)) + 100, true},
		{"no limit reports it", -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testdir.New(t)
			writeFile(t, dir, 1, data)
			r, err := OpenReader(dir, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.SetLimit(tt.limit)
			var res readResult
			drain(t, r, &res)
			if !equalRecords(res.recs, payloads[:2]) {
				t.Fatalf("records %s", describe(res.recs))
			}
			if got := len(res.corrupt) > 0; got != tt.wantCorrupt {
				t.Fatalf("corruptions at %v, want some: %v", res.corrupt, tt.wantCorrupt)
			}
			if tt.wantCorrupt && (res.corrupt[0] != o[2] || res.skipped != int64(len(data))-o[2]) {
				t.Fatalf("skipped %d at %v, want %d at %d", res.skipped, res.corrupt, int64(len(data))-o[2], o[2])
			}
			// Once the segment is sealed, the limit goes and the tail is reported.
			r.SetLimit(-1)
			drain(t, r, &res)
			if !slices.Equal(res.corrupt, []int64{o[2]}) || res.skipped != int64(len(data))-o[2] {
				t.Fatalf("without a limit: skipped %d at %v", res.skipped, res.corrupt)
			}
		})
	}
}

// TestLiveTail follows a segment while another goroutine appends to it, as
// the buffer does: the reader's limit is the writer's Size.
func TestLiveTail(t *testing.T) {
	dir := testdir.New(t)
	w, err := Create(dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := OpenReader(dir, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	rng := rand.New(rand.NewPCG(5, 6))
	payloads := make([][]byte, 3000)
	for i := range payloads {
		n := rng.IntN(2000)
		if i%500 == 7 {
			n = 300_000 // larger than the reader's window
		}
		payloads[i] = text(i, n)
	}

	var wg sync.WaitGroup
	defer wg.Wait() // before the deferred closes, should the test fail early
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < len(payloads); {
			if i%3 == 0 {
				n := min(1+i%17, len(payloads)-i)
				if werr = w.AppendFrames(inPlace(payloads[i : i+n])); werr != nil {
					return
				}
				i += n
				continue
			}
			if _, werr = w.Append(payloads[i]); werr != nil {
				return
			}
			i++
		}
	}()

	got := 0
	deadline := time.Now().Add(30 * time.Second)
	for got < len(payloads) && time.Now().Before(deadline) {
		limit := w.Size()
		r.SetLimit(limit)
		progressed := false
		for r.Next() {
			if r.End() > limit {
				t.Fatalf("frame ending at %d read past the limit %d", r.End(), limit)
			}
			if !bytes.Equal(r.Record(), payloads[got]) {
				t.Fatalf("record %d differs", got)
			}
			got++
			progressed = true
		}
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		if !progressed {
			time.Sleep(100 * time.Microsecond)
		}
	}
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	if got != len(payloads) {
		t.Fatalf("read %d of %d records before the deadline", got, len(payloads))
	}
	if r.Skipped() != 0 || len(r.Corruptions()) != 0 {
		t.Fatalf("skipped %d bytes: %v", r.Skipped(), r.Corruptions())
	}
}

// TestReadError closes the file under a reader: Next stops, and Err says
// which segment failed, whether it was reading frames or resynchronising.
func TestReadError(t *testing.T) {
	payloads := [][]byte{text(0, 10), text(1, 20), text(2, 2*defaultWindow)}
	data, o := segmentBytes(payloads)
	data[o[1]+FrameOverhead] ^= 1
	for _, name := range []string{"reading frames", "resynchronising"} {
		t.Run(name, func(t *testing.T) {
			dir := testdir.New(t)
			writeFile(t, dir, 1, data)
			r, err := OpenReader(dir, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			if name == "reading frames" {
				r.f.Close()
			} else {
				// The window holds the first two frames but not the end
				// of the file; the second frame is corrupt, so the next
				// Next resynchronises, and fails.
				if !r.Next() {
					t.Fatal("no first record")
				}
				r.f.Close()
			}
			if r.Next() {
				t.Fatal("Next returned a record from a closed file")
			}
			if err := r.Err(); err == nil || !strings.Contains(err.Error(), Name(1)) {
				t.Fatalf("Err() = %v, want an error naming the segment", err)
			}
			if r.Next() {
				t.Fatal("Next went on after an I/O error")
			}
		})
	}
}

// TestSealedSegmentWithoutLimit pins down why a sealed segment is read
// without a limit: a corrupt length that points past the end of the file
// looks, under a limit at the file's size, like a frame still being
// written, and the reader waits there; without a limit it is skipped and
// the frames behind it are read.
func TestSealedSegmentWithoutLimit(t *testing.T) {
	payloads := [][]byte{text(0, 10), text(1, 20), text(2, 30), text(3, 40)}
	data, o := segmentBytes(payloads)
	binary.LittleEndian.PutUint32(data[o[1]:], 1<<20) // plausible, past the end
	dir := testdir.New(t)
	writeFile(t, dir, 1, data)
	r, err := OpenReader(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	r.SetLimit(int64(len(data)))
	var res readResult
	drain(t, r, &res)
	if !equalRecords(res.recs, payloads[:1]) || len(res.corrupt) != 0 {
		t.Fatalf("under a limit: records %s, corruptions %v; want the first record, waiting", describe(res.recs), res.corrupt)
	}
	r.SetLimit(-1)
	drain(t, r, &res)
	if want := pick(payloads, []int{0, 2, 3}); !equalRecords(res.recs, want) || !slices.Equal(res.corrupt, []int64{o[1]}) {
		t.Fatalf("without a limit: records %s, corruptions %v", describe(res.recs), res.corrupt)
	}
}

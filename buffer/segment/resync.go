package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// directFrame is the longest candidate frame whose CRC a resync computes from
// the window; longer ones go through the CRC index.
const directFrame = FrameOverhead + 2*crcBlock

// scan resynchronises after the corrupt frame at r.pos. It tests every
// following position in turn and moves r.pos to the first where a valid frame
// starts, returning true. It returns false when it reaches the end of the
// file, or, under a limit, a position whose frame could still be completed
// past the limit: r.pos is then where the next call to Next goes on from.
// Every byte passed counts as skipped.
func (r *Reader) scan() bool {
	end, ok := r.scanEnd()
	if !ok {
		return false
	}
	// At the limit, a frame that does not fit yet may still be being written.
	atLimit := r.limit >= 0 && end == r.limit
	q := r.pos + 1
	for {
		if q+FrameOverhead > end {
			if atLimit {
				r.skipTo(min(q, end))
			} else {
				r.skipTo(end)
			}
			return false
		}
		w, ok := r.window(q, FrameOverhead)
		if !ok {
			return false
		}
		w = w[:min(int64(len(w)), end-q)]
		if len(w) < FrameOverhead { // the file shrank under the reader
			end, atLimit = q+int64(len(w)), false
			continue
		}
		// A frame header of eight zero bytes is never valid: crc32c of a zero
		// length is not zero. Preallocated and sparse regions pass quickly.
		if z := zeroPrefix(w); z >= FrameOverhead {
			q += int64(z - FrameOverhead + 1)
			continue
		}
		if length, _ := frameHeader(w); length <= MaxRecord {
			switch fe := q + FrameOverhead + int64(length); {
			case fe > end && atLimit:
				r.skipTo(q)
				return false
			case fe <= end:
				valid, ok := r.candidate(q, length)
				if !ok {
					return false
				}
				if valid {
					r.skipTo(q)
					return true
				}
			}
		}
		q++
	}
}

// scanEnd returns where a resync must stop: the end of the file, or the
// limit if it comes first. It asks the file system only when reads have not
// told already.
func (r *Reader) scanEnd() (int64, bool) {
	switch {
	case r.limit >= 0 && r.seen >= r.limit:
		return r.limit, true
	case r.limit < 0 && r.eof >= 0:
		return r.eof, true // without a limit the file is not growing
	}
	fi, err := r.f.Stat()
	if err != nil {
		r.err = fmt.Errorf("stat segment %s: %w", r.path(), err)
		return 0, false
	}
	end := fi.Size()
	r.seen = max(r.seen, end)
	if r.limit >= 0 && r.limit < end {
		end = r.limit
	}
	return end, true
}

// candidate reports whether a valid frame of the given length starts at q
// and ends within the file. It returns false as its second result on an I/O
// error, which it keeps in r.err.
func (r *Reader) candidate(q int64, length uint32) (valid, ok bool) {
	n := FrameOverhead + int(length)
	if n > directFrame {
		return r.candidateIndexed(q, length)
	}
	w, ok := r.window(q, n)
	if !ok {
		return false, false
	}
	if len(w) < n {
		return false, true
	}
	_, sum := frameHeader(w)
	return frameCRC(w[:4], w[FrameOverhead:n]) == sum, true
}

// candidateIndexed is candidate for a frame longer than directFrame. Its
// payload is split at block boundaries: the head and the tail are read and
// summed, the middle comes from the CRC index.
func (r *Reader) candidateIndexed(q int64, length uint32) (valid, ok bool) {
	start := q + FrameOverhead
	end := start + int64(length)
	a := (start + crcBlock - 1) / crcBlock * crcBlock
	b := end / crcBlock * crcBlock // a < b: the payload spans over two blocks

	w, ok := r.window(q, int(a-q))
	if !ok {
		return false, false
	}
	if int64(len(w)) < a-q {
		return false, true
	}
	_, want := frameHeader(w)
	head := frameCRC(w[:4], w[FrameOverhead:a-q]) // length field and payload up to a

	sa, sb, err := r.sums.prefixes(r.f, a, b, &r.side)
	if err != nil {
		return false, r.indexErr(err)
	}
	// Appending file[a:b] to what head covers shifts head by its length and
	// adds its CRC, sb ⊕ sa·shift; multiplication distributes over ⊕.
	sum := mulModP(xPow8n(b-a), head^sa) ^ sb

	if cap(r.side) < crcBlock {
		r.side = make([]byte, indexChunk)
	}
	tail := r.side[:end-b]
	if _, err := r.f.ReadAt(tail, b); err != nil {
		return false, r.indexErr(err)
	}
	return crc32.Update(sum, castagnoli, tail) == want, true
}

// indexErr keeps an I/O error from reading for the CRC index and reports
// whether the resync can go on: a file that ended early only rules the
// candidate out.
func (r *Reader) indexErr(err error) bool {
	if errors.Is(err, io.EOF) {
		return true
	}
	r.err = fmt.Errorf("read segment %s: %w", r.path(), err)
	return false
}

// zeroPrefix returns how many bytes at the start of b are zero.
func zeroPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == 0; i += 8 {
	}
	for ; i < len(b) && b[i] == 0; i++ {
	}
	return i
}

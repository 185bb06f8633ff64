package segment

import (
	"hash/crc32"
	"io"
)

// Resynchronising after a corruption tests, at every following position, the
// frame that would start there. A length that points megabytes ahead would
// cost a read and a CRC of megabytes at each such position; crcIndex makes it
// a few microseconds instead. CRC32 is linear, so the CRC of a range follows
// from the CRCs of the prefixes that end at its two ends:
//
//	crc(A‖B) = crc(A)·x^(8|B|) ⊕ crc(B)   (mod the CRC polynomial)
//
// The index keeps the CRC of every block-aligned prefix of the region being
// scanned; a candidate frame's CRC then needs its unaligned head and tail
// (under a block each) and two polynomial multiplications.

// crcBlock is the granularity of the index: 4 bytes of index per 4 KiB of file.
const crcBlock = 4096

// indexChunk is how much of the file the index reads at a time.
const indexChunk = 256 << 10

// indexKeep is how far behind the scan the index keeps its prefixes before
// dropping them, so a long scan holds a bounded index.
const indexKeep = MaxRecord

// castagnoliReflected is the Castagnoli polynomial in the bit order CRC-32 uses.
const castagnoliReflected = 0x82f63b78

// xPow2 holds x^(2^k) modulo the polynomial, for k up to 3+63.
var xPow2 = func() (t [67]uint32) {
	t[0] = 1 << 30 // x^1: bit 31 is x^0
	for k := 1; k < len(t); k++ {
		t[k] = mulModP(t[k-1], t[k-1])
	}
	return t
}()

// mulModP multiplies two polynomials, in CRC-32 bit order, modulo the Castagnoli polynomial.
func mulModP(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ castagnoliReflected
		} else {
			b >>= 1
		}
	}
	return p
}

// xPow8n returns x^(8n) modulo the polynomial: the shift n bytes of data apply to a CRC.
func xPow8n(n int64) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; k++ {
		if n&1 != 0 {
			p = mulModP(xPow2[k], p)
		}
		n >>= 1
	}
	return p
}

// crcIndex holds the CRC32C of the block-aligned prefixes of a region of a
// file whose bytes no longer change (below the reader's end).
type crcIndex struct {
	base int64    // file offset of sums[0], a multiple of crcBlock
	sums []uint32 // sums[k] is the CRC32C of file[base : base+k*crcBlock]
}

// prefixes returns the CRC32C of the region's prefixes that end at a and at
// b, multiples of crcBlock, reading through buf what the index does not cover
// yet. The CRC of file[a:b] is then sb ⊕ sa·x^(8(b-a)).
func (x *crcIndex) prefixes(f io.ReaderAt, a, b int64, buf *[]byte) (sa, sb uint32, err error) {
	switch {
	case len(x.sums) == 0 || a < x.base || a > x.covered():
		x.base, x.sums = a, append(x.sums[:0], 0) // start afresh at a
	case a-x.base > indexKeep:
		drop := (a - x.base) / crcBlock
		x.sums = append(x.sums[:0], x.sums[drop:]...)
		x.base += drop * crcBlock
	}
	if err := x.cover(f, b, buf); err != nil {
		return 0, 0, err
	}
	return x.sums[(a-x.base)/crcBlock], x.sums[(b-x.base)/crcBlock], nil
}

// cover extends the index to the prefix ending at to, a multiple of crcBlock.
func (x *crcIndex) cover(f io.ReaderAt, to int64, buf *[]byte) error {
	covered := x.covered()
	if covered >= to {
		return nil
	}
	if cap(*buf) < indexChunk {
		*buf = make([]byte, indexChunk)
	}
	sum := x.sums[len(x.sums)-1]
	for covered < to {
		n := min(to-covered, indexChunk)
		b := (*buf)[:n]
		if _, err := f.ReadAt(b, covered); err != nil {
			return err
		}
		for i := int64(0); i < n; i += crcBlock {
			sum = crc32.Update(sum, castagnoli, b[i:i+crcBlock])
			x.sums = append(x.sums, sum)
		}
		covered += n
	}
	return nil
}

// covered returns the end of the longest prefix the index holds.
func (x *crcIndex) covered() int64 { return x.base + int64(len(x.sums)-1)*crcBlock }

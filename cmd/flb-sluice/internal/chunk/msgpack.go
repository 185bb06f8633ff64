package chunk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// errShort is a value cut off by the end of the chunk.
var errShort = errors.New("value cut off by the end of the chunk")

// Kind is the type of a msgpack value, as far as the decoder cares.
type Kind uint8

// The kinds of msgpack values.
const (
	Nil Kind = iota
	Bool
	Int   // signed or unsigned integer
	Float // float32 or float64
	Str   // str or bin: Fluent Bit sends strings as either
	Array
	Map
	Ext
)

// head is what a value's first bytes say: its kind, where its payload
// starts, and its length (bytes for Str and Ext, items for Array and Map).
type head struct {
	kind    Kind
	hdr     int // header bytes before the payload
	n       int // payload bytes (Str, Ext, Int, Float) or items (Array, Map)
	extType int8
}

// readHead decodes the header of the value at b[0].
func readHead(b []byte) (head, error) {
	if len(b) == 0 {
		return head{}, errShort
	}
	c := b[0]
	switch {
	case c <= 0x7f, c >= 0xe0:
		return head{kind: Int, hdr: 0, n: 1}, nil
	case c >= 0x80 && c <= 0x8f:
		return head{kind: Map, hdr: 1, n: int(c & 0x0f)}, nil
	case c >= 0x90 && c <= 0x9f:
		return head{kind: Array, hdr: 1, n: int(c & 0x0f)}, nil
	case c >= 0xa0 && c <= 0xbf:
		return head{kind: Str, hdr: 1, n: int(c & 0x1f)}, nil
	}
	switch c {
	case 0xc0:
		return head{kind: Nil, hdr: 1}, nil
	case 0xc2, 0xc3:
		return head{kind: Bool, hdr: 1}, nil
	case 0xc4, 0xd9:
		return sized(b, Str, 1)
	case 0xc5, 0xda:
		return sized(b, Str, 2)
	case 0xc6, 0xdb:
		return sized(b, Str, 4)
	case 0xc7, 0xc8, 0xc9:
		h, err := sized(b, Ext, 1<<(c-0xc7))
		if err == nil {
			if len(b) < h.hdr+1 {
				return head{}, errShort
			}
			h.extType = int8(b[h.hdr])
			h.hdr++
		}
		return h, err
	case 0xca:
		return head{kind: Float, hdr: 1, n: 4}, nil
	case 0xcb:
		return head{kind: Float, hdr: 1, n: 8}, nil
	case 0xcc, 0xd0:
		return head{kind: Int, hdr: 1, n: 1}, nil
	case 0xcd, 0xd1:
		return head{kind: Int, hdr: 1, n: 2}, nil
	case 0xce, 0xd2:
		return head{kind: Int, hdr: 1, n: 4}, nil
	case 0xcf, 0xd3:
		return head{kind: Int, hdr: 1, n: 8}, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		if len(b) < 2 {
			return head{}, errShort
		}
		return head{kind: Ext, hdr: 2, n: 1 << (c - 0xd4), extType: int8(b[1])}, nil
	case 0xdc:
		return sized(b, Array, 2)
	case 0xdd:
		return sized(b, Array, 4)
	case 0xde:
		return sized(b, Map, 2)
	case 0xdf:
		return sized(b, Map, 4)
	}
	return head{}, fmt.Errorf("byte 0x%02x starts no msgpack value", c)
}

// sized reads a header whose length field has w bytes.
func sized(b []byte, k Kind, w int) (head, error) {
	if len(b) < 1+w {
		return head{}, errShort
	}
	var n uint64
	for _, x := range b[1 : 1+w] {
		n = n<<8 | uint64(x)
	}
	if n > math.MaxInt32 {
		return head{}, fmt.Errorf("length %d is beyond any chunk", n)
	}
	return head{kind: k, hdr: 1 + w, n: int(n)}, nil
}

// skip returns the size of the value at b[0]. Nesting is walked with a
// counter, not recursion, so a hostile chunk cannot exhaust the stack.
func skip(b []byte) (int, error) {
	off, pending := 0, 1
	for pending > 0 {
		h, err := readHead(b[off:])
		if err != nil {
			return 0, err
		}
		pending--
		switch h.kind {
		case Array:
			pending += h.n
			off += h.hdr
		case Map:
			pending += 2 * h.n
			off += h.hdr
		case Int:
			if h.hdr == 0 {
				off++
			} else {
				off += h.hdr + h.n
			}
		default:
			off += h.hdr + h.n
		}
		if off > len(b) {
			return 0, errShort
		}
		if pending > len(b)-off {
			return 0, errShort // more items announced than bytes left
		}
	}
	return off, nil
}

// Value is one msgpack value: a view of the chunk's bytes.
type Value []byte

// Kind is v's type.
func (v Value) Kind() Kind {
	h, err := readHead(v)
	if err != nil {
		return Nil
	}
	return h.kind
}

// Bytes is the content of a str or bin value; ok is false for other kinds.
func (v Value) Bytes() (b []byte, ok bool) {
	h, err := readHead(v)
	if err != nil || h.kind != Str || len(v) < h.hdr+h.n {
		return nil, false
	}
	return v[h.hdr : h.hdr+h.n], true
}

// Int is an integer value, or ok false. A uint64 past MaxInt64 is not one.
func (v Value) Int() (n int64, ok bool) {
	h, err := readHead(v)
	if err != nil || h.kind != Int || len(v) < h.hdr+h.n {
		return 0, false
	}
	if h.hdr == 0 {
		return int64(int8(v[0])), true
	}
	p := v[1 : 1+h.n]
	signed := v[0] >= 0xd0
	switch h.n {
	case 1:
		if signed {
			return int64(int8(p[0])), true
		}
		return int64(p[0]), true
	case 2:
		if signed {
			return int64(int16(binary.BigEndian.Uint16(p))), true
		}
		return int64(binary.BigEndian.Uint16(p)), true
	case 4:
		if signed {
			return int64(int32(binary.BigEndian.Uint32(p))), true
		}
		return int64(binary.BigEndian.Uint32(p)), true
	}
	u := binary.BigEndian.Uint64(p)
	if !signed && u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// Float is a float value, or ok false.
func (v Value) Float() (f float64, ok bool) {
	h, err := readHead(v)
	if err != nil || h.kind != Float || len(v) < h.hdr+h.n {
		return 0, false
	}
	if h.n == 4 {
		return float64(math.Float32frombits(binary.BigEndian.Uint32(v[1:]))), true
	}
	return math.Float64frombits(binary.BigEndian.Uint64(v[1:])), true
}

// Items calls fn for each element of an array, or each key and value of a
// map (fn(key, value)); for an array key is nil. It returns false when v is
// neither or is malformed; fn returning false stops early.
func (v Value) Items(fn func(k, val Value) bool) bool {
	h, err := readHead(v)
	if err != nil || (h.kind != Array && h.kind != Map) {
		return false
	}
	off := h.hdr
	next := func() (Value, bool) {
		n, err := skip(v[off:])
		if err != nil {
			return nil, false
		}
		x := v[off : off+n]
		off += n
		return x, true
	}
	for range h.n {
		var k Value
		if h.kind == Map {
			var ok bool
			if k, ok = next(); !ok {
				return false
			}
		}
		x, ok := next()
		if !ok {
			return false
		}
		if !fn(k, x) {
			return true
		}
	}
	return true
}

// Len is the number of items of an array or map, -1 for other kinds.
func (v Value) Len() int {
	h, err := readHead(v)
	if err != nil || (h.kind != Array && h.kind != Map) {
		return -1
	}
	return h.n
}

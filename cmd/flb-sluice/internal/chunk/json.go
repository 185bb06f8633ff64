package chunk

import (
	"strconv"

	"github.com/sluicelog/sluice/internal/jsontext"
)

// maxDepth bounds how deep AppendJSON descends; deeper values are written
// as the string "…", so a hostile chunk cannot exhaust the stack.
const maxDepth = 32

// AppendJSON appends v as JSON: str and bin as strings (invalid UTF-8
// replaced), ext values as {"ext":type,"data":"<hex>"}, map keys that are
// not strings as their JSON text. v must be well-formed (a Reader's values
// are).
func AppendJSON(dst []byte, v Value) []byte {
	return appendJSON(dst, v, 0)
}

// AppendText appends a string's bytes as they are and any other value as
// JSON: the form of a value that becomes an attribute or a log line.
func AppendText(dst []byte, v Value) []byte {
	if b, ok := v.Bytes(); ok {
		return append(dst, b...)
	}
	return AppendJSON(dst, v)
}

func appendJSON(dst []byte, v Value, depth int) []byte {
	h, err := readHead(v)
	if err != nil {
		return append(dst, "null"...)
	}
	switch h.kind {
	case Nil:
		return append(dst, "null"...)
	case Bool:
		return strconv.AppendBool(dst, v[0] == 0xc3)
	case Int:
		if n, ok := v.Int(); ok {
			return strconv.AppendInt(dst, n, 10)
		}
		return strconv.AppendUint(dst, uint64(v[1])<<56|uint64(v[2])<<48|uint64(v[3])<<40|uint64(v[4])<<32|
			uint64(v[5])<<24|uint64(v[6])<<16|uint64(v[7])<<8|uint64(v[8]), 10)
	case Float:
		f, _ := v.Float()
		if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
			return jsontext.AppendString(dst, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case Str:
		b, _ := v.Bytes()
		return jsontext.AppendString(dst, b)
	case Ext:
		dst = append(dst, `{"ext":`...)
		dst = strconv.AppendInt(dst, int64(h.extType), 10)
		dst = append(dst, `,"data":"`...)
		for _, c := range v[h.hdr : h.hdr+h.n] {
			dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		return append(dst, `"}`...)
	}
	if depth >= maxDepth {
		return append(dst, `"…"`...)
	}
	isMap := h.kind == Map
	if isMap {
		dst = append(dst, '{')
	} else {
		dst = append(dst, '[')
	}
	first := true
	v.Items(func(k, x Value) bool {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if isMap {
			if kb, ok := k.Bytes(); ok {
				dst = jsontext.AppendString(dst, kb)
			} else {
				dst = jsontext.AppendString(dst, appendJSON(nil, k, depth+1))
			}
			dst = append(dst, ':')
		}
		dst = appendJSON(dst, x, depth+1)
		return true
	})
	if isMap {
		return append(dst, '}')
	}
	return append(dst, ']')
}

package structured

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicelog/sluice/record"
)

// FuzzApply checks, for any bytes and every format: no panic; a record
// that was not parsed is unchanged; the input buffer is never written; a
// new body is either inside the line or new memory; attributes stay within
// MaxFields (plus level and the overflow); and every JSON object that
// encoding/json accepts (nested within maxNesting) parses.
func FuzzApply(f *testing.F) {
	for _, name := range []string{"json.txt", "logmonitor.txt"} {
		for _, l := range fixture(f, name) {
			f.Add([]byte(l), uint8(0))
		}
	}
	for _, s := range []string{
		`{}`, `{"msg":"\ud83d\ude00"}`, `{"a":{"b":{"c":{"d":{}}}}}`, `{"a":[{"b":[]}]}`,
		"{\"msg\":\"\xff\xfe\"}", `{"Source":"EventLog","LogEntry":{}}`, strings.Repeat("[", 600),
		`{"a":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 41),
	} {
		f.Add([]byte(s), uint8(1))
	}
	const maxFields = 4
	f.Fuzz(func(t *testing.T, line []byte, opts uint8) {
		p, err := New(Options{MaxFields: maxFields, MaxDepth: int(opts%4) + 1, Time: opts&4 != 0})
		if err != nil {
			t.Fatal(err)
		}
		orig := bytes.Clone(line)
		parsedJSON := false
		for _, format := range []Format{None, JSON, LogMonitor, Auto} {
			buf := bytes.Clone(line)
			shared := []record.Attr{{Key: "pod", Value: "p"}}
			r := record.Record{Body: buf, Attrs: shared[:1:1]}
			o := p.Apply(&r, format)
			if !bytes.Equal(buf, orig) {
				t.Fatalf("%s: the input changed", format)
			}
			if o != Parsed && o != Capped {
				if !bytes.Equal(r.Body, orig) || len(r.Attrs) != 1 || !r.Time.IsZero() {
					t.Fatalf("%s: %s but the record changed", format, o)
				}
				continue
			}
			if format == JSON {
				parsedJSON = true
			}
			for _, a := range r.Attrs {
				if !utf8.ValidString(a.Key) || !utf8.ValidString(a.Value) {
					t.Fatalf("%s: attribute %q=%q is not UTF-8", format, a.Key, a.Value)
				}
			}
			if r.Attrs[0] != shared[0] {
				t.Fatalf("%s: the enrichment attrs were lost: %q", format, r.Attrs)
			}
			if n := len(r.Attrs) - 1; format == JSON && n > maxFields+2 {
				t.Fatalf("%s: %d attributes", format, n)
			}
			if (o == Capped) != (r.Attrs[len(r.Attrs)-1].Key == DefaultPrefix+overflowKey) {
				t.Fatalf("%s: %s but attrs %q", format, o, r.Attrs)
			}
			if len(r.Body) > 0 && !inside(r.Body, buf) && overlaps(r.Body, buf) {
				t.Fatalf("%s: the body half overlaps the line", format)
			}
		}
		if isObject(line) && json.Valid(line) && !parsedJSON && nesting(line) <= maxNesting {
			t.Fatalf("encoding/json takes %q, Apply(JSON) does not", line)
		}
	})
}

// inside reports whether sub lies within b; overlaps whether they share
// any byte.
func inside(sub, b []byte) bool {
	s, e, lo, hi := bounds(sub, b)
	return lo <= s && e <= hi
}

func overlaps(sub, b []byte) bool {
	s, e, lo, hi := bounds(sub, b)
	return s < hi && lo < e
}

func bounds(sub, b []byte) (s, e, lo, hi uintptr) {
	s, lo = uintptrOf(unsafe.SliceData(sub)), uintptrOf(unsafe.SliceData(b))
	return s, s + uintptr(len(sub)), lo, lo + uintptr(len(b))
}

// nesting returns how deep brackets nest, outside strings.
func nesting(b []byte) int {
	depth, max, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '{' || c == '['):
			depth++
			max = maxInt(max, depth)
		case !inStr && (c == '}' || c == ']'):
			depth--
		}
	}
	return max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func uintptrOf(p *byte) uintptr { return uintptr(unsafe.Pointer(p)) }

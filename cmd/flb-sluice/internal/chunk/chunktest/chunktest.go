// Package chunktest writes Fluent Bit chunks for tests: msgpack events laid
// out as Fluent Bit's log event encoder writes them. It is test support:
// only _test.go files import it.
package chunktest

import (
	"encoding/binary"
	"math"
	"sort"
	"time"
)

// Bin marks a string that is written as msgpack bin, as Fluent Bit writes
// the strings some inputs and filters produce.
type Bin string

// Writer appends msgpack values.
type Writer struct{ B []byte }

// EventTime appends t as msgpack ext type 0: seconds and nanoseconds.
func (w *Writer) EventTime(sec, nsec uint32) {
	w.B = append(w.B, 0xd7, 0x00)
	w.B = binary.BigEndian.AppendUint32(w.B, sec)
	w.B = binary.BigEndian.AppendUint32(w.B, nsec)
}

// Event appends a Fluent Bit 2.1+ event [[EventTime, {}], rec].
func (w *Writer) Event(t time.Time, rec map[string]any) {
	w.B = append(w.B, 0x92, 0x92)
	w.EventTime(uint32(t.Unix()), uint32(t.Nanosecond()))
	w.B = append(w.B, 0x80)
	w.Value(rec)
}

// Legacy appends an older event [ts, rec] with ts as given (an integer, a
// float, or anything else to test refusals).
func (w *Writer) Legacy(ts any, rec map[string]any) {
	w.B = append(w.B, 0x92)
	w.Value(ts)
	w.Value(rec)
}

// GroupStart and GroupEnd append Fluent Bit 3.1+'s group markers, events
// whose timestamp seconds are -1 and -2.
func (w *Writer) GroupStart(meta map[string]any) { w.marker(0xFFFFFFFF, meta) }

// GroupEnd appends a group end marker.
func (w *Writer) GroupEnd() { w.marker(0xFFFFFFFE, map[string]any{}) }

func (w *Writer) marker(sec uint32, meta map[string]any) {
	w.B = append(w.B, 0x92, 0x92)
	w.EventTime(sec, 0)
	w.Value(meta)
	w.B = append(w.B, 0x80)
}

// Value appends v: nil, bool, string, Bin, []byte, integers, float64,
// []any, map[string]any (keys sorted) or time.Time (as EventTime).
func (w *Writer) Value(v any) {
	switch x := v.(type) {
	case nil:
		w.B = append(w.B, 0xc0)
	case bool:
		if x {
			w.B = append(w.B, 0xc3)
		} else {
			w.B = append(w.B, 0xc2)
		}
	case string:
		w.str(0xdb, 0xa0, x)
	case Bin:
		w.str(0xc6, 0, string(x))
	case []byte:
		w.str(0xc6, 0, string(x))
	case int:
		w.B = append(w.B, 0xd3)
		w.B = binary.BigEndian.AppendUint64(w.B, uint64(x))
	case int64:
		w.B = append(w.B, 0xd3)
		w.B = binary.BigEndian.AppendUint64(w.B, uint64(x))
	case uint64:
		w.B = append(w.B, 0xcf)
		w.B = binary.BigEndian.AppendUint64(w.B, x)
	case float64:
		w.B = append(w.B, 0xcb)
		w.B = binary.BigEndian.AppendUint64(w.B, math.Float64bits(x))
	case time.Time:
		w.EventTime(uint32(x.Unix()), uint32(x.Nanosecond()))
	case []any:
		w.B = append(w.B, 0xdd)
		w.B = binary.BigEndian.AppendUint32(w.B, uint32(len(x)))
		for _, e := range x {
			w.Value(e)
		}
	case map[string]any:
		w.B = append(w.B, 0xdf)
		w.B = binary.BigEndian.AppendUint32(w.B, uint32(len(x)))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.str(0xdb, 0xa0, k)
			w.Value(x[k])
		}
	default:
		panic("chunktest: cannot write a value of this type")
	}
}

// str writes s with the short fixstr header when fix is non-zero and s
// fits, else with the 32-bit header big.
func (w *Writer) str(big, fix byte, s string) {
	if fix != 0 && len(s) < 32 {
		w.B = append(w.B, fix|byte(len(s)))
	} else {
		w.B = append(w.B, big)
		w.B = binary.BigEndian.AppendUint32(w.B, uint32(len(s)))
	}
	w.B = append(w.B, s...)
}

package plugin

import (
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/sluicelog/sluice/cmd/flb-sluice/internal/chunk"
	"github.com/sluicelog/sluice/internal/jsontext"
	"github.com/sluicelog/sluice/record"
)

// batch is the reusable memory of one flush: the chunk's copy, its records
// and everything they point to. Records point into data and text, which
// stay untouched until the batch is reused by a later flush, after the
// sinks copied what they keep.
type batch struct {
	data  []byte
	recs  []record.Record
	attrs []record.Attr
	srcs  []record.Source
	rest  []kv
	text  []byte
	// shapes and corrupt count the events that could not be read.
	shapes  int
	corrupt bool
}

type kv struct{ k, v chunk.Value }

// str views b as a string without copying; b lives in the batch's memory.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// textOf renders v as attribute text: a string as it is, anything else as
// JSON in the batch's text memory.
func (b *batch) textOf(v chunk.Value) string {
	if s, ok := v.Bytes(); ok {
		return str(s)
	}
	start := len(b.text)
	b.text = chunk.AppendJSON(b.text, v)
	return str(b.text[start:])
}

// add appends the record of ev. tag identifies the chunk's source, so that
// with the index of the record in the chunk and its bytes it gives the
// record an identity a retried chunk repeats (Elasticsearch _id).
func (b *batch) add(m *Mapping, ev chunk.Event, tagHash uint64) {
	r := record.Record{Time: ev.Time, Offset: int64(len(b.recs))}
	b.srcs = append(b.srcs, record.Source{Dev: xxhash.Sum64(ev.Record), Ino: tagHash})
	first := len(b.attrs)
	b.rest = b.rest[:0]
	var logVal, k8s chunk.Value
	logPrio := len(m.logKeys)
	ev.Record.Items(func(k, v chunk.Value) bool {
		key, ok := k.Bytes()
		switch {
		case !ok || m.remove[string(key)]:
		case string(key) == "kubernetes" && v.Kind() == chunk.Map:
			k8s = v
		case string(key) == "stream" && v.Kind() == chunk.Str:
			s, _ := v.Bytes()
			r.Stream = str(s)
		default:
			if p := m.isLogKey(key); m.format == formatLog && p >= 0 && p < logPrio {
				if logVal != nil {
					b.rest = append(b.rest, kv{k: b.logKey(m, logPrio), v: logVal})
				}
				logVal, logPrio = v, p
				return true
			}
			if r.Time.IsZero() && string(key) == "time" {
				if s, ok := v.Bytes(); ok {
					if t, err := time.Parse(time.RFC3339Nano, str(s)); err == nil {
						r.Time = t
						return true
					}
				}
			}
			b.rest = append(b.rest, kv{k, v})
		}
		return true
	})
	if k8s != nil {
		b.kubernetes(m, k8s)
	}
	lineFromLog := logVal != nil
	for _, p := range b.rest {
		key, _ := p.k.Bytes()
		if m.promoted[string(key)] || (lineFromLog && !m.metaSet) {
			b.attrs = append(b.attrs, record.Attr{Key: str(key), Value: b.textOf(p.v)})
		}
	}
	start := len(b.text)
	switch {
	case lineFromLog:
		if s, ok := logVal.Bytes(); ok {
			r.Body = s
		} else {
			b.text = chunk.AppendJSON(b.text, logVal)
			r.Body = b.text[start:]
		}
	default:
		b.text = b.appendLine(b.text, m, m.format == formatKeyValue)
		r.Body = b.text[start:]
	}
	if !utf8.Valid(r.Body) {
		r.Flags |= record.FlagInvalidUTF8
	}
	r.Attrs = b.attrs[first:len(b.attrs):len(b.attrs)]
	b.recs = append(b.recs, r)
}

// logKey returns the name of the log key of priority p as a msgpack value,
// for a lower-priority log key that is kept as an ordinary key.
func (b *batch) logKey(m *Mapping, p int) chunk.Value {
	k := m.logKeys[p]
	start := len(b.text)
	b.text = append(b.text, 0xdb, byte(len(k)>>24), byte(len(k)>>16), byte(len(k)>>8), byte(len(k)))
	b.text = append(b.text, k...)
	return chunk.Value(b.text[start:])
}

// kubernetes adds the kubernetes filter's map as enrichment attributes.
func (b *batch) kubernetes(m *Mapping, k8s chunk.Value) {
	k8s.Items(func(k, v chunk.Value) bool {
		key, ok := k.Bytes()
		if !ok || m.removeK8s[string(key)] {
			return true
		}
		if name, ok := kubernetesKeys[string(key)]; ok {
			b.attrs = append(b.attrs, record.Attr{Key: name, Value: b.textOf(v)})
			return true
		}
		if prefix, ok := kubernetesMaps[string(key)]; ok && v.Kind() == chunk.Map {
			v.Items(func(lk, lv chunk.Value) bool {
				if lb, ok := lk.Bytes(); ok {
					start := len(b.text)
					b.text = append(append(b.text, prefix...), lb...)
					b.attrs = append(b.attrs, record.Attr{Key: str(b.text[start:]), Value: b.textOf(lv)})
				}
				return true
			})
			return true
		}
		start := len(b.text)
		b.text = append(append(b.text, otherKubernetes...), key...)
		b.attrs = append(b.attrs, record.Attr{Key: str(b.text[start:]), Value: b.textOf(v)})
		return true
	})
}

// appendLine writes the record's other keys (those not made attributes) as
// the line of line_format json or key_value, or of a record without a log
// key: a JSON object, or key=value pairs with values quoted when they hold
// a space, a quote or an equals sign.
func (b *batch) appendLine(dst []byte, m *Mapping, keyValue bool) []byte {
	sep := byte(',')
	if keyValue {
		sep = ' '
	} else {
		dst = append(dst, '{')
	}
	n := 0
	for _, p := range b.rest {
		key, _ := p.k.Bytes()
		if m.promoted[string(key)] {
			continue
		}
		if n > 0 {
			dst = append(dst, sep)
		}
		n++
		if !keyValue {
			dst = append(jsontext.AppendString(dst, key), ':')
			dst = chunk.AppendJSON(dst, p.v)
			continue
		}
		dst = append(append(dst, key...), '=')
		start := len(dst)
		dst = chunk.AppendText(dst, p.v)
		if v := dst[start:]; needsQuote(v) {
			dst = append(dst[:start], strconv.Quote(string(v))...)
		}
	}
	if !keyValue {
		dst = append(dst, '}')
	}
	return dst
}

func needsQuote(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	for _, c := range v {
		if c <= ' ' || c == '"' || c == '=' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// reset empties the batch for the next flush; the records' memory is
// overwritten from here on.
func (b *batch) reset(data []byte) {
	b.data = append(b.data[:0], data...)
	clear(b.recs)
	b.recs, b.attrs, b.srcs, b.rest, b.text = b.recs[:0], b.attrs[:0], b.srcs[:0], b.rest[:0], b.text[:0]
	b.shapes, b.corrupt = 0, false
}

// sources points each record at its identity; done once every record is
// added, as b.srcs may move while it grows.
func (b *batch) sources() {
	for i := range b.recs {
		b.recs[i].Source = &b.srcs[i]
	}
}

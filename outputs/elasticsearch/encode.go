package elasticsearch

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/sluicelog/sluice/internal/jsontext"
	"github.com/sluicelog/sluice/record"
)

// target is where documents go: a data stream, named from three parts, or
// an index, named from a template.
type target struct {
	stream             bool
	dsType             string // already clean
	dataset, namespace template
	index              template
	staticName         string // the whole name when no part depends on the record
	staticDS, staticNS string // the data stream parts when static
}

// encoder is the reusable state of Encode: buffers keep their capacity from
// one batch to the next, so a steady stream of batches allocates nothing per
// record. It is used by one goroutine at a time.
type encoder struct {
	t       *target
	names   *fieldNamer
	ids     bool
	idKey   string // attribute holding a record's own _id; "" for none
	cluster string // JSON-quoted, or ""
	name    []byte // the current record's index
	ds, ns  []byte // its data stream parts
	id      [idBytes]byte
	idText  [idText]byte
	hashBuf []byte

	// Records of one file share their Attrs and Path, and come in runs:
	// what was rendered for the previous record is reused when the next
	// has the same ones. Records do not change while Encode runs, and
	// forget drops it all before the next batch.
	attrsOf    *record.Attr // the Attrs attrsJSON was rendered from
	attrsN     int
	attrsJSON  []byte
	pathOf     string
	pathJSON   []byte
	targetOf   *record.Attr // the Attrs and day e.name was rendered for
	targetN    int
	targetDay  int
	targetSeen bool

	// The "2006-01-02T15:04:05" of the second secText was rendered for:
	// lines of a batch come from few seconds, and formatting the date is
	// most of the cost of a timestamp.
	sec     int64
	secText []byte
}

// forget drops what the previous batch left: its records' memory may hold
// other records now.
func (e *encoder) forget() {
	e.attrsOf, e.attrsN, e.attrsJSON = nil, -1, e.attrsJSON[:0]
	e.pathOf, e.pathJSON = "", e.pathJSON[:0]
	e.targetOf, e.targetSeen = nil, false
}

// idBytes is the size of a document id before base64: device, inode and
// offset of the line, and a hash of its time and body that tells a line
// apart from the one a reused inode had at that offset. idText is its
// base64url length.
const (
	idBytes = 32
	idText  = 43
)

// appendItem appends r's action and document lines to dst.
func (e *encoder) appendItem(dst []byte, r *record.Record, now time.Time) []byte {
	ts := r.Time
	if ts.IsZero() {
		ts = now
	}
	ts = ts.UTC()
	e.target(r, ts)
	dst = append(dst, `{"create":{"_index":`...)
	dst = jsontext.AppendString(dst, e.name)
	if e.ids {
		dst = append(dst, `,"_id":`...)
		if id, ok := e.ownID(r); ok {
			dst = jsontext.AppendString(dst, id)
		} else {
			dst = append(dst, '"')
			dst = append(dst, e.docID(r)...)
			dst = append(dst, '"')
		}
	}
	dst = append(dst, "}}\n"...)
	return e.appendDoc(dst, r, ts)
}

// target renders r's index (and data stream parts) into e.name.
func (e *encoder) target(r *record.Record, ts time.Time) {
	t := e.t
	day := ts.Year()<<9 | ts.YearDay()
	if e.targetSeen && e.targetOf == unsafe.SliceData(r.Attrs) && e.targetN == len(r.Attrs) && e.targetDay == day {
		return
	}
	e.targetOf, e.targetN, e.targetDay, e.targetSeen = unsafe.SliceData(r.Attrs), len(r.Attrs), day, true
	if t.staticName != "" {
		e.name = append(e.name[:0], t.staticName...)
		e.ds = append(e.ds[:0], t.staticDS...)
		e.ns = append(e.ns[:0], t.staticNS...)
		return
	}
	if !t.stream {
		e.name = finishIndex(t.index.appendTo(e.name[:0], r, ts, cleanIndex), 0)
		return
	}
	e.ds = capPart(t.dataset.appendTo(e.ds[:0], r, ts, cleanPart))
	e.ns = capPart(t.namespace.appendTo(e.ns[:0], r, ts, cleanPart))
	e.name = append(append(append(append(append(e.name[:0], t.dsType...), '-'), e.ds...), '-'), e.ns...)
}

func capPart(p []byte) []byte {
	if len(p) > maxPart {
		return p[:maxPart]
	}
	return p
}

// ownID is the value of r's idKey attribute, when it has a non-empty one.
func (e *encoder) ownID(r *record.Record) (string, bool) {
	if e.idKey == "" {
		return "", false
	}
	for _, a := range r.Attrs {
		if a.Key == e.idKey && a.Value != "" {
			return a.Value, true
		}
	}
	return "", false
}

// docID returns r's document id. A line read from a file is known by the
// file's identity (device and inode, as the checkpoint knows it) and the
// line's offset, with a hash of its time and body: the same line read again
// after a restart, a rotation or a retry gets the same id, and a reused
// inode's line at the same offset a different one. A record without a
// source is known by a hash of its time, stream, path and body.
func (e *encoder) docID(r *record.Record) []byte {
	if s := r.Source; s != nil {
		binary.BigEndian.PutUint64(e.id[0:], s.Dev)
		binary.BigEndian.PutUint64(e.id[8:], s.Ino)
		binary.BigEndian.PutUint64(e.id[16:], uint64(r.Offset))
		// The time is mixed in by a multiplication by an odd constant
		// (a bijection), not hashed with the body: one pass over the
		// body is all a line costs.
		binary.BigEndian.PutUint64(e.id[24:], xxhash.Sum64(r.Body)^uint64(r.Time.UnixNano())*0x9e3779b97f4a7c15)
	} else {
		// Two hashes with different prefixes: 128 bits, so ids of
		// distinct lines do not collide however many there are.
		b := binary.LittleEndian.AppendUint64(e.hashBuf[:0], uint64(r.Time.UnixNano()))
		b = append(b, r.Stream...)
		b = append(b, 0)
		b = append(b, r.Path...)
		b = append(b, 0)
		b = binary.BigEndian.AppendUint64(b, uint64(r.Offset))
		b = append(b, r.Body...)
		e.hashBuf = b
		binary.BigEndian.PutUint64(e.id[0:], xxhash.Sum64(b))
		binary.BigEndian.PutUint64(e.id[8:], xxhash.Sum64(append(b, 1)))
		clear(e.id[16:])
	}
	base64.RawURLEncoding.Encode(e.idText[:], e.id[:])
	return e.idText[:]
}

// appendDoc appends r's ECS document, one JSON line. Field names are dotted
// ("kubernetes.pod.name"), which Elasticsearch and OpenSearch expand into
// objects and VictoriaLogs stores as they are.
func (e *encoder) appendDoc(dst []byte, r *record.Record, ts time.Time) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = e.appendTime(dst, ts)
	dst = append(dst, `","message":`...)
	dst = jsontext.AppendString(dst, r.Body)
	if r.Stream != "" {
		dst = append(dst, `,"stream":`...)
		dst = jsontext.AppendString(dst, r.Stream)
	}
	if f := r.Flags & flagMask; f != 0 {
		dst = append(dst, `,"tags":`...)
		dst = append(dst, flagTags[f]...)
	}
	if r.Path != "" {
		if r.Path != e.pathOf || len(e.pathJSON) == 0 {
			e.pathOf = r.Path
			e.pathJSON = append(jsontext.AppendString(append(e.pathJSON[:0], `,"log.file.path":`...), r.Path), `,"log.offset":`...)
		}
		dst = append(dst, e.pathJSON...)
		dst = strconv.AppendInt(dst, r.Offset, 10)
	}
	if e.attrsOf != unsafe.SliceData(r.Attrs) || e.attrsN != len(r.Attrs) {
		e.attrsOf, e.attrsN = unsafe.SliceData(r.Attrs), len(r.Attrs)
		e.attrsJSON = e.appendAttrs(e.attrsJSON[:0], r.Attrs)
	}
	dst = append(dst, e.attrsJSON...)
	if e.cluster != "" {
		dst = append(dst, `,"orchestrator.cluster.name":`...)
		dst = append(dst, e.cluster...)
	}
	if e.t.stream {
		dst = append(dst, `,"data_stream.type":"`...)
		dst = append(dst, e.t.dsType...)
		dst = append(dst, `","data_stream.dataset":"`...)
		dst = append(dst, e.ds...)
		dst = append(dst, `","data_stream.namespace":"`...)
		dst = append(dst, e.ns...)
		dst = append(dst, '"')
	}
	return append(dst, "}\n"...)
}

// appendTime appends ts, which is in UTC, as time.RFC3339Nano does.
func (e *encoder) appendTime(dst []byte, ts time.Time) []byte {
	sec := ts.Unix()
	if len(e.secText) == 0 || sec != e.sec {
		if y := ts.Year(); y < 0 || y > 9999 {
			return ts.AppendFormat(dst, time.RFC3339Nano)
		}
		e.sec, e.secText = sec, ts.AppendFormat(e.secText[:0], "2006-01-02T15:04:05")
	}
	dst = append(dst, e.secText...)
	if ns := ts.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// appendAttrs renders attrs as the document's fields, each with a leading
// comma.
func (e *encoder) appendAttrs(dst []byte, attrs []record.Attr) []byte {
	for _, a := range attrs {
		field, ok := e.names.name(a.Key)
		if !ok {
			continue
		}
		v := a.Value
		if field == "container.id" {
			// "containerd://<id>": ECS keeps the runtime apart.
			if rt, id, found := strings.Cut(v, "://"); found {
				dst = append(dst, `,"container.runtime":`...)
				dst = jsontext.AppendString(dst, rt)
				v = id
			}
		}
		dst = append(dst, ',')
		dst = jsontext.AppendString(dst, field)
		dst = append(dst, ':')
		dst = jsontext.AppendString(dst, v)
	}
	return dst
}

const flagMask = record.FlagSplit | record.FlagRaw | record.FlagInvalidUTF8 | record.FlagNoNewline

// flagTags holds the "tags" JSON array for every flag combination, so that
// no record builds one.
var flagTags = func() (tags [flagMask + 1]string) {
	for f := range tags {
		tags[f] = `["` + strings.Join(record.Flags(f).Names(), `","`) + `"]`
	}
	return tags
}()

package loki

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"

	"github.com/sluicelog/sluice/internal/jsontext"
)

// The protobuf request is e.streams as a push.PushRequest, in the bytes the
// generated Marshal writes (a test holds it to that). sizeProto sizes every
// entry once, then writeProto appends forward: the generated code sizes
// each entry three times and spends a third of the encode time in its
// timestamp helpers.

// sizeProto sizes every entry into e.sizes and returns the size of the
// whole request.
func (e *encoder) sizeProto() int {
	e.sizes = slices.Grow(e.sizes[:0], len(e.flat))[:0]
	total := 0
	var prev []labelPair // the metadata sized last, and its size:
	prevSize := 0        // a file's entries share one metadata slice
	for i := range e.streams {
		n := fieldLen(len(e.streams[i].Labels))
		for j := range e.streams[i].Entries {
			ent := &e.streams[i].Entries[j]
			if !sameSlice(ent.StructuredMetadata, prev) {
				prev, prevSize = ent.StructuredMetadata, metadataSize(ent.StructuredMetadata)
			}
			es := headSize(ent) + prevSize
			e.sizes = append(e.sizes, es)
			n += 1 + uvarintLen(uint64(es)) + es
		}
		total += 1 + uvarintLen(uint64(n)) + n
	}
	return total
}

// writeProto appends the request sized by sizeProto to b. With a chunker
// it hands each full chunk to it as soon as one is written, so b holds
// less than a chunk plus one entry's head and metadata; a line crossing a
// chunk's end is written a chunk at a time.
func (e *encoder) writeProto(b []byte, z *chunker) []byte {
	k := 0
	var prev []labelPair
	e.metaEnc = e.metaEnc[:0] // prev's bytes, to write them again
	for i := range e.streams {
		st := &e.streams[i]
		n := fieldLen(len(st.Labels))
		for j := range st.Entries {
			n += 1 + uvarintLen(uint64(e.sizes[k+j])) + e.sizes[k+j]
		}
		b = appendTag(b, 1, n) // PushRequest.streams
		b = appendString(b, 1, st.Labels)
		for j := range st.Entries {
			ent := &st.Entries[j]
			b = appendTag(b, 2, e.sizes[k]) // StreamAdapter.entries
			b = appendEntryHead(b, ent)
			b = z.appendString(b, ent.Line)
			if !sameSlice(ent.StructuredMetadata, prev) {
				prev = ent.StructuredMetadata
				e.metaEnc = appendMetadata(e.metaEnc[:0], ent.StructuredMetadata)
			}
			b = append(b, e.metaEnc...)
			if z != nil && len(b) >= snappyChunk {
				b = z.flush(b)
			}
			k++
		}
	}
	return b
}

// fieldLen is the size of a non-repeated string field of n bytes; proto3
// leaves empty strings out.
func fieldLen(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + uvarintLen(uint64(n)) + n
}

func timestampSize(t time.Time) int {
	n := 0
	if s := t.Unix(); s != 0 {
		n += 1 + uvarintLen(uint64(s))
	}
	if ns := t.Nanosecond(); ns != 0 {
		n += 1 + uvarintLen(uint64(ns))
	}
	return n
}

func pairSize(p *labelPair) int { return fieldLen(len(p.Name)) + fieldLen(len(p.Value)) }

// headSize is the size of an entry's timestamp and line.
func headSize(ent *entry) int {
	ts := timestampSize(ent.Timestamp)
	return 1 + uvarintLen(uint64(ts)) + ts + fieldLen(len(ent.Line))
}

// metadataSize is the size of an entry's structured metadata fields.
func metadataSize(meta []labelPair) int {
	n := 0
	for i := range meta {
		ps := pairSize(&meta[i])
		n += 1 + uvarintLen(uint64(ps)) + ps
	}
	return n
}

// appendTag appends the key and length of a length-delimited field.
func appendTag(b []byte, field byte, n int) []byte {
	return binary.AppendUvarint(append(b, field<<3|2), uint64(n))
}

func appendString(b []byte, field byte, s string) []byte {
	if s == "" {
		return b
	}
	return append(appendTag(b, field, len(s)), s...)
}

// appendEntryHead writes an EntryAdapter's timestamp
// (google.protobuf.Timestamp, always present) and the key and length of
// its line; the line's bytes and the structured metadata follow
// (appendMetadata).
func appendEntryHead(b []byte, ent *entry) []byte {
	t := ent.Timestamp
	b = appendTag(b, 1, timestampSize(t))
	if s := t.Unix(); s != 0 {
		b = binary.AppendUvarint(append(b, 1<<3), uint64(s))
	}
	if ns := t.Nanosecond(); ns != 0 {
		b = binary.AppendUvarint(append(b, 2<<3), uint64(ns))
	}
	if ent.Line == "" {
		return b
	}
	return appendTag(b, 2, len(ent.Line))
}

// appendMetadata writes an entry's structured metadata fields.
func appendMetadata(b []byte, meta []labelPair) []byte {
	for i := range meta {
		p := &meta[i]
		b = appendTag(b, 3, pairSize(p))
		b = appendString(b, 1, p.Name)
		b = appendString(b, 2, p.Value)
	}
	return b
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// appendJSON appends e.streams in the JSON form of the push API:
// {"streams":[{"stream":{...},"values":[["<ns>","<line>",{<metadata>}]]}]}.
func (e *encoder) appendJSON(b []byte) []byte {
	b = append(b, `{"streams":[`...)
	for i := range e.streams {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":`...)
		b = appendJSONObject(b, e.active[i].pairs)
		b = append(b, `,"values":[`...)
		for j := range e.streams[i].Entries {
			ent := &e.streams[i].Entries[j]
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = strconv.AppendInt(b, ent.Timestamp.UnixNano(), 10)
			b = append(b, `",`...)
			b = jsontext.AppendString(b, ent.Line)
			if len(ent.StructuredMetadata) > 0 {
				b = append(b, ',')
				b = appendJSONObject(b, ent.StructuredMetadata)
			}
			b = append(b, ']')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

func appendJSONObject(b []byte, pairs []labelPair) []byte {
	b = append(b, '{')
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, p.Name)
		b = append(b, ':')
		b = jsontext.AppendString(b, p.Value)
	}
	return append(b, '}')
}

// decodeBody reads a request body back into streams; only the rare paths
// need it (dead-letter, split, metadata fallback), so it may be slow. For
// JSON it also returns each stream's label pairs, which appendJSON writes;
// protobuf needs only the label text.
func decodeBody(body []byte, isJSON bool) ([]stream, [][]labelPair, error) {
	if isJSON {
		return decodeJSON(body)
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, nil, fmt.Errorf("snappy: %w", err)
	}
	streams, err := unmarshalPush(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("protobuf: %w", err)
	}
	return streams, nil, nil
}

type jsonPush struct {
	Streams []struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	} `json:"streams"`
}

func decodeJSON(body []byte) ([]stream, [][]labelPair, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("gzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, nil, fmt.Errorf("gzip: %w", err)
	}
	var p jsonPush
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil, fmt.Errorf("json: %w", err)
	}
	streams := make([]stream, len(p.Streams))
	pairs := make([][]labelPair, len(p.Streams))
	for i, s := range p.Streams {
		pairs[i] = sortedPairs(s.Stream)
		streams[i].Labels = formatLabels(pairs[i])
		for _, v := range s.Values {
			ent, err := decodeValue(v)
			if err != nil {
				return nil, nil, err
			}
			streams[i].Entries = append(streams[i].Entries, ent)
		}
	}
	return streams, pairs, nil
}

func decodeValue(v []json.RawMessage) (entry, error) {
	var ent entry
	if len(v) < 2 || len(v) > 3 {
		return ent, fmt.Errorf("json: a value has %d elements", len(v))
	}
	var ns string
	var meta map[string]string
	if err := json.Unmarshal(v[0], &ns); err != nil {
		return ent, fmt.Errorf("json: timestamp: %w", err)
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return ent, fmt.Errorf("json: timestamp: %w", err)
	}
	if err := json.Unmarshal(v[1], &ent.Line); err != nil {
		return ent, fmt.Errorf("json: line: %w", err)
	}
	if len(v) == 3 {
		if err := json.Unmarshal(v[2], &meta); err != nil {
			return ent, fmt.Errorf("json: metadata: %w", err)
		}
	}
	ent.Timestamp = time.Unix(0, n).UTC()
	ent.StructuredMetadata = sortedPairs(meta)
	return ent, nil
}

func sortedPairs(m map[string]string) []labelPair {
	var out []labelPair
	for k, v := range m {
		out = append(out, labelPair{Name: k, Value: v})
	}
	slices.SortFunc(out, byName)
	return out
}

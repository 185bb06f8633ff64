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

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"

	"github.com/sluicelog/sluice/outputs/internal/jsontext"
)

// appendProto appends e.streams as a push.PushRequest. It does what
// PushRequest.Marshal does, but sizes each stream once instead of three
// times, and writes into a reused buffer.
func (e *encoder) appendProto(dst []byte) []byte {
	e.sizes = slices.Grow(e.sizes[:0], len(e.streams))[:len(e.streams)]
	total := 0
	for i := range e.streams {
		n := e.streams[i].Size()
		e.sizes[i] = n
		total += 1 + uvarintLen(uint64(n)) + n
	}
	buf := slices.Grow(dst[:0], total)[:total]
	end := total
	for i := len(e.streams) - 1; i >= 0; i-- {
		n, err := e.streams[i].MarshalToSizedBuffer(buf[:end])
		if err != nil || n != e.sizes[i] {
			// entryTime keeps every timestamp in range, the only error
			// the generated code has: this is a bug, not bad input.
			panic(fmt.Sprintf("loki: marshal stream %s: %d bytes of %d: %v", e.streams[i].Labels, n, e.sizes[i], err))
		}
		end -= n
		end -= uvarintLen(uint64(n))
		binary.PutUvarint(buf[end:], uint64(n))
		end--
		buf[end] = 0x0a // field 1 (streams), length-delimited
	}
	return buf
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

func appendJSONObject(b []byte, pairs []push.LabelAdapter) []byte {
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

// decodeBody reads a request body back into streams; only the dead-letter
// path needs it, so it may be slow.
func decodeBody(body []byte, isJSON bool) ([]push.Stream, error) {
	if isJSON {
		return decodeJSON(body)
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	var pr push.PushRequest
	if err := pr.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("protobuf: %w", err)
	}
	return pr.Streams, nil
}

type jsonPush struct {
	Streams []struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	} `json:"streams"`
}

func decodeJSON(body []byte) ([]push.Stream, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	var p jsonPush
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	streams := make([]push.Stream, len(p.Streams))
	for i, s := range p.Streams {
		streams[i].Labels = formatLabels(sortedPairs(s.Stream))
		for _, v := range s.Values {
			ent, err := decodeValue(v)
			if err != nil {
				return nil, err
			}
			streams[i].Entries = append(streams[i].Entries, ent)
		}
	}
	return streams, nil
}

func decodeValue(v []json.RawMessage) (push.Entry, error) {
	var ent push.Entry
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

func sortedPairs(m map[string]string) []push.LabelAdapter {
	var out []push.LabelAdapter
	for k, v := range m {
		out = append(out, push.LabelAdapter{Name: k, Value: v})
	}
	slices.SortFunc(out, byName)
	return out
}

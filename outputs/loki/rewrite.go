package loki

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicelog/sluice/outputs"
)

// fallback says where an entry's structured metadata goes.
type fallback uint8

const (
	keepMetadata   fallback = iota // on the entry, as structured metadata
	metadataInLine                 // appended to the line as " key=value" pairs
	dropMetadata                   // nowhere
)

var _ outputs.Splitter[*Request] = (*Sink)(nil)

// parseFallback reads Config.StructuredMetadataFallback.
func parseFallback(v string) (fallback, error) {
	switch strings.ToLower(v) {
	case "", "line":
		return metadataInLine, nil
	case "drop":
		return dropMetadata, nil
	}
	return 0, fmt.Errorf("loki structured_metadata_fallback %q: must be line or drop", v)
}

// fold is what Encode does with structured metadata: keep it until the
// server said it refuses it, then the configured fallback.
func (s *Sink) fold() fallback {
	if s.noMetadata.Load() {
		return s.fallback
	}
	return keepMetadata
}

// disallowedMetadata is the text Loki answers (400) when structured metadata
// is turned off, as Loki before 3.0 and schemas before v13 have it: Loki's
// pkg/validation/validate.go, DisallowedStructuredMetadataErrorMsg, "stream
// '%s' includes structured metadata, but this feature is disallowed. Please
// see `limits_config.allow_structured_metadata` or contact your Loki
// administrator to enable it."
const disallowedMetadata = "structured metadata, but this feature is disallowed"

// refusesMetadata reports whether a push was answered with Loki's refusal
// of structured metadata.
func refusesMetadata(code int, body []byte) bool {
	return code == 400 && strings.Contains(string(body), disallowedMetadata)
}

// foldMetadata switches the sink to its fallback, warning once, and
// re-encodes req with it. False when req had no metadata to fold (so the
// refusal was not about it) or could not be read back.
func (s *Sink) foldMetadata(req *Request) bool {
	if s.noMetadata.CompareAndSwap(false, true) {
		where := "appended to each line as key=value pairs"
		if s.fallback == dropMetadata {
			where = "dropped"
		}
		s.log.Warn("the loki server refuses structured metadata (Loki before 3.0, a schema before v13, or allow_structured_metadata off): from now on the fields that went there are "+where,
			"url", s.shown)
	}
	streams, pairs, err := decodeBody(req.body, req.json)
	if err != nil {
		s.log.Error("read back a request to resend it without structured metadata", "err", err)
		return false
	}
	folded := false
	var line []byte
	for i := range streams {
		for j := range streams[i].Entries {
			ent := &streams[i].Entries[j]
			if len(ent.StructuredMetadata) == 0 {
				continue
			}
			if s.fallback == metadataInLine {
				line = appendLogfmt(append(line[:0], ent.Line...), ent.StructuredMetadata)
				ent.Line = string(line)
			}
			ent.StructuredMetadata, folded = nil, true
		}
	}
	if folded {
		req.body = encodeStreams(req.body, req.json, streams, pairs)
	}
	return folded
}

// appendLogfmt appends each pair as " name=value", the value quoted when it
// is empty or holds a space, a quote, an equals sign or a control character,
// so that logfmt parsers (LogQL's | logfmt) read the fields back.
func appendLogfmt(dst []byte, meta []labelPair) []byte {
	for _, m := range meta {
		dst = append(append(append(dst, ' '), m.Name...), '=')
		if needsQuote(m.Value) {
			dst = strconv.AppendQuote(dst, m.Value)
		} else {
			dst = append(dst, m.Value...)
		}
	}
	return dst
}

func needsQuote(v string) bool {
	if v == "" {
		return true
	}
	for _, c := range v {
		if c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f || c == utf8.RuneError {
			return true
		}
	}
	return false
}

// Split implements outputs.Splitter: it reads the body back and encodes its
// first and second half of entries as two requests. Entries keep their
// order within each stream, the first half's before the second's.
func (s *Sink) Split(req *Request) (first, second *Request, ok bool) {
	if req.records < 2 {
		return nil, nil, false
	}
	streams, pairs, err := decodeBody(req.body, req.json)
	if err != nil {
		s.log.Error("read back a request to split it", "err", err)
		return nil, nil, false
	}
	n := 0
	for _, st := range streams {
		n += len(st.Entries)
	}
	if n < 2 {
		return nil, nil, false
	}
	var a, b []stream
	var pa, pb [][]labelPair
	left := n / 2
	for i, st := range streams {
		var p []labelPair
		if pairs != nil {
			p = pairs[i]
		}
		switch {
		case left >= len(st.Entries):
			a, pa = append(a, st), append(pa, p)
			left -= len(st.Entries)
		case left == 0:
			b, pb = append(b, st), append(pb, p)
		default:
			a, pa = append(a, stream{Labels: st.Labels, Entries: st.Entries[:left]}), append(pa, p)
			b, pb = append(b, stream{Labels: st.Labels, Entries: st.Entries[left:]}), append(pb, p)
			left = 0
		}
	}
	return s.requestOf(a, pa), s.requestOf(b, pb), true
}

// requestOf encodes streams as a request of their own.
func (s *Sink) requestOf(streams []stream, pairs [][]labelPair) *Request {
	req := s.newRequest()
	for _, st := range streams {
		for _, e := range st.Entries {
			req.records++
			req.bytes += len(e.Line)
		}
	}
	if len(streams) > 0 && len(streams[0].Entries) > 0 {
		req.sample = appendSample(req.sample, streams[0].Entries[0].Line)
	}
	req.body = encodeStreams(req.body, s.json, streams, pairs)
	return req
}

// encodeStreams encodes decoded streams onto dst's memory; pairs are each
// stream's labels, needed for JSON only.
func encodeStreams(dst []byte, isJSON bool, streams []stream, pairs [][]labelPair) []byte {
	e := &encoder{streams: streams}
	if isJSON {
		e.active = make([]*streamInfo, len(streams))
		for i := range streams {
			e.active[i] = &streamInfo{pairs: pairs[i]}
		}
	}
	return e.compress(dst, isJSON)
}

package structured

import (
	"bytes"

	"github.com/sluicelog/sluice/internal/jsonstr"
)

// looksLogMonitor reports whether b starts as LogMonitor's JSON lines do:
// {"Source": (LogMonitor writes `{"Source": "EventLog","LogEntry": {...}}`).
func looksLogMonitor(b []byte) bool {
	s := scanner{b: b}
	if !s.consume('{') {
		return false
	}
	s.ws()
	const key = `"Source"`
	if !bytes.HasPrefix(b[s.i:], []byte(key)) {
		return false
	}
	s.i += len(key)
	return s.consume(':')
}

// Attribute keys of LogMonitor entries.
const (
	attrSource       = "windows.logmonitor.source"
	attrChannel      = "windows.event.channel"
	attrProvider     = "windows.event.provider"
	attrProviderGUID = "windows.event.provider_guid"
	attrEventID      = "windows.event.id"
	attrKeywords     = "windows.event.keywords"
	attrTime         = "windows.event.time"
	attrFile         = "log.file.path"
	attrEventPrefix  = "windows.event."
	attrTopPrefix    = "windows.logmonitor."
)

// entryKeys maps LogMonitor's entry fields onto attribute keys; the
// lookup ignores case, since the sources spell them differently
// (EventId, EventID).
var entryKeys = []struct{ field, attr string }{
	{"Channel", attrChannel},
	{"EventSource", attrProvider},
	{"Provider", attrProvider},
	{"ProviderName", attrProvider},
	{"ProviderId", attrProviderGUID},
	{"ProviderGuid", attrProviderGUID},
	{"EventId", attrEventID},
	{"Keyword", attrKeywords},
	{"Keywords", attrKeywords},
	{"FileName", attrFile},
	{"Time", attrTime},
}

// logMonitorLine reads a LogMonitor entry: Parsed, or NotThisFormat for
// valid JSON of another shape, or Invalid.
func (p *Parser) logMonitorLine() Outcome {
	s := &p.sc
	s.ws()
	source, entry := false, false
	ok := s.members(func(ks, ke int, esc bool) bool {
		key := s.b[ks:ke]
		switch {
		case !esc && string(key) == "Source" && s.peek() == '"':
			source = true
			p.path = append(p.path[:0], attrSource...)
			return p.rawMember()
		case !esc && string(key) == "LogEntry" && s.peek() == '{':
			entry = true
			return s.members(p.entryField)
		case !esc && string(key) == "SchemaVersion":
			return s.skip()
		}
		p.path = appendKey(append(p.path[:0], attrTopPrefix...), key, esc)
		return p.rawMember()
	})
	s.ws()
	switch {
	case !ok || s.i != len(s.b):
		return Invalid
	case !source || !entry:
		return NotThisFormat
	}
	return Parsed
}

// entryField reads the value of the LogEntry member whose raw key is at
// [ks, ke).
func (p *Parser) entryField(ks, ke int, esc bool) bool {
	s := &p.sc
	key := s.b[ks:ke]
	if esc || s.peek() != '"' {
		p.path = entryAttr(p.path[:0], key, esc)
		return p.rawMember()
	}
	vs, ve, vesc, ok := s.str()
	if !ok {
		return false
	}
	switch {
	case p.body == nil && (bytes.EqualFold(key, []byte("Message")) || bytes.EqualFold(key, []byte("Logline"))):
		p.setBody(vs, ve, vesc)
		return true
	case ve-vs <= maxLevelLen && bytes.EqualFold(key, []byte("Level")):
		p.addLevel(vs, ve, vesc)
		return true
	case p.opt.Time && !vesc && bytes.EqualFold(key, []byte("Time")):
		if t, ok := parseTime(s.b[vs:ve]); ok {
			p.t = t
			return true
		}
	}
	p.path = entryAttr(p.path[:0], key, esc)
	p.addString(vs, ve, vesc, "")
	return true
}

// entryAttr appends the attribute key of the entry's field key.
func entryAttr(dst, key []byte, esc bool) []byte {
	if !esc {
		for _, k := range entryKeys {
			if bytes.EqualFold(key, []byte(k.field)) {
				return append(dst, k.attr...)
			}
		}
	}
	return appendKey(append(dst, attrEventPrefix...), key, esc)
}

// rawMember reads any value and adds it under p.path: a string without
// its quotes, anything else as its JSON text.
func (p *Parser) rawMember() bool {
	s := &p.sc
	start := s.i
	if s.peek() == '"' {
		vs, ve, esc, ok := s.str()
		if !ok {
			return false
		}
		p.addString(vs, ve, esc, "")
		return true
	}
	if !s.skip() {
		return false
	}
	p.add("", s.b[start:s.i], s.b[start:s.i])
	return true
}

// addString adds the string at raw bounds [vs, ve) under prefix+p.path.
func (p *Parser) addString(vs, ve int, esc bool, prefix string) {
	s := &p.sc
	raw := s.b[vs-1 : ve+1]
	if !esc {
		p.add(prefix, s.b[vs:ve], raw)
		return
	}
	n := len(p.msg)
	p.msg = jsonstr.AppendUnescaped(p.msg, s.b[vs:ve])
	p.add(prefix, p.msg[n:], raw)
	p.msg = p.msg[:n]
}

func appendKey(dst, key []byte, esc bool) []byte {
	if esc {
		return jsonstr.AppendUnescaped(dst, key)
	}
	return append(dst, key...)
}

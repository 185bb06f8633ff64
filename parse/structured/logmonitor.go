package structured

import "bytes"

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
}

// logMonitorLine reads a LogMonitor entry: Parsed, or NotThisFormat for
// valid JSON of another shape, or Invalid.
func (p *Parser) logMonitorLine() Outcome {
	s := &p.sc
	s.ws()
	s.i++ // '{'
	source, entry := false, false
	for closed := s.consume('}'); !closed; {
		s.ws()
		ks, ke, esc, ok := s.str()
		if !ok || !s.consume(':') {
			return Invalid
		}
		s.ws()
		key := s.b[ks:ke]
		switch {
		case !esc && string(key) == "Source" && s.peek() == '"':
			p.path = append(p.path[:0], attrSource...)
			if !p.rawMember() {
				return Invalid
			}
			source = true
		case !esc && string(key) == "LogEntry" && s.peek() == '{':
			if !p.logEntry() {
				return Invalid
			}
			entry = true
		case !esc && string(key) == "SchemaVersion":
			if !s.skip() {
				return Invalid
			}
		default:
			p.path = appendKey(append(p.path[:0], attrTopPrefix...), key, esc)
			if !p.rawMember() {
				return Invalid
			}
		}
		if s.consume('}') {
			closed = true
		} else if !s.consume(',') {
			return Invalid
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return Invalid
	}
	if !source || !entry {
		return NotThisFormat
	}
	return Parsed
}

// logEntry reads the LogEntry object.
func (p *Parser) logEntry() bool {
	s := &p.sc
	s.i++ // '{'
	if s.consume('}') {
		return true
	}
	for {
		s.ws()
		ks, ke, esc, ok := s.str()
		if !ok || !s.consume(':') {
			return false
		}
		s.ws()
		key := s.b[ks:ke]
		if !p.entryField(key, esc) {
			return false
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// entryField reads the value of the entry's field key.
func (p *Parser) entryField(key []byte, esc bool) bool {
	s := &p.sc
	isStr := s.peek() == '"'
	switch {
	case isStr && !esc && (bytes.EqualFold(key, []byte("Message")) || bytes.EqualFold(key, []byte("Logline"))) && p.body == nil:
		vs, ve, vesc, ok := s.str()
		if !ok {
			return false
		}
		p.setBody(vs, ve, vesc)
		return true
	case isStr && !esc && bytes.EqualFold(key, []byte("Level")):
		vs, ve, vesc, ok := s.str()
		if !ok {
			return false
		}
		p.addLevel(vs, ve, vesc)
		return true
	case isStr && !esc && bytes.EqualFold(key, []byte("Time")):
		vs, ve, vesc, ok := s.str()
		if !ok {
			return false
		}
		if p.opt.Time && !vesc {
			if t, ok := parseTime(s.b[vs:ve]); ok {
				p.t = t
				return true
			}
		}
		p.path = append(p.path[:0], attrTime...)
		p.addString(vs, ve, vesc, "")
		return true
	}
	p.path = p.path[:0]
	for _, k := range entryKeys {
		if !esc && bytes.EqualFold(key, []byte(k.field)) {
			p.path = append(p.path, k.attr...)
			break
		}
	}
	if len(p.path) == 0 {
		p.path = appendKey(append(p.path, attrEventPrefix...), key, esc)
	}
	return p.rawMember()
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
	p.msg = appendUnescaped(p.msg, s.b[vs:ve])
	p.add(prefix, p.msg[n:], raw)
	p.msg = p.msg[:n]
}

func appendKey(dst, key []byte, esc bool) []byte {
	if esc {
		return appendUnescaped(dst, key)
	}
	return append(dst, key...)
}

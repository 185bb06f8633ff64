package structured

import (
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/sluicelog/sluice/inputs/timestamp"
)

// jsonLine reads the whole body as one JSON object (white space may follow).
func (p *Parser) jsonLine() bool {
	s := &p.sc
	s.ws()
	if !p.object(0) {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// object reads the object at i, whose fields' paths start with p.path.
func (p *Parser) object(depth int) bool {
	s := &p.sc
	base := len(p.path)
	return s.members(func(ks, ke int, esc bool) bool {
		p.path = appendKey(p.path[:base], s.b[ks:ke], esc)
		ok := p.member(depth)
		p.path = p.path[:base]
		return ok
	})
}

// member reads the value of the field at p.path.
func (p *Parser) member(depth int) bool {
	s := &p.sc
	start := s.i
	switch s.peek() {
	case '{':
		if depth+1 < p.opt.MaxDepth && !p.capped() {
			p.path = append(p.path, '.')
			return p.object(depth + 1)
		}
		if !s.skip() {
			return false
		}
		p.add(p.opt.Prefix, s.b[start:s.i], s.b[start:s.i])
	case '[':
		if !s.skip() {
			return false
		}
		p.add(p.opt.Prefix, s.b[start:s.i], s.b[start:s.i])
	case '"':
		vs, ve, esc, ok := s.str()
		if !ok {
			return false
		}
		if p.special(depth, vs, ve, esc) {
			return true
		}
		p.addString(vs, ve, esc, p.opt.Prefix)
	default:
		if !s.scalar() {
			return false
		}
		v := s.b[start:s.i]
		if !p.level && len(v) <= maxLevelLen && isLevelKey(p.path) {
			p.level = true
			p.addLower("level", v)
			return true
		}
		if p.opt.Time && depth == 0 && p.t.IsZero() && isTimeKey(p.path) {
			if t, ok := numberTime(v); ok {
				p.t = t
				return true
			}
		}
		p.add(p.opt.Prefix, v, v)
	}
	return true
}

// capped reports whether MaxFields is reached, after which nested objects
// go whole into the overflow object.
func (p *Parser) capped() bool { return len(p.kv) >= p.opt.MaxFields }

// special takes the string field at p.path as the message, level or time
// when it is one, and reports whether it did.
func (p *Parser) special(depth int, vs, ve int, esc bool) bool {
	s := &p.sc
	switch {
	case depth == 0 && p.body == nil && isMessageKey(p.path):
		p.setBody(vs, ve, esc)
		return true
	case !p.level && ve-vs <= maxLevelLen && isLevelKey(p.path):
		p.level = true
		p.addLevel(vs, ve, esc)
		return true
	case p.opt.Time && depth == 0 && p.t.IsZero() && !esc && isTimeKey(p.path):
		if t, ok := parseTime(s.b[vs:ve]); ok {
			p.t = t
			return true
		}
	}
	return false
}

func isMessageKey(k []byte) bool {
	switch string(k) {
	case "msg", "message", "Message", "log":
		return true
	}
	return false
}

func isLevelKey(k []byte) bool {
	switch string(k) {
	case "level", "lvl", "severity", "log.level", "Level", "Severity":
		return true
	}
	return false
}

func isTimeKey(k []byte) bool {
	switch string(k) {
	case "time", "timestamp", "ts", "@timestamp", "Time":
		return true
	}
	return false
}

// parseTime reads RFC 3339, or RFC 3339 without a zone as UTC (as
// LogMonitor and many .NET loggers write it).
func parseTime(b []byte) (time.Time, bool) {
	if t, ok := timestamp.ParseRFC3339(b); ok {
		return t, true
	}
	var buf [40]byte
	if len(b) < 19 || len(b) > len(buf)-1 {
		return time.Time{}, false
	}
	n := copy(buf[:], b)
	if buf[10] == ' ' {
		buf[10] = 'T'
	}
	buf[n] = 'Z'
	return timestamp.ParseRFC3339(buf[:n+1])
}

// numberTime reads a Unix time: seconds (with a fraction), or whole
// milliseconds, microseconds or nanoseconds, told apart by size.
func numberTime(b []byte) (time.Time, bool) {
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	switch {
	case f < 1e11:
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	case f < 1e14:
		return time.UnixMilli(int64(f)).UTC(), true
	case f < 1e17:
		return time.UnixMicro(int64(f)).UTC(), true
	case f < 9e18:
		return time.Unix(0, int64(f)).UTC(), true
	}
	return time.Time{}, false
}

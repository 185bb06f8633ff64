package structured

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicelog/sluice/internal/jsonstr"
	"github.com/sluicelog/sluice/record"
)

// Format is how a file's lines are structured.
type Format uint8

const (
	// None leaves lines as they are.
	None Format = iota
	// JSON takes a body that is a JSON object apart into its fields.
	JSON
	// LogMonitor takes Microsoft LogMonitor's JSON output apart.
	LogMonitor
	// Auto applies LogMonitor to the lines that start as LogMonitor's
	// JSON does ({"Source":) and leaves the others alone.
	Auto
)

var formatNames = [...]string{"none", "json", "logmonitor", "auto"}

// String returns the name ParseFormat takes.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat reads a format's name as configuration and annotations
// write it: "none" (or ""), "json", "logmonitor" or "auto", any case.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return None, nil
	}
	for i, n := range formatNames {
		if strings.EqualFold(s, n) {
			return Format(i), nil
		}
	}
	return None, fmt.Errorf("parse format %q: want one of none, json, logmonitor, auto", s)
}

// Outcome is what Apply did with a record; callers count them.
type Outcome uint8

const (
	// Skipped: the format was None, or Auto found no LogMonitor line.
	Skipped Outcome = iota
	// Parsed: the record now carries the line's fields.
	Parsed
	// Capped: parsed, but the fields past Options.MaxFields were kept
	// together as one JSON text attribute (<prefix>_overflow).
	Capped
	// NotThisFormat: the body is not a JSON object (or, for LogMonitor,
	// not a LogMonitor entry); the record is unchanged.
	NotThisFormat
	// Invalid: the body starts as a JSON object but is not valid JSON (cut,
	// nested beyond reason); the record is unchanged.
	Invalid
)

var outcomeNames = [...]string{"skipped", "parsed", "capped", "not_this_format", "invalid"}

// String returns a name fit for a metric label.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Options shape what Apply makes of a line. The zero value is usable:
// New fills in the defaults.
type Options struct {
	// Prefix starts the attribute key of every JSON field that is not the
	// message, level or time. Default "json.": a bare field name could take
	// an attribute enrichment gives (a JSON "pod" or "namespace" would
	// shadow the real one) or one a sink writes itself ("message",
	// "stream"), and a common prefix lets sinks find the fields (the
	// Elasticsearch sink writes them under "json."). Use NoPrefix for bare
	// names.
	Prefix string
	// NoPrefix makes field names the attribute keys as they are.
	NoPrefix bool
	// MaxDepth is how many levels of nested objects are flattened into
	// dotted keys; deeper objects are kept as JSON text. Default 3, at most 32.
	MaxDepth int
	// MaxFields bounds the attributes one record gets from its fields
	// (default 64, at most 1024); the rest are kept as one JSON text
	// attribute and Apply returns Capped.
	MaxFields int
	// Time takes a time field as the record's time when it parses.
	Time bool
}

// DefaultPrefix is the prefix of JSON fields' attribute keys when
// Options.Prefix is empty.
const DefaultPrefix = "json."

// maxLevelLen bounds a level: a longer value is no level word but an
// ordinary field, and would make a poor stream label (Loki refuses label
// values past 2048 bytes, failing the whole push).
const maxLevelLen = 64

// overflowKey follows the prefix in the key of the capped fields' attribute.
const overflowKey = "_overflow"

// Parser applies a Format to records. It keeps scratch buffers: one
// Parser per goroutine.
type Parser struct {
	opt  Options
	sc   scanner
	out  []byte  // text of the new attributes: keys and values
	kv   []field // the new attributes, as bounds in out
	path []byte  // the dotted path of the field being read
	msg  []byte  // an escaped message, decoded
	over []byte  // fields past MaxFields, as one JSON object
	tmp  []byte  // out repaired to UTF-8

	// Per line.
	body    []byte // the new body; nil: keep the line
	bodySub bool   // body is a sub-slice of the line
	t       time.Time
	level   bool
}

type field struct{ ks, ke, vs, ve int }

// New checks o and fills in its defaults.
func New(o Options) (*Parser, error) {
	switch {
	case o.MaxDepth < 0 || o.MaxDepth > 32:
		return nil, fmt.Errorf("structured: max depth %d: want 0 to 32", o.MaxDepth)
	case o.MaxFields < 0 || o.MaxFields > 1024:
		return nil, fmt.Errorf("structured: max fields %d: want 0 to 1024", o.MaxFields)
	case o.NoPrefix && o.Prefix != "":
		return nil, fmt.Errorf("structured: prefix %q and no prefix both set", o.Prefix)
	}
	if o.Prefix == "" && !o.NoPrefix {
		o.Prefix = DefaultPrefix
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = 3
	}
	if o.MaxFields == 0 {
		o.MaxFields = 64
	}
	return &Parser{opt: o}, nil
}

// Options returns the options in effect, defaults filled in.
func (p *Parser) Options() Options { return p.opt }

// Apply parses r.Body in format f. When it returns Parsed or Capped it has
// set r.Body to the message (or left the line when there is none), given r
// fresh Attrs (r's attrs, then the line's) and, with Options.Time, maybe
// r.Time; with any other outcome r is unchanged.
func (p *Parser) Apply(r *record.Record, f Format) Outcome {
	switch f {
	case JSON:
		if !isObject(r.Body) {
			return NotThisFormat
		}
		p.reset(r.Body)
		if !p.jsonLine() {
			return Invalid
		}
	case LogMonitor, Auto:
		if f == Auto && !looksLogMonitor(r.Body) {
			return Skipped
		}
		if !isObject(r.Body) {
			return NotThisFormat
		}
		p.reset(r.Body)
		if o := p.logMonitorLine(); o != Parsed {
			return o
		}
	default:
		return Skipped
	}
	return p.commit(r)
}

func (p *Parser) reset(b []byte) {
	p.sc.b, p.sc.i = b, 0
	p.out, p.kv, p.path, p.msg, p.over = p.out[:0], p.kv[:0], p.path[:0], p.msg[:0], p.over[:0]
	p.body, p.bodySub, p.t, p.level = nil, false, time.Time{}, false
}

// isObject reports whether b starts, after white space, with '{'.
func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// commit moves the parsed line into r: one string for all attribute text,
// one new Attrs slice, and the body.
func (p *Parser) commit(r *record.Record) Outcome {
	o := Parsed
	if len(p.over) > 0 {
		o = Capped
		ks := len(p.out)
		p.out = append(append(p.out, p.opt.Prefix...), overflowKey...)
		vs := len(p.out)
		p.out = append(append(p.out, p.over...), '}')
		p.kv = append(p.kv, field{ks, vs, vs, len(p.out)})
	}
	if len(p.kv) > 0 {
		if !p.fieldsUTF8() {
			p.repairUTF8()
		}
		text := string(p.out)
		attrs := make([]record.Attr, len(r.Attrs), len(r.Attrs)+len(p.kv))
		copy(attrs, r.Attrs)
		for _, f := range p.kv {
			attrs = append(attrs, record.Attr{Key: text[f.ks:f.ke], Value: text[f.vs:f.ve]})
		}
		r.Attrs = attrs
	}
	switch {
	case p.bodySub:
		r.Body = p.body
	case p.body != nil:
		r.Body = append(make([]byte, 0, len(p.body)), p.body...)
	}
	if !p.t.IsZero() {
		r.Time = p.t
	}
	return o
}

// fieldsUTF8 reports whether every attribute key and value is UTF-8 on
// its own. The whole of p.out being UTF-8 is not enough: a key ending in a
// lead byte followed by a value starting with its continuation reads as
// one character across the two. Within valid UTF-8, a field is valid when
// it starts and ends at the start of a character.
func (p *Parser) fieldsUTF8() bool {
	if !utf8.Valid(p.out) {
		return false
	}
	at := func(i int) bool { return i >= len(p.out) || utf8.RuneStart(p.out[i]) }
	for _, f := range p.kv {
		if !at(f.ks) || !at(f.ke) || !at(f.vs) || !at(f.ve) {
			return false
		}
	}
	return true
}

// repairUTF8 replaces each run of bytes that are not UTF-8 in the
// attributes' keys and values by one U+FFFD: sinks put them in label
// values, metadata and JSON documents, which must be UTF-8 (the body keeps
// its bytes; the input flagged it).
func (p *Parser) repairUTF8() {
	p.tmp = p.tmp[:0]
	for i, f := range p.kv {
		ks := len(p.tmp)
		p.tmp = appendValidUTF8(p.tmp, p.out[f.ks:f.ke])
		vs := len(p.tmp)
		p.tmp = appendValidUTF8(p.tmp, p.out[f.vs:f.ve])
		p.kv[i] = field{ks, vs, vs, len(p.tmp)}
	}
	p.out, p.tmp = p.tmp, p.out
}

func appendValidUTF8(dst, b []byte) []byte {
	bad := false
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			if !bad {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			}
			bad = true
		} else {
			dst = append(dst, b[:n]...)
			bad = false
		}
		b = b[n:]
	}
	return dst
}

// add records the attribute key (prefix + path) = value, or past MaxFields
// the field's raw JSON value under its path in the overflow object.
func (p *Parser) add(prefix string, value []byte, raw []byte) {
	if len(p.kv) >= p.opt.MaxFields {
		if len(p.over) == 0 {
			p.over = append(p.over, '{')
		} else {
			p.over = append(p.over, ',')
		}
		p.over = appendJSONString(p.over, p.path)
		p.over = append(append(p.over, ':'), raw...)
		return
	}
	ks := len(p.out)
	p.out = append(append(p.out, prefix...), p.path...)
	vs := len(p.out)
	p.out = append(p.out, value...)
	p.kv = append(p.kv, field{ks, vs, vs, len(p.out)})
}

// addLower adds key = ASCII-lower-cased value, past any cap: the level is
// never an overflow field.
func (p *Parser) addLower(key string, value []byte) {
	ks := len(p.out)
	p.out = append(p.out, key...)
	vs := len(p.out)
	for _, c := range value {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		p.out = append(p.out, c)
	}
	p.kv = append(p.kv, field{ks, vs, vs, len(p.out)})
}

// setBody makes the string at raw bounds [s, e) the new body.
func (p *Parser) setBody(s, e int, esc bool) {
	if !esc {
		p.body, p.bodySub = p.sc.b[s:e:e], true
		return
	}
	p.msg = jsonstr.AppendUnescaped(p.msg[:0], p.sc.b[s:e])
	p.body, p.bodySub = p.msg, false
}

// addLevel adds the string at raw bounds [vs, ve) as "level", lower-cased.
func (p *Parser) addLevel(vs, ve int, esc bool) {
	if !esc {
		p.addLower("level", p.sc.b[vs:ve])
		return
	}
	n := len(p.msg)
	p.msg = jsonstr.AppendUnescaped(p.msg, p.sc.b[vs:ve])
	p.addLower("level", p.msg[n:])
	p.msg = p.msg[:n]
}

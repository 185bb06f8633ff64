package glob

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PatternError reports a malformed pattern and where in it the problem is.
type PatternError struct {
	Pattern string
	Offset  int // byte offset in Pattern, from 0
	Problem string
}

// Error names the pattern, the problem and the offset.
func (e *PatternError) Error() string {
	return fmt.Sprintf("glob pattern %s: %s at offset %d", quote(e.Pattern), e.Problem, e.Offset)
}

// quote puts s in double quotes, escaping only when s has something that
// does not print: %q would double every backslash of a Windows path.
func quote(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return `"` + s + `"`
	}
	return strconv.Quote(s)
}

// maxAlternatives bounds what {} expansion may produce for one element, so
// that a pattern like {a,b}{a,b}{a,b}... cannot take unbounded memory.
const maxAlternatives = 1024

// op is the kind of one parsed item of an element.
type op uint8

const (
	opLit   op = iota // text matched as is (or folded)
	opStar            // *
	opOne             // ?
	opClass           // [...]
	opBrace           // {a,b}
)

// node is one parsed item. A brace node holds its alternatives, which are
// expanded away before matching.
type node struct {
	op    op
	lit   string
	class *class
	alts  [][]node
}

// parser reads the syntax of one element. Elements are split at separators
// before parsing, so [...] and {...} cannot contain a separator.
type parser struct {
	pattern string // the whole pattern, for errors
	src     string // the element
	off     int    // offset of src in pattern
	pos     int    // read position in src
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &PatternError{Pattern: p.pattern, Offset: p.off + pos, Problem: fmt.Sprintf(format, args...)}
}

// seq parses items up to the end of the element or, inside braces, up to a
// ',' or '}' at this nesting level.
func (p *parser) seq(inBrace bool) ([]node, error) {
	var out []node
	for p.pos < len(p.src) {
		var n node
		var err error
		switch c := p.src[p.pos]; {
		case c == '*':
			n, p.pos = node{op: opStar}, p.pos+1
		case c == '?':
			n, p.pos = node{op: opOne}, p.pos+1
		case c == '[':
			n.op = opClass
			n.class, err = p.class()
		case c == '{':
			n, err = p.brace()
		case inBrace && (c == ',' || c == '}'):
			return out, nil
		default:
			_, w := utf8.DecodeRuneInString(p.src[p.pos:])
			n, p.pos = node{op: opLit, lit: p.src[p.pos : p.pos+w]}, p.pos+w
		}
		if err != nil {
			return nil, err
		}
		if k := len(out) - 1; n.op == opLit && k >= 0 && out[k].op == opLit {
			out[k].lit += n.lit
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// brace parses {a,b,...}; alternatives may be empty and may nest.
func (p *parser) brace() (node, error) {
	start := p.pos
	p.pos++
	n := node{op: opBrace}
	for {
		alt, err := p.seq(true)
		if err != nil {
			return node{}, err
		}
		n.alts = append(n.alts, alt)
		if p.pos >= len(p.src) {
			return node{}, p.errorf(start, "unclosed { (alternatives cannot contain a separator)")
		}
		p.pos++
		if p.src[p.pos-1] == '}' {
			return n, nil
		}
	}
}

// class parses [abc], [a-z], [!a] or [^a]. A ']' right after the opening
// (or after the negation) is a member, as in POSIX, so []] and [!]] work.
func (p *parser) class() (*class, error) {
	start := p.pos
	p.pos++
	c := &class{}
	if p.pos < len(p.src) && (p.src[p.pos] == '!' || p.src[p.pos] == '^') {
		c.negate = true
		p.pos++
	}
	for first := true; ; first = false {
		if p.pos >= len(p.src) {
			return nil, p.errorf(start, "unclosed [ (a class cannot contain a separator)")
		}
		if p.src[p.pos] == ']' && !first {
			p.pos++
			return c, nil
		}
		lo := p.rune()
		hi := lo
		if p.pos+1 < len(p.src) && p.src[p.pos] == '-' && p.src[p.pos+1] != ']' {
			p.pos++
			hiPos := p.pos
			if hi = p.rune(); hi < lo {
				return nil, p.errorf(hiPos, "reversed range %c-%c", lo, hi)
			}
		}
		c.ranges = append(c.ranges, runeRange{lo, hi})
	}
}

func (p *parser) rune() rune {
	r, w := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += w
	return r
}

// expand replaces brace nodes by the sequences they stand for.
func (p *parser) expand(seq []node) ([][]node, error) {
	out := [][]node{nil}
	for _, n := range seq {
		if n.op != opBrace {
			for i := range out {
				out[i] = append(out[i], n)
			}
			continue
		}
		var next [][]node
		for _, alt := range n.alts {
			tails, err := p.expand(alt)
			if err != nil {
				return nil, err
			}
			for _, head := range out {
				for _, tail := range tails {
					if len(next) == maxAlternatives {
						return nil, p.errorf(0, "more than %d {} alternatives", maxAlternatives)
					}
					next = append(next, append(append([]node(nil), head...), tail...))
				}
			}
		}
		out = next
	}
	return out, nil
}

package glob

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// elemKind tells how one pattern element is compared with a path element.
type elemKind uint8

const (
	elemLiteral elemKind = iota // no wildcard: compared whole
	elemWild                    // *, ?, [...] or {...} within the element
	elemAny                     // "**" alone: zero or more whole elements
)

// elem is one compiled pattern element. Matching it never allocates.
type elem struct {
	kind elemKind
	lit  string // elemLiteral: the element's text
	alts []seq  // elemWild: the {} alternatives, none of which has braces left
}

// compileElem compiles src, the element found at offset off of pattern.
func compileElem(pattern, src string, off int) (elem, error) {
	if src == "**" {
		return elem{kind: elemAny}, nil
	}
	p := parser{pattern: pattern, src: src, off: off}
	nodes, err := p.seq(false)
	if err != nil {
		return elem{}, err
	}
	if len(nodes) == 1 && nodes[0].op == opLit {
		return elem{kind: elemLiteral, lit: src}, nil
	}
	flat, err := p.expand(nodes)
	if err != nil {
		return elem{}, err
	}
	e := elem{kind: elemWild}
	for _, f := range flat {
		e.alts = append(e.alts, newSeq(f))
	}
	return e, nil
}

// match reports whether the path element name matches e.
func (e *elem) match(name string, fold bool) bool {
	switch e.kind {
	case elemLiteral:
		return equal(e.lit, name, fold)
	case elemAny:
		return true
	}
	for i := range e.alts {
		if e.alts[i].match(name, fold) {
			return true
		}
	}
	return false
}

// tokKind is the kind of a token that consumes a fixed number of runes.
type tokKind uint8

const (
	tokLit   tokKind = iota // literal text
	tokOne                  // ?
	tokClass                // [...]
)

type token struct {
	kind  tokKind
	lit   string
	class *class
}

// chunk is a run of fixed-width tokens, optionally preceded by a '*'.
// Splitting at stars is what lets matching avoid recursion: without
// backtracking into earlier chunks, the leftmost place where a chunk fits is
// always as good as any later one, except for the last chunk, which must end
// the name.
type chunk struct {
	star  bool
	toks  []token
	runes int // runes the tokens consume: fixed, even when folding changes byte lengths
}

// seq is one brace-free alternative of an element.
type seq []chunk

func newSeq(nodes []node) seq {
	q := seq{{}}
	for _, n := range nodes {
		c := &q[len(q)-1]
		switch n.op {
		case opStar:
			if len(c.toks) > 0 {
				q = append(q, chunk{star: true})
			} else {
				c.star = true // ** inside an element, or a leading *
			}
			continue
		case opLit:
			if k := len(c.toks) - 1; k >= 0 && c.toks[k].kind == tokLit {
				c.toks[k].lit += n.lit
			} else {
				c.toks = append(c.toks, token{kind: tokLit, lit: n.lit})
			}
			c.runes += utf8.RuneCountInString(n.lit)
			continue
		case opOne:
			c.toks = append(c.toks, token{kind: tokOne})
		case opClass:
			c.toks = append(c.toks, token{kind: tokClass, class: n.class})
		}
		c.runes++
	}
	return q
}

func (q seq) match(s string, fold bool) bool {
	for i := range q {
		c := &q[i]
		last := i == len(q)-1
		var ok bool
		switch {
		case !c.star:
			if s, ok = c.prefix(s, fold); !ok {
				return false
			}
		case last:
			if len(c.toks) == 0 {
				return true
			}
			if s, ok = lastRunes(s, c.runes); !ok {
				return false
			}
			s, ok = c.prefix(s, fold)
			return ok && s == ""
		default:
			if s, ok = c.find(s, fold); !ok {
				return false
			}
		}
	}
	return s == ""
}

// find matches c at the leftmost place in s and returns what follows.
func (c *chunk) find(s string, fold bool) (string, bool) {
	lead := c.lead(fold)
	for {
		if lead != 0 {
			i := strings.IndexByte(s, lead)
			if i < 0 {
				return "", false
			}
			s = s[i:]
		}
		if rest, ok := c.prefix(s, fold); ok {
			return rest, true
		}
		if s == "" {
			return "", false
		}
		_, w := utf8.DecodeRuneInString(s)
		s = s[w:]
	}
}

// prefix matches c's tokens at the start of s and returns what follows.
func (c *chunk) prefix(s string, fold bool) (string, bool) {
	for i := range c.toks {
		t := &c.toks[i]
		if t.kind == tokLit {
			var ok bool
			if s, ok = cutPrefix(s, t.lit, fold); !ok {
				return "", false
			}
			continue
		}
		if s == "" {
			return "", false
		}
		r, w := utf8.DecodeRuneInString(s)
		if t.kind == tokClass && !t.class.match(r, fold) {
			return "", false
		}
		s = s[w:]
	}
	return s, true
}

// lead returns the byte every match of c starts with, or 0 if there is
// none: an ASCII byte that has no other case, since an ASCII letter may
// match a non-ASCII rune ('k' the Kelvin sign) when folding. An ASCII byte
// is always a rune boundary, so find can jump to it.
func (c *chunk) lead(fold bool) byte {
	if len(c.toks) == 0 || c.toks[0].kind != tokLit {
		return 0
	}
	b := c.toks[0].lit[0]
	if b >= utf8.RuneSelf || fold && 'a' <= lowerASCII(b) && lowerASCII(b) <= 'z' {
		return 0
	}
	return b
}

// lastRunes returns the last n runes of s. Decoding backwards finds the
// same rune boundaries as decoding forwards, invalid bytes included, so this
// agrees with prefix, which decodes forwards.
func lastRunes(s string, n int) (string, bool) {
	i := len(s)
	for ; n > 0; n-- {
		if i == 0 {
			return "", false
		}
		_, w := utf8.DecodeLastRuneInString(s[:i])
		i -= w
	}
	return s[i:], true
}

type runeRange struct{ lo, hi rune }

// class is a [...] set. With folding, a rune is a member when any rune of
// its case-folding orbit is, so [a-z] takes 'K' and the Kelvin sign.
type class struct {
	negate bool
	ranges []runeRange
}

func (c *class) match(r rune, fold bool) bool {
	in := c.contains(r)
	if !in && fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if c.contains(f) {
				in = true
				break
			}
		}
	}
	return in != c.negate
}

func (c *class) contains(r rune) bool {
	for _, rg := range c.ranges {
		if rg.lo <= r && r <= rg.hi {
			return true
		}
	}
	return false
}

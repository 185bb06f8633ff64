package glob

import "fmt"

// Pattern is a compiled pattern. It is immutable, so it is safe for
// concurrent use, and Match does not allocate unless the path has a ".."
// element to resolve.
type Pattern struct {
	src    string
	flavor Flavor
	root   root
	// relative is set for a pattern with no root or volume: it matches the
	// trailing elements of any path, so the exclude "*.gz" means what it says.
	relative bool
	elems    []elem
	lits     []string // text of the leading literal elements
	base     string
}

// rawElem is an element of a pattern's text before compilation.
type rawElem struct {
	text string
	off  int
}

// Compile parses pattern with the rules of f. A malformed pattern is a
// *PatternError naming the pattern and the offset of the problem.
func Compile(pattern string, f Flavor) (*Pattern, error) {
	if !f.valid() {
		return nil, fmt.Errorf("glob pattern %s: unknown flavour %v", quote(pattern), f)
	}
	r, rest := splitRoot(pattern, f)
	var raws []rawElem
	it := newElemIter(pattern, rest, f)
	for e, off, ok := it.next(); ok; e, off, ok = it.next() {
		raws = append(raws, rawElem{e, off})
	}
	raws = resolveDots(raws, func(e rawElem) string { return e.text }, r.rooted())
	if r.kind == rootNone && len(raws) == 0 {
		return nil, &PatternError{Pattern: pattern, Problem: "no path element"}
	}
	p := &Pattern{src: pattern, flavor: f, root: r, relative: r.kind == rootNone}
	if p.relative {
		p.elems = append(p.elems, elem{kind: elemAny})
	}
	for _, raw := range raws {
		e, err := compileElem(pattern, raw.text, raw.off)
		if err != nil {
			return nil, err
		}
		if n := len(p.elems); e.kind == elemAny && n > 0 && p.elems[n-1].kind == elemAny {
			continue // **/** is **; one backtracking point is enough
		}
		p.elems = append(p.elems, e)
	}
	for _, e := range p.elems {
		if e.kind != elemLiteral {
			break
		}
		p.lits = append(p.lits, e.lit)
	}
	if !p.relative {
		p.base = render(r, p.lits, f.sep())
	}
	return p, nil
}

// String returns the pattern as it was given to Compile.
func (p *Pattern) String() string { return p.src }

// Flavor returns the rules the pattern was compiled with.
func (p *Pattern) Flavor() Flavor { return p.flavor }

// Base returns the longest leading part of the pattern with no wildcard, in
// Clean form: where expansion starts walking. It is "" for a relative
// pattern, which matches at any depth.
func (p *Pattern) Base() string { return p.base }

// Match reports whether path matches the pattern. The path is read with the
// pattern's flavour; it need not exist and need not be clean.
func (p *Pattern) Match(path string) bool {
	r, rest := splitRoot(path, p.flavor)
	if hasDotDot(rest, p.flavor) {
		path = Clean(path, p.flavor)
		r, rest = splitRoot(path, p.flavor)
	}
	if !p.relative && !p.root.covers(r, p.flavor.fold()) {
		return false
	}
	return matchElems(p.elems, newElemIter(path, rest, p.flavor), p.flavor.fold())
}

// matchElems matches path elements against pattern elements. A "**" first
// takes no element; on a mismatch the latest "**" takes one more and
// matching resumes after it. As with '*' in a string, retrying the latest
// "**" alone is enough, so this is linear in practice and never recursive.
func matchElems(pe []elem, it elemIter, fold bool) bool {
	pi, backPi := 0, -1
	var backIt elemIter
	for {
		if pi < len(pe) && pe[pi].kind == elemAny {
			backPi, backIt = pi, it
			pi++
			continue
		}
		name, _, ok := it.next()
		if !ok {
			return pi == len(pe)
		}
		if pi < len(pe) && pe[pi].match(name, fold) {
			pi++
			continue
		}
		if backPi < 0 {
			return false
		}
		backIt.next()
		it, pi = backIt, backPi+1
	}
}

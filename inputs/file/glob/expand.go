package glob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"syscall"
)

// Expand walks the filesystem from the include patterns' bases and returns
// the paths in the set: files and any other entries (directories, symlinks,
// sockets), which the caller sorts out. The paths are sorted, without
// duplicates, written with the native separator (or "/" for the Unix flavour
// on Windows) from the pattern's base in Clean form, and each satisfies
// s.Match. Errors carry the path that failed; the walk goes on past them. A
// base that does not exist is not an error: kubelet may not have made it yet.
//
// Cost: bases at or under another base share one walk, and each folder of a
// walk is read once with os.ReadDir. Entries are not stat'd, except symlinks
// and other reparse points (junctions) that a pattern needs to descend into.
//
// Symlinks: a symlinked folder is followed wherever the pattern needs to
// descend (the base itself may be a link), "**" included, but "**" never
// enters a folder that is already on the path being walked, so link cycles
// end. A folder reached through two links is walked, and listed, twice.
func (s *Set) Expand() ([]string, []error) {
	return s.expand(os.ReadDir, os.Stat)
}

// expand is Expand with the two filesystem calls it makes, so that tests
// can count them.
func (s *Set) expand(readDir func(string) ([]fs.DirEntry, error), stat func(string) (fs.FileInfo, error)) ([]string, []error) {
	x := expander{set: s, fold: s.flavor.fold(), sep: nativeSep(s.flavor), readDir: readDir, stat: stat}
	for _, w := range s.walks() {
		x.run(w)
	}
	slices.Sort(x.found)
	return slices.Compact(x.found), x.errs
}

// nativeSep is the separator Expand writes: the system's, unless the
// flavour reads it as an ordinary character.
func nativeSep(f Flavor) byte {
	if f.isSep(os.PathSeparator) {
		return os.PathSeparator
	}
	return f.sep()
}

// walk is the include patterns whose bases are at or under one folder.
type walk struct {
	root   root
	prefix []string // literal elements from the root to the start folder
	pats   []*Pattern
}

// walks groups the include patterns, shortest bases first so that a pattern
// joins the walk of an ancestor of its base rather than starting its own.
func (s *Set) walks() []walk {
	pats := slices.Clone(s.include)
	slices.SortStableFunc(pats, func(a, b *Pattern) int { return len(a.lits) - len(b.lits) })
	var ws []walk
next:
	for _, p := range pats {
		for i := range ws {
			if ws[i].holds(p, s.flavor.fold()) {
				ws[i].pats = append(ws[i].pats, p)
				continue next
			}
		}
		ws = append(ws, walk{root: p.root, prefix: p.lits, pats: []*Pattern{p}})
	}
	return ws
}

// holds reports whether p's base is w's start folder or under it.
func (w *walk) holds(p *Pattern, fold bool) bool {
	if !w.root.equal(p.root, fold) || len(p.lits) < len(w.prefix) {
		return false
	}
	for i, l := range w.prefix {
		if !equal(l, p.lits[i], fold) {
			return false
		}
	}
	return true
}

// state is a position in an include pattern: the next path element must
// match p.elems[i]; i == len(p.elems) means the pattern is complete.
type state struct {
	p *Pattern
	i int
}

func (s state) done() bool { return s.i == len(s.p.elems) }

// frame is a folder on the path being walked; info is filled in only when a
// link needs to be checked against it.
type frame struct {
	path string
	info fs.FileInfo
}

type expander struct {
	set     *Set
	fold    bool
	sep     byte
	readDir func(string) ([]fs.DirEntry, error)
	stat    func(string) (fs.FileInfo, error)
	found   []string
	errs    []error
}

// run walks from w's start folder. A missing start folder may differ only
// in case from one that exists (a case-sensitive folder on Windows, or the
// Windows flavour on Linux): with folding, the walk then starts at the
// nearest existing ancestor and matches the rest of the base on ReadDir
// names, folded.
func (x *expander) run(w walk) {
	n := len(w.prefix)
	dir := render(w.root, w.prefix, x.sep)
	fi, err := x.stat(dir)
	for x.fold && n > 0 && isNotExist(err) {
		n--
		dir = render(w.root, w.prefix[:n], x.sep)
		fi, err = x.stat(dir)
	}
	if err != nil {
		if !isNotExist(err) {
			x.errs = append(x.errs, fmt.Errorf("glob expand: %w", err))
		}
		return
	}
	var states []state
	for _, p := range w.pats {
		states = addState(states, p, n)
	}
	states, done := split(states)
	if done {
		x.add(dir)
	}
	if fi.IsDir() && len(states) > 0 {
		x.walkDir(dir, []frame{{path: dir, info: fi}}, states)
	}
}

func (x *expander) walkDir(dir string, chain []frame, states []state) {
	entries, err := x.readDir(dir)
	if err != nil {
		x.errs = append(x.errs, fmt.Errorf("glob expand: %w", err)) // entries read before the error are still used
	}
	var next []state // reused across entries: a walk below does not keep it
	for _, e := range entries {
		name := e.Name()
		if x.set.flavor.indexSep(name) >= 0 {
			continue // a Linux name with '\' is two elements to the Windows flavour
		}
		var done bool
		next, done = split(x.step(states, name, next[:0]))
		if !done && len(next) == 0 {
			continue
		}
		path := join(dir, name, x.sep)
		if done {
			x.add(path)
		}
		if len(next) > 0 {
			x.descend(path, e, chain, next)
		}
	}
}

// step appends to next the states that follow states after element name.
func (x *expander) step(states []state, name string, next []state) []state {
	for _, s := range states {
		e := &s.p.elems[s.i]
		switch {
		case e.kind == elemAny:
			next = addState(next, s.p, s.i) // "**" took name and may take more
		case e.match(name, x.fold):
			next = addState(next, s.p, s.i+1)
		}
	}
	return next
}

// descend walks into the entry at path if it is a folder. DirEntry.Type
// tells a folder without a system call; only links need a stat.
func (x *expander) descend(path string, e fs.DirEntry, chain []frame, states []state) {
	t := e.Type()
	if t.IsDir() {
		x.walkDir(path, append(chain, frame{path: path}), states)
		return
	}
	if t&(fs.ModeSymlink|fs.ModeIrregular) == 0 {
		return
	}
	fi, err := x.stat(path)
	if err != nil {
		if !isNotExist(err) { // a dangling link is ordinary: its target was rotated away
			x.errs = append(x.errs, fmt.Errorf("glob expand: %w", err))
		}
		return
	}
	if !fi.IsDir() || hasAny(states) && x.onChain(chain, fi) {
		return
	}
	x.walkDir(path, append(chain, frame{path: path, info: fi}), states)
}

func (x *expander) add(path string) {
	if !anyMatch(x.set.exclude, path) {
		x.found = append(x.found, path)
	}
}

// addState adds the state (p, i) and, when p.elems[i] is "**", the state
// after it, since "**" may take no element. Patterns never hold "**" twice
// in a row, so one step is enough.
func addState(states []state, p *Pattern, i int) []state {
	for {
		s := state{p, i}
		if !slices.Contains(states, s) {
			states = append(states, s)
		}
		if s.done() || p.elems[i].kind != elemAny {
			return states
		}
		i++
	}
}

// split removes the completed states and reports whether there were any.
func split(states []state) ([]state, bool) {
	done := false
	live := states[:0]
	for _, s := range states {
		if s.done() {
			done = true
		} else {
			live = append(live, s)
		}
	}
	return live, done
}

func hasAny(states []state) bool {
	for _, s := range states {
		if s.p.elems[s.i].kind == elemAny {
			return true
		}
	}
	return false
}

// onChain reports whether fi is one of the folders being walked, stat'ing
// those not yet known. A real folder tree has no cycle, so only folders
// entered through a link need this check.
func (x *expander) onChain(chain []frame, fi fs.FileInfo) bool {
	for i := range chain {
		if chain[i].info == nil {
			info, err := x.stat(chain[i].path)
			if err != nil {
				continue
			}
			chain[i].info = info
		}
		if os.SameFile(chain[i].info, fi) {
			return true
		}
	}
	return false
}

func join(dir, name string, sep byte) string {
	if dir[len(dir)-1] == sep {
		return dir + name
	}
	return dir + string(sep) + name
}

// isNotExist also takes ENOTDIR: a file where the base expects a folder
// means the base does not exist either.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

package glob

import "strings"

// rootKind tells what a path is anchored to. Only the Windows flavour has
// volumes; a Unix path is either relative or rooted.
type rootKind uint8

const (
	rootNone       rootKind = iota // a\b: relative
	rootSlash                      // \a or /a: rooted, no volume
	rootDrive                      // C:a: relative to the drive's current folder
	rootDriveSlash                 // C:\a
	rootUNC                        // \\server\share\a, also \\?\UNC\server\share\a
	rootDevice                     // \\?\Volume{…}\a and other device namespaces
)

// root is the anchor of a path, parsed apart from its elements so that
// C:\x, c:/x and \\?\C:\x compare equal without building a new string.
type root struct {
	kind  rootKind
	drive byte   // rootDrive, rootDriveSlash
	host  string // rootUNC: the server; rootDevice: the device name
	share string // rootUNC
}

// rooted reports whether the path does not depend on a current folder.
func (r root) rooted() bool { return r.kind != rootNone && r.kind != rootDrive }

// equal reports whether r and o name the same anchor. Drive letters always
// compare without case: Windows has no case-sensitive drives.
func (r root) equal(o root, fold bool) bool {
	return r.kind == o.kind && lowerASCII(r.drive) == lowerASCII(o.drive) &&
		equal(r.host, o.host, fold) && equal(r.share, o.share, fold)
}

// covers reports whether a pattern anchored at r can match a path anchored
// at o: a pattern rooted without a drive (\var\log) means "on the current
// drive", which is unknown here, so it accepts any drive.
func (r root) covers(o root, fold bool) bool {
	if r.kind == rootSlash && o.kind == rootDriveSlash {
		return true
	}
	return r.equal(o, fold)
}

// splitRoot separates the anchor of path from the part holding its elements,
// which is always a suffix of path.
func splitRoot(path string, f Flavor) (root, string) {
	if f != Windows {
		if strings.HasPrefix(path, "/") {
			return root{kind: rootSlash}, path[1:]
		}
		return root{}, path
	}
	p, w := path, Windows
	switch {
	case len(p) >= 4 && w.isSep(p[0]) && w.isSep(p[3]) &&
		(w.isSep(p[1]) && (p[2] == '?' || p[2] == '.') || p[1] == '?' && p[2] == '?'):
		return splitDevice(p[4:]) // \\?\, \\.\ and \??\ with either separator, as Go accepts
	case len(p) == 3 && w.isSep(p[0]) && w.isSep(p[1]) && (p[2] == '?' || p[2] == '.'):
		return root{kind: rootDevice}, "" // \? or \. alone: the device namespace itself
	case len(p) >= 2 && w.isSep(p[0]) && w.isSep(p[1]):
		host, rest := cutElem(p[2:], w)
		share, rest := cutElem(rest, w)
		return root{kind: rootUNC, host: host, share: share}, rest
	case len(p) >= 1 && w.isSep(p[0]):
		return root{kind: rootSlash}, p[1:]
	case hasDrive(p):
		if len(p) >= 3 && w.isSep(p[2]) {
			return root{kind: rootDriveSlash, drive: p[0]}, p[3:]
		}
		return root{kind: rootDrive, drive: p[0]}, p[2:]
	}
	return root{}, p
}

// splitDevice parses what follows a \\?\ prefix. The prefix only turns off
// Win32 path normalisation, so \\?\C:\x is C:\x and \\?\UNC\s\sh is \\s\sh.
func splitDevice(p string) (root, string) {
	name, rest := cutElem(p, Windows)
	switch {
	case len(name) == 2 && hasDrive(name):
		return root{kind: rootDriveSlash, drive: name[0]}, rest
	case equal(name, "UNC", true):
		host, rest := cutElem(rest, Windows)
		share, rest := cutElem(rest, Windows)
		return root{kind: rootUNC, host: host, share: share}, rest
	}
	return root{kind: rootDevice, host: name}, rest
}

// hasDrive reports whether s starts with a drive letter and a colon.
func hasDrive(s string) bool {
	return len(s) >= 2 && s[1] == ':' && 'a' <= lowerASCII(s[0]) && lowerASCII(s[0]) <= 'z'
}

// cutElem splits s at its first separator.
func cutElem(s string, f Flavor) (elem, rest string) {
	if i := f.indexSep(s); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// elemIter yields the elements of a path's rest (after splitRoot), skipping
// empty and "." elements, without allocating.
type elemIter struct {
	rest string
	off  int // offset of rest in the original string, for error positions
	f    Flavor
}

func newElemIter(path, rest string, f Flavor) elemIter {
	return elemIter{rest: rest, off: len(path) - len(rest), f: f}
}

// next returns the next element and its offset in the original string.
func (it *elemIter) next() (elem string, off int, ok bool) {
	for it.rest != "" {
		e, rest := cutElem(it.rest, it.f)
		off = it.off
		it.off += len(it.rest) - len(rest)
		it.rest = rest
		if e != "" && e != "." {
			return e, off, true
		}
	}
	return "", it.off, false
}

// hasDotDot reports whether rest has a ".." element, which only Clean resolves.
func hasDotDot(rest string, f Flavor) bool {
	if !strings.Contains(rest, "..") {
		return false
	}
	it := elemIter{rest: rest, f: f}
	for e, _, ok := it.next(); ok; e, _, ok = it.next() {
		if e == ".." {
			return true
		}
	}
	return false
}

// resolveDots applies ".." lexically, as filepath.Clean does: it removes the
// element before it, is dropped at the top of a rooted path and kept at the
// start of a relative one. Patterns and paths share it, so they agree.
func resolveDots[T any](elems []T, name func(T) string, rooted bool) []T {
	out := elems[:0]
	for _, e := range elems {
		switch {
		case name(e) != "..":
			out = append(out, e)
		case len(out) > 0 && name(out[len(out)-1]) != "..":
			out = out[:len(out)-1]
		case !rooted:
			out = append(out, e)
		}
	}
	return out
}

// Clean returns path in the flavour's canonical form: separators written as
// the flavour's own ("\" for Windows), repeated separators and "." removed,
// ".." resolved lexically, and the \\?\ prefix dropped (\\?\UNC\s\sh becomes
// \\s\sh). It does not change letter case: compare cleaned Windows paths
// with strings.EqualFold. An empty result is ".".
func Clean(path string, f Flavor) string {
	r, rest := splitRoot(path, f)
	var elems []string
	it := newElemIter(path, rest, f)
	for e, _, ok := it.next(); ok; e, _, ok = it.next() {
		elems = append(elems, e)
	}
	elems = resolveDots(elems, func(s string) string { return s }, r.rooted())
	out := render(r, elems, f.sep())
	if again, _ := splitRoot(out, f); again.kind != r.kind {
		// The first element reads as an anchor once what stood before it is
		// gone: .\C:x would become the drive-relative C:x, \.\??\x the
		// device path \??\x. A "." keeps it an element.
		out = render(r, append([]string{"."}, elems...), f.sep())
	}
	return out
}

// render writes a root and elements with sep between them.
func render(r root, elems []string, sep byte) string {
	out := r.format(sep, len(elems) > 0) + strings.Join(elems, string(sep))
	if out == "" {
		return "."
	}
	return out
}

// format writes r as the start of a path; more tells that elements follow,
// which an empty UNC share or device name must still be separated from.
func (r root) format(sep byte, more bool) string {
	s := string(sep)
	switch r.kind {
	case rootSlash:
		return s
	case rootDrive:
		return string(r.drive) + ":"
	case rootDriveSlash:
		return string(r.drive) + ":" + s
	case rootUNC:
		out := s + s
		if r.host == "." || r.host == "?" {
			out = s + s + "?" + s + "UNC" + s // \\.\share would read as a device path
		}
		out += r.host + s
		if r.share != "" || more {
			out += r.share + s
		}
		return out
	case rootDevice:
		out := s + s + "?" + s
		if r.host != "" || more {
			out += r.host + s
		}
		return out
	}
	return ""
}

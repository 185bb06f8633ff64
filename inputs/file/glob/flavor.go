package glob

import (
	"fmt"
	"strings"
)

// Flavor selects the path rules patterns and paths follow. It is a value, not
// a build tag, so that Windows rules are exercised by tests on Linux too. The
// zero Flavor is invalid, so a forgotten setting fails Compile.
type Flavor int

const (
	// Unix is case-sensitive, with "/" the only separator and "\" an ordinary character.
	Unix Flavor = iota + 1
	// Windows folds case, takes "\" and "/" as separators, and knows drives, UNC and \\?\ paths.
	Windows
)

// String returns "unix" or "windows".
func (f Flavor) String() string {
	switch f {
	case Unix:
		return "unix"
	case Windows:
		return "windows"
	}
	return fmt.Sprintf("Flavor(%d)", int(f))
}

func (f Flavor) valid() bool { return f == Unix || f == Windows }

// fold reports whether names compare case-insensitively.
func (f Flavor) fold() bool { return f == Windows }

// isSep reports whether c separates path elements.
func (f Flavor) isSep(c byte) bool {
	return c == '/' || (c == '\\' && f == Windows)
}

// sep is the separator Clean and Base write.
func (f Flavor) sep() byte {
	if f == Windows {
		return '\\'
	}
	return '/'
}

// indexSep returns the index of the first separator in s, or -1. It uses
// strings.IndexByte, which is vectorised, because every Match scans the
// whole path this way.
func (f Flavor) indexSep(s string) int {
	i := strings.IndexByte(s, '/')
	if f == Windows {
		head := s
		if i >= 0 {
			head = s[:i]
		}
		if j := strings.IndexByte(head, '\\'); j >= 0 {
			return j
		}
	}
	return i
}

package osfile

import (
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// maxPath is the length at which a path no longer fits MAX_PATH (260 UTF-16
// units with the terminating NUL) and needs the \\?\ prefix.
const maxPath = 260

// extendedPath returns path in its \\?\ form when it is absolute and too long
// for MAX_PATH, as os does internally for its own calls; other paths are
// returned unchanged. The \\?\ form turns off Win32 normalization, so the
// path is normalized first (GetFullPathName: / to \, . and .. removed).
func extendedPath(path string) string {
	if len(path) < maxPath || !filepath.IsAbs(path) || isExtended(path) {
		return path
	}
	full, err := windows.FullPath(path)
	if err != nil {
		return path
	}
	if strings.HasPrefix(full, `\\.\`) {
		return full // a device path: a prefix would change its meaning
	}
	if strings.HasPrefix(full, `\\`) {
		return `\\?\UNC\` + full[2:] // \\server\share\... becomes \\?\UNC\server\share\...
	}
	return `\\?\` + full
}

// isExtended reports whether path already has the \\?\ or \??\ prefix.
func isExtended(path string) bool {
	if len(path) < 4 || path[2] != '?' || !isSep(path[3]) {
		return false
	}
	return isSep(path[0]) && (isSep(path[1]) || path[1] == '?')
}

func isSep(c byte) bool { return c == '\\' || c == '/' }

package segment

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// shareAll lets other handles read, write, rename and delete a segment while it is held.
const shareAll = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE

// createFile creates path for reading and writing, failing if it exists.
// Windows: os.OpenFile omits FILE_SHARE_DELETE, so the buffer could not delete a segment a reader holds; CreateFile is called with all share modes.
func createFile(path string) (*os.File, error) {
	return open(path, windows.GENERIC_READ|windows.GENERIC_WRITE, windows.CREATE_NEW)
}

// openFile opens an existing file, read-only or for reading and writing.
func openFile(path string, write bool) (*os.File, error) {
	access := uint32(windows.GENERIC_READ)
	if write {
		access |= windows.GENERIC_WRITE
	}
	return open(path, access, windows.OPEN_EXISTING)
}

func open(path string, access, disposition uint32) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(longPath(path))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, access, shareAll, nil, disposition, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// longPath gives an absolute path too long for MAX_PATH the \\?\ prefix that
// os adds for its own calls; the prefix turns off normalisation, so the path
// is made full (separators, . and ..) first.
func longPath(path string) string {
	const maxPath = 260
	if len(path) < maxPath || !filepath.IsAbs(path) || strings.HasPrefix(path, `\\?\`) {
		return path
	}
	full, err := windows.FullPath(path)
	if err != nil {
		return path
	}
	if strings.HasPrefix(full, `\\`) {
		return `\\?\UNC\` + full[2:]
	}
	return `\\?\` + full
}

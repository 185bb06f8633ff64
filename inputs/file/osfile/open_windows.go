package osfile

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// shareAll lets other handles read, write, rename and delete the file while it is held.
const shareAll = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE

// Open opens path read-only.
// Windows: os.Open omits FILE_SHARE_DELETE, so kubelet could not rename or delete a held file; CreateFile is called with all share modes.
func Open(path string) (*os.File, error) {
	h, err := createFile(path, windows.GENERIC_READ, windows.FILE_ATTRIBUTE_NORMAL)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// createFile opens an existing file with all share modes, following symlinks.
func createFile(path string, access, flags uint32) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(extendedPath(path))
	if err != nil {
		return windows.InvalidHandle, err
	}
	return windows.CreateFile(p, access, shareAll, nil, windows.OPEN_EXISTING, flags, 0)
}

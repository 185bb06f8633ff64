//go:build !windows

package osfile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// IDOf returns the identity of the file f is open on, from the handle.
// Unix: fstat gives device and inode directly.
func IDOf(f *os.File) (ID, error) {
	fi, err := f.Stat()
	if err != nil {
		return ID{}, err
	}
	return idOf(fi)
}

// StatID returns the identity of the file at path, following symlinks.
// Unix: stat gives device and inode without opening the file.
func StatID(path string) (ID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return ID{}, err
	}
	return idOf(fi)
}

// idOf reads device and inode from a FileInfo made by stat or fstat.
func idOf(fi fs.FileInfo) (ID, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ID{}, fmt.Errorf("identify %s: no stat data (%T)", fi.Name(), fi.Sys())
	}
	return ID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, nil //nolint:unconvert // field types differ by platform
}

//go:build !windows

package osfile

import (
	"io/fs"
	"os"
	"syscall"
)

// IDOf returns the identity of the file f is open on, from the handle.
// Unix: fstat gives device and inode directly.
func IDOf(f *os.File) (ID, error) {
	var st syscall.Stat_t
	if err := fstat(f, &st); err != nil {
		return ID{}, err
	}
	return idOfStat(&st), nil
}

// StatID returns the identity of the file at path, following symlinks.
// Unix: stat gives device and inode without opening the file.
func StatID(path string) (ID, error) {
	// syscall.Stat, not os.Stat: no os.FileInfo is made, and discovery
	// asks this of every file each second.
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Stat(path, &st) }); err != nil {
		return ID{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return idOfStat(&st), nil
}

// ignoringEINTR retries fn while a signal interrupts it, as os does.
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != syscall.EINTR {
			return err
		}
	}
}

func idOfStat(st *syscall.Stat_t) ID {
	return ID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)} //nolint:unconvert // field types differ by platform
}

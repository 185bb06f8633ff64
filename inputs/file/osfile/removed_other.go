//go:build !windows

package osfile

import (
	"io/fs"
	"os"
	"runtime"
	"syscall"
)

// Removed reports whether the file f is open on has been deleted.
// Unix: unlink takes the name away at once, so a link count of zero is the sign.
func Removed(f *os.File) (bool, error) {
	var st syscall.Stat_t
	if err := fstat(f, &st); err != nil {
		return false, err
	}
	return st.Nlink == 0, nil
}

// Size returns the size of the file f is open on.
func Size(f *os.File) (int64, error) {
	var st syscall.Stat_t
	if err := fstat(f, &st); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// fstat fills st for f's descriptor. It makes none of the garbage f.Stat
// does (an os.FileInfo and its name): the tailer asks every idle file for
// its size and link count several times a second, and with a thousand
// files that was most of what an idle sluice allocated. Fd has no side
// effect on a regular file, which the poller never holds.
func fstat(f *os.File, st *syscall.Stat_t) error {
	fd := f.Fd()
	if fd == ^uintptr(0) {
		return &fs.PathError{Op: "stat", Path: f.Name(), Err: os.ErrClosed}
	}
	err := syscall.Fstat(int(fd), st)
	runtime.KeepAlive(f)
	if err != nil {
		return &fs.PathError{Op: "stat", Path: f.Name(), Err: err}
	}
	return nil
}

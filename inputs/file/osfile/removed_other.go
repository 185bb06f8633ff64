//go:build !windows

package osfile

import (
	"fmt"
	"os"
	"syscall"
)

// Removed reports whether the file f is open on has been deleted.
// Unix: unlink takes the name away at once, so a link count of zero is the sign.
func Removed(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, fmt.Errorf("stat %s: no stat data (%T)", f.Name(), fi.Sys())
	}
	return st.Nlink == 0, nil
}

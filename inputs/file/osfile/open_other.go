//go:build !windows

package osfile

import "os"

// Open opens path read-only.
// Unix: os.Open already lets others rename and unlink an open file, so it is used as is.
func Open(path string) (*os.File, error) {
	return os.Open(path)
}

//go:build !windows

package atomicfile

import "os"

// rename is a plain rename: POSIX lets a file be renamed over one that
// others hold open, so there is nothing to wait for.
func rename(from, to string, _ RetryFunc) error { return os.Rename(from, to) }

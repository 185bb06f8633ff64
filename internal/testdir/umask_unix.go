//go:build unix

package testdir

import (
	"syscall"
	"testing"
)

// Umask sets the process umask to mask until the test ends, so a test of
// the modes sluice creates files with sees those modes and not what the
// umask left of them. The umask is process-wide: such tests must not run
// in parallel.
func Umask(t testing.TB, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

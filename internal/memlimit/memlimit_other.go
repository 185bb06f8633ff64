//go:build !linux && !windows

package memlimit

// Detect returns 0: only Linux cgroups and Windows job objects are read.
func Detect() (int64, error) { return 0, nil }

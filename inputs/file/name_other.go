//go:build !windows

package file

// sameName compares file names exactly: Linux file systems are case-sensitive.
func sameName(a, b string) bool { return a == b }

//go:build !linux

package main

// cpuSeconds is 0: the figures in bench/README.md are measured on Linux,
// where getrusage and /proc are.
func cpuSeconds() float64 { return 0 }

// procStatus is 0 off Linux, which has no /proc/self/status.
func procStatus(string) float64 { return 0 }

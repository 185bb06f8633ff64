// Package e2e holds end-to-end tests that build the sluice binary and run it
// as a node would: against kubelet-style log folders that a writer fills and
// rotates, with kills, restarts and hostile input, reading back what sluice
// wrote and what it reports on /metrics.
//
// The tests need Linux: they build sluice with the go command, signal it,
// may run it as an unprivileged user and read /proc. On other systems (the
// Windows test run under Wine has no Go toolchain) the package compiles and
// every test skips, saying so.
//
// What the tests guarantee to check: with rename+create rotation every line
// arrives exactly once and in file order; with copytruncate at least once,
// in order apart from duplicates; across SIGKILL and restart at least once,
// with torn output lines only where a kill cut the last write; hostile input
// is counted, never stops the pipeline, and memory stays bounded; a blocked
// output loses no line, even of a file rotated away before sluice saw it;
// a file is known by its content as well as its inode; with kubelet's own
// rotation (rename, gzip, prune to max-files 5, kuberun_test.go) at 21,000
// lines/s per file to a real VictoriaLogs, every line arrives across
// SIGKILLs, stops and a server outage, for the Linux binary and for
// sluice.exe under Wine, and each missing line is blamed on sluice only
// when it held, opened or could have opened its file. Deadlines in the
// tests bound waiting only; nothing asserts on speed except that the writer
// itself reached the line rate the rotation tests are meant to show.
package e2e

// Package harness is the side-by-side benchmark `make bench` runs: sluice
// and, when it is installed, the OpenTelemetry Collector, each over the
// same kubelet-style logs, shipping to a fresh VictoriaLogs per run, with
// CPU and memory read from /proc/<pid> and delivered lines counted on the
// server. It is a test behind the bench build tag, Linux only since it
// reads /proc (go test -tags bench -run TestTable ./bench/harness), so that
// it can use the test servers of internal/vlogs and internal/kubetest;
// without the tag the package is empty. bench/README.md says how to run it
// and what it found.
package harness

// Command scale measures sluice at the size of a large node: the tailer
// idle over 10,000 kubelet-layout files it has read (CPU seconds per second
// of wall time, RSS), and the enrichment Stage over 5,000 pods in the pod
// cache (heap per pod, per path, and cost per record). The pod cache is fed
// through client-go's fake clientset, its list answered from JSON as a real
// API server's would be. bench/run.sh runs it; bench/README.md has figures.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

func main() {
	mode := flag.String("mode", "all", "tail, enrich or all")
	files := flag.Int("files", 10000, "log files (tail), and paths (enrich: two containers per pod)")
	pods := flag.Int("pods", 5000, "pods in the cache (enrich)")
	window := flag.Duration("window", 30*time.Second, "wall time the idle tailer is measured over")
	poll := flag.Duration("poll", 0, "poll_interval; 0 keeps the default")
	discover := flag.Duration("discover", 0, "discover_interval; 0 keeps the default")
	maxOpen := flag.Int("max-open", 0, "max_open_files; 0 means files+16, so that every file is read")
	batch := flag.Int("batch", 64, "records per batch (enrich)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the idle window (tail) to this file")
	flag.Parse()
	fmt.Printf("machine: %d cores, %s %s/%s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	var err error
	if *mode == "tail" || *mode == "all" {
		err = tailIdle(tailOptions{files: *files, window: *window, poll: *poll, discover: *discover, maxOpen: *maxOpen, profile: *profile})
	}
	if err == nil && (*mode == "enrich" || *mode == "all") {
		err = enrichScale(*pods, *files, *batch)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// Command loggen writes kubelet-style container logs for demos and
// benchmarks (see package bench/internal/loggen): pods/<ns>_<pod>_<uid>/
// <container>/0.log files with containers/<pod>_<ns>_<container>-<id>.log
// symlinks, numbered lines in CRI or Docker json-file format, at a chosen
// rate, rotating like kubelet (rename to 0.log.<timestamp>; with -max-files,
// gzip older rotated files and prune beyond it) or by copytruncate.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/sluicelog/sluice/bench/internal/loggen"
)

func main() {
	dir := flag.String("dir", "", "root folder; pods/ and containers/ are created in it")
	pods := flag.Int("pods", 3, "number of pods, each with one container and one file")
	lines := flag.Int("lines", 10000, "lines per pod")
	rate := flag.Int("rate", 0, "lines per second per pod; 0 writes as fast as possible")
	lineSize := flag.Int("line-size", 100, "bytes per line; 0 draws them from 80 to 2,000 bytes, about 200 on average")
	rotateBytes := flag.Int64("rotate-bytes", 0, "rotate a file once it holds this many bytes; 0 never")
	rotateMode := flag.String("rotate-mode", "rename", "rename (kubelet: rename, gzip, prune) or copytruncate")
	maxFiles := flag.Int("max-files", 0, "kubelet's containerLogMaxFiles (5 is its default): -rotate-mode rename gzips and prunes as kubelet does; 0 only renames, keeping every rotated file as it is")
	format := flag.String("format", "cri", "cri or docker")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "loggen: -dir is required")
		os.Exit(2)
	}
	if *rotateMode != "rename" && *rotateMode != "copytruncate" {
		fmt.Fprintf(os.Stderr, "loggen: -rotate-mode %q is not rename or copytruncate\n", *rotateMode)
		os.Exit(2)
	}
	if *format != string(loggen.CRI) && *format != string(loggen.Docker) {
		fmt.Fprintf(os.Stderr, "loggen: -format %q is not cri or docker\n", *format)
		os.Exit(2)
	}
	o := loggen.Options{
		Format:   loggen.Format(*format),
		LineSize: *lineSize,
		Rotation: loggen.Rotation{MaxSize: *rotateBytes, MaxFiles: *maxFiles, KeepAll: *maxFiles == 0, CopyTruncate: *rotateMode == "copytruncate"},
	}
	if err := run(*dir, *pods, *lines, *rate, o); err != nil {
		fmt.Fprintln(os.Stderr, "loggen:", err)
		os.Exit(1)
	}
}

func run(dir string, pods, lines, rate int, o loggen.Options) error {
	files := make([]*loggen.File, pods)
	for i := range files {
		path, err := loggen.Demo(i).Create(dir)
		if err != nil {
			return err
		}
		if files[i], err = loggen.Open(path, i, o); err != nil {
			return err
		}
	}
	err := loggen.Pace(context.Background(), files, lines, rate)
	for _, f := range files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

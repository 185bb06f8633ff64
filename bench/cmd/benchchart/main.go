// Command benchchart draws a side-by-side benchmark run, the JSON file
// bench/harness writes, as an SVG chart beside it: grouped bars, one group
// per case and one bar per agent, of CPU seconds per million lines, peak
// RSS and, for cases with an idle window, CPU while idle. make bench runs
// it after the harness.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sluicelog/sluice/bench/internal/results"
)

func main() {
	in := flag.String("in", "", "results file; empty takes the newest bench/results/*.json")
	out := flag.String("out", "", "SVG file; empty writes it beside -in, as <date>.svg")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchchart:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		files, err := filepath.Glob(filepath.Join("bench", "results", "*.json"))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("no bench/results/*.json: run make bench from the repository's root, or give -in")
		}
		slices.Sort(files) // named by date
		in = files[len(files)-1]
	}
	if out == "" {
		out = strings.TrimSuffix(in, ".json") + ".svg"
	}
	r, err := results.Read(in)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	render(&b, r)
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	fmt.Println("wrote", out)
	return nil
}

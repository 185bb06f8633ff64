package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sluicelog/sluice/config"
)

// validate reports, one line per key, whether each file the configuration
// names can be used as sluice will use it, as the user running validate:
// run it as the user sluice runs as. It fails when any cannot.
func validate(path string, cfg config.Config, stdout, stderr io.Writer) int {
	failed := 0
	for _, r := range cfg.Files() {
		note, err := r.Check()
		switch {
		case err == nil:
			fmt.Fprintf(stdout, "%s: %s: %s\n", r.Key, r.Path, note)
		case strings.Contains(err.Error(), r.Path):
			fmt.Fprintf(stdout, "%s: %v\n", r.Key, err)
		default:
			fmt.Fprintf(stdout, "%s: %s: %v\n", r.Key, r.Path, err)
		}
		if err != nil {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "sluice: %s: %d of the files it names cannot be used\n", path, failed)
		return 1
	}
	fmt.Fprintf(stdout, "%s: configuration is valid\n", path)
	return 0
}

// Package memlimit chooses the Go runtime's soft memory limit: the
// configured memory_limit, or else a share of the limit the container (a
// Linux cgroup or a Windows job object) puts on the process. Near that
// limit the garbage collector runs more often rather than let the heap
// grow into the kernel's out-of-memory kill, or on Windows a failed
// allocation that ends the process. It never raises memory use: with no
// limit anywhere it leaves the runtime as it is.
package memlimit

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// Share is the part of a detected container limit given to the Go runtime;
// the rest covers what the runtime does not count, such as the pages of
// the binary itself.
const Share = 0.9

// GCPercent is the garbage collector's pace sluice sets when GOGC is not
// in the environment: the heap may grow by a quarter of its live size
// between collections, not double. The pipeline pools what it allocates
// per line, so collection is 1.5 to 2 % of its CPU at GOGC=50, and
// halving the pace again costs about as much more, while the heap's
// headroom is the largest part of resident memory that sluice chooses:
// at 10,000 lines/s over 50 files, peak RSS went from 36.7 to 33.1 MiB.
const GCPercent = 25

// SetGCPercent sets the collector's pace to GCPercent unless GOGC says
// otherwise, and returns the pace in force.
func SetGCPercent() int {
	if os.Getenv("GOGC") != "" {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return int(s[0].Value.Uint64())
	}
	debug.SetGCPercent(GCPercent)
	return GCPercent
}

// Choice is the limit chosen and where it came from.
type Choice struct {
	Bytes  int64  // 0: no limit set
	Source string // "GOMEMLIMIT", "memory_limit", "container" or "none"
}

// Apply sets the runtime's soft memory limit from configured (bytes; 0:
// not configured) or the container's limit, and says what it chose. An
// explicit GOMEMLIMIT in the environment wins, as the runtime documents.
func Apply(configured int64) (Choice, error) {
	c, err := choose(os.Getenv("GOMEMLIMIT") != "", configured, Detect)
	if c.Bytes > 0 && c.Source != "GOMEMLIMIT" {
		debug.SetMemoryLimit(c.Bytes)
	}
	return c, err
}

// choose is Apply's decision, apart from the process's environment and
// limits so that it can be tested.
func choose(fromEnv bool, configured int64, detect func() (int64, error)) (Choice, error) {
	switch {
	case fromEnv:
		return Choice{Bytes: debug.SetMemoryLimit(-1), Source: "GOMEMLIMIT"}, nil
	case configured > 0:
		return Choice{Bytes: configured, Source: "memory_limit"}, nil
	}
	limit, err := detect()
	if err != nil {
		return Choice{Source: "none"}, fmt.Errorf("read the container's memory limit: %w", err)
	}
	if limit <= 0 {
		return Choice{Source: "none"}, nil
	}
	return Choice{Bytes: int64(float64(limit) * Share), Source: "container"}, nil
}

// unlimited reports whether n is one of the values that mean no limit.
func unlimited(n uint64) bool { return n == 0 || n >= math.MaxInt64/2 }

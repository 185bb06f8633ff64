package memlimit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Where cgroup v2 and, failing that, v1 show the limit of the process's own
// cgroup from inside a container.
var cgroupFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// Detect returns the memory limit of the process's cgroup; 0 when there
// is none.
func Detect() (int64, error) { return detectIn(cgroupFiles) }

func detectIn(files []string) (int64, error) {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		return parseCgroupLimit(f, string(b))
	}
	return 0, nil
}

// parseCgroupLimit reads memory.max ("max" or bytes) or v1's
// memory.limit_in_bytes (bytes, a huge number when unlimited).
func parseCgroupLimit(file, text string) (int64, error) {
	text = strings.TrimSpace(text)
	if text == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number of bytes", file, text)
	}
	if unlimited(n) {
		return 0, nil
	}
	return int64(n), nil
}

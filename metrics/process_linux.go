package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// userHZ is the unit of /proc's CPU times; Linux fixes it at 100 for
// user space, whatever the kernel's own tick (procfs assumes it too).
const userHZ = 100

// bootTime is the system's boot time in seconds since the epoch, which
// /proc/self/stat's start time counts from; it does not change.
var bootTime = sync.OnceValues(func() (float64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("/proc/stat has no btime")
})

// readProcess reads /proc/self/stat and counts /proc/self/fd.
func readProcess() (processStats, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return processStats{}, err
	}
	p, err := parseStat(data, os.Getpagesize())
	if err != nil {
		return processStats{}, err
	}
	boot, err := bootTime()
	if err != nil {
		return processStats{}, err
	}
	p.startTime += boot
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return processStats{}, err
	}
	defer d.Close()
	fds, err := d.Readdirnames(-1)
	if err != nil {
		return processStats{}, err
	}
	p.openFDs = float64(len(fds))
	return p, nil
}

// parseStat reads /proc/self/stat; startTime is relative to boot. The
// command name, in parentheses, may hold spaces and parentheses itself,
// so fields count from the last ')'.
func parseStat(data []byte, pageSize int) (processStats, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return processStats{}, errors.New("/proc/self/stat: no command name")
	}
	f := strings.Fields(string(data[i+1:])) // f[0] is field 3, the state
	if len(f) < 22 {
		return processStats{}, fmt.Errorf("/proc/self/stat: %d fields after the command name", len(f))
	}
	var n [5]float64
	for j, field := range []int{14, 15, 22, 23, 24} { // utime, stime, starttime, vsize, rss
		v, err := strconv.ParseUint(f[field-3], 10, 64)
		if err != nil {
			return processStats{}, fmt.Errorf("/proc/self/stat field %d: %w", field, err)
		}
		n[j] = float64(v)
	}
	return processStats{
		cpuSeconds:    (n[0] + n[1]) / userHZ,
		startTime:     n[2] / userHZ,
		virtualBytes:  n[3],
		residentBytes: n[4] * float64(pageSize),
	}, nil
}

//go:build bench && linux

package harness

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go runs on (sysconf is out of reach without cgo).
const clockTicks = 100

// procSample is what /proc says of a process at one instant.
type procSample struct {
	cpu     float64 // user + system CPU seconds since it started
	rssMiB  float64 // VmRSS
	peakMiB float64 // VmHWM, the peak RSS so far
	fileMiB float64 // RssFile, the file-backed part of VmRSS
}

// sample reads /proc/<pid>/stat and status.
func sample(pid int) (procSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	// The command name, in parentheses, may hold spaces: fields are counted
	// from the last ')'. utime and stime are fields 14 and 15, the 12th and
	// 13th after it.
	i := strings.LastIndexByte(string(stat), ')')
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return procSample{}, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(fields))
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return procSample{}, fmt.Errorf("/proc/%d/stat: utime %q, stime %q", pid, fields[11], fields[12])
	}
	s := procSample{cpu: (utime + stime) / clockTicks}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procSample{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), ":")
		var kB float64
		switch name {
		case "VmRSS":
			fmt.Sscan(rest, &kB)
			s.rssMiB = kB / 1024
		case "VmHWM":
			fmt.Sscan(rest, &kB)
			s.peakMiB = kB / 1024
		case "RssFile":
			fmt.Sscan(rest, &kB)
			s.fileMiB = kB / 1024
		}
	}
	return s, sc.Err()
}

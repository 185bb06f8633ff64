package memlimit

import (
	"testing"

	"golang.org/x/sys/windows"
)

func TestJobLimit(t *testing.T) {
	info := func(flags uint32, proc, job uintptr) windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION {
		var i windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
		i.BasicLimitInformation.LimitFlags = flags
		i.ProcessMemoryLimit, i.JobMemoryLimit = proc, job
		return i
	}
	cases := []struct {
		name string
		info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
		want int64
	}{
		{"no memory flags", info(0, 1<<30, 1<<30), 0},
		{"process limit", info(windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY, 512<<20, 0), 512 << 20},
		{"job limit", info(windows.JOB_OBJECT_LIMIT_JOB_MEMORY, 0, 256<<20), 256 << 20},
		{"the smaller of both", info(windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY|windows.JOB_OBJECT_LIMIT_JOB_MEMORY, 512<<20, 256<<20), 256 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := jobLimit(tc.info); got != tc.want {
				t.Fatalf("jobLimit = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDetectOutsideAJob: a test process (under Wine too) runs in no job
// with a memory limit, so there is nothing to apply and nothing fails.
func TestDetectOutsideAJob(t *testing.T) {
	if _, err := Detect(); err != nil {
		t.Fatal(err)
	}
}

package memlimit

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// x/sys/windows has no wrapper for it.
var procIsProcessInJob = windows.NewLazySystemDLL("kernel32.dll").NewProc("IsProcessInJob")

// Detect returns the memory limit of the job object the process runs in
// (a Windows container's, or one a service manager set); 0 when there is
// none. Of a process limit and a job limit, the smaller.
func Detect() (int64, error) {
	var in int32
	r, _, err := procIsProcessInJob.Call(uintptr(windows.CurrentProcess()), 0, uintptr(unsafe.Pointer(&in)))
	if r == 0 {
		return 0, fmt.Errorf("is the process in a job: %w", err)
	}
	if in == 0 {
		return 0, nil
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	// A nil handle asks about the job of the calling process.
	err = windows.QueryInformationJobObject(0, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil)
	if err != nil {
		return 0, fmt.Errorf("query job object limits: %w", err)
	}
	return jobLimit(info), nil
}

func jobLimit(info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION) int64 {
	var limit uint64
	flags := info.BasicLimitInformation.LimitFlags
	if flags&windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY != 0 && !unlimited(uint64(info.ProcessMemoryLimit)) {
		limit = uint64(info.ProcessMemoryLimit)
	}
	if flags&windows.JOB_OBJECT_LIMIT_JOB_MEMORY != 0 && !unlimited(uint64(info.JobMemoryLimit)) &&
		(limit == 0 || uint64(info.JobMemoryLimit) < limit) {
		limit = uint64(info.JobMemoryLimit)
	}
	return int64(limit)
}

package metrics

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// x/sys/windows has no wrappers for these two.
var (
	procGetProcessMemoryInfo  = windows.NewLazySystemDLL("kernel32.dll").NewProc("K32GetProcessMemoryInfo")
	procGetProcessHandleCount = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetProcessHandleCount")
)

// processMemoryCounters is PROCESS_MEMORY_COUNTERS.
type processMemoryCounters struct {
	cb                         uint32
	PageFaultCount             uint32
	PeakWorkingSetSize         uintptr
	WorkingSetSize             uintptr
	QuotaPeakPagedPoolUsage    uintptr
	QuotaPagedPoolUsage        uintptr
	QuotaPeakNonPagedPoolUsage uintptr
	QuotaNonPagedPoolUsage     uintptr
	PagefileUsage              uintptr
	PeakPagefileUsage          uintptr
}

// readProcess asks the process's times, memory counters and handle count.
// As client_golang does, the working set is the resident size, the
// private bytes (the commit charge, PagefileUsage, which Wine fills where
// it leaves PROCESS_MEMORY_COUNTERS_EX's PrivateUsage 0) the virtual size,
// and handles count as file descriptors.
func readProcess() (processStats, error) {
	h := windows.CurrentProcess()
	var creation, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return processStats{}, fmt.Errorf("process times: %w", err)
	}
	mem := processMemoryCounters{cb: uint32(unsafe.Sizeof(processMemoryCounters{}))}
	if r, _, err := procGetProcessMemoryInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&mem)), uintptr(mem.cb)); r == 0 {
		return processStats{}, fmt.Errorf("process memory info: %w", err)
	}
	var handles uint32
	if r, _, err := procGetProcessHandleCount.Call(uintptr(h), uintptr(unsafe.Pointer(&handles))); r == 0 {
		return processStats{}, fmt.Errorf("process handle count: %w", err)
	}
	return processStats{
		cpuSeconds:    filetimeSeconds(kernel) + filetimeSeconds(user),
		residentBytes: float64(mem.WorkingSetSize),
		virtualBytes:  float64(mem.PagefileUsage),
		startTime:     float64(creation.Nanoseconds()) / 1e9,
		openFDs:       float64(handles),
	}, nil
}

// filetimeSeconds reads a duration held in a FILETIME, in 100 ns units.
func filetimeSeconds(t windows.Filetime) float64 {
	return float64(uint64(t.HighDateTime)<<32|uint64(t.LowDateTime)) / 1e7
}

package metrics

// processStats is what the operating system tells of this process.
type processStats struct {
	cpuSeconds    float64 // user and system
	residentBytes float64
	virtualBytes  float64
	startTime     float64 // seconds since the Unix epoch
	openFDs       float64 // handles on Windows
}

var (
	descCPU       = newDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", kindCounter)
	descResident  = newDesc("process_resident_memory_bytes", "Resident memory size in bytes.", kindGauge)
	descVirtual   = newDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", kindGauge)
	descStartTime = newDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", kindGauge)
	descOpenFDs   = newDesc("process_open_fds", "Number of open file descriptors.", kindGauge)
)

// processCollector reads the process's metrics at scrape time; where the
// system cannot tell them (readProcess fails), a scrape has none.
type processCollector struct{}

func (processCollector) describe() []*desc {
	return []*desc{descCPU, descResident, descVirtual, descStartTime, descOpenFDs}
}

func (processCollector) collect(dst []family) []family {
	p, err := readProcess()
	if err != nil {
		return dst
	}
	return append(dst,
		constFamily(descCPU, p.cpuSeconds),
		constFamily(descResident, p.residentBytes),
		constFamily(descVirtual, p.virtualBytes),
		constFamily(descStartTime, p.startTime),
		constFamily(descOpenFDs, p.openFDs),
	)
}

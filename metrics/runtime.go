package metrics

import (
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// runtimeCollector reads the Go runtime's metrics operators watch, under
// client_golang's names and meanings, from runtime/metrics at scrape time.
type runtimeCollector struct{}

// The samples runtimeCollector reads, named by their index in
// runtimeSamples so that a reading cannot take another's place.
const (
	smpGCCycles = iota
	smpGOGC
	smpMemLimit
	smpAllocs
	smpGoal
	smpObjects
	smpUnused
	smpReleased
	smpFree
	smpStacks
	smpTotal
	numSamples
)

var runtimeSamples = [numSamples]string{
	smpGCCycles: "/gc/cycles/total:gc-cycles",
	smpGOGC:     "/gc/gogc:percent",
	smpMemLimit: "/gc/gomemlimit:bytes",
	smpAllocs:   "/gc/heap/allocs:bytes",
	smpGoal:     "/gc/heap/goal:bytes",
	smpObjects:  "/memory/classes/heap/objects:bytes",
	smpUnused:   "/memory/classes/heap/unused:bytes",
	smpReleased: "/memory/classes/heap/released:bytes",
	smpFree:     "/memory/classes/heap/free:bytes",
	smpStacks:   "/memory/classes/heap/stacks:bytes",
	smpTotal:    "/memory/classes/total:bytes",
}

var (
	descGoroutines = newDesc("go_goroutines", "Number of goroutines that currently exist.", kindGauge)
	descThreads    = newDesc("go_threads", "Number of OS threads created.", kindGauge)
	descGCPauses   = newDesc("go_gc_duration_seconds",
		"A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", kindSummary)
	descLastGC   = newDesc("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", kindGauge)
	descGoInfo   = newDesc("go_info", "Information about the Go environment.", kindGauge, "version")
	descGCCycles = newDesc("go_gc_cycles_total", "Count of all completed GC cycles. Sourced from /gc/cycles/total:gc-cycles.", kindCounter)
	descGOGC     = newDesc("go_gc_gogc_percent",
		"Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent.", kindGauge)
	descGoMemLimit = newDesc("go_gc_gomemlimit_bytes",
		"Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes.", kindGauge)
	descAllocTotal = newDesc("go_memstats_alloc_bytes_total",
		"Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", kindCounter)
	descNextGC = newDesc("go_memstats_next_gc_bytes",
		"Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", kindGauge)
	descHeapAlloc = newDesc("go_memstats_heap_alloc_bytes",
		"Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", kindGauge)
	descHeapInuse = newDesc("go_memstats_heap_inuse_bytes",
		"Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", kindGauge)
	descHeapSys = newDesc("go_memstats_heap_sys_bytes",
		"Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", kindGauge)
	descStackInuse = newDesc("go_memstats_stack_inuse_bytes",
		"Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", kindGauge)
	descSys = newDesc("go_memstats_sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", kindGauge)
)

func (runtimeCollector) describe() []*desc {
	return []*desc{descGoroutines, descThreads, descGCPauses, descLastGC, descGoInfo, descGCCycles, descGOGC, descGoMemLimit, descAllocTotal,
		descNextGC, descHeapAlloc, descHeapInuse, descHeapSys, descStackInuse, descSys}
}

func (runtimeCollector) collect(dst []family) []family {
	s := make([]rtmetrics.Sample, numSamples)
	for i, name := range runtimeSamples {
		s[i].Name = name
	}
	rtmetrics.Read(s)
	v := func(i int) float64 { return float64(s[i].Value.Uint64()) }
	objects, unused, released, free := v(smpObjects), v(smpUnused), v(smpReleased), v(smpFree)
	threads, _ := runtime.ThreadCreateProfile(nil)
	// Pause quantiles 0, 0.25, 0.5, 0.75 and 1 of the recent pauses, as
	// client_golang reads them.
	gc := debug.GCStats{PauseQuantiles: make([]time.Duration, 5)}
	debug.ReadGCStats(&gc)
	pauses := &summary{quantiles: []float64{0, 0.25, 0.5, 0.75, 1}, values: make([]float64, 5),
		sum: gc.PauseTotal.Seconds(), count: uint64(gc.NumGC)}
	for i, q := range gc.PauseQuantiles {
		pauses.values[i] = q.Seconds()
	}
	return append(dst,
		family{desc: descGCPauses, series: []series{{sum: pauses}}},
		constFamily(descLastGC, float64(gc.LastGC.UnixNano())/1e9),
		constFamily(descGoInfo, 1, runtime.Version()),
		constFamily(descGoroutines, float64(runtime.NumGoroutine())),
		constFamily(descThreads, float64(threads)),
		constFamily(descGCCycles, v(smpGCCycles)),
		constFamily(descGOGC, v(smpGOGC)),
		constFamily(descGoMemLimit, v(smpMemLimit)),
		constFamily(descAllocTotal, v(smpAllocs)),
		constFamily(descNextGC, v(smpGoal)),
		constFamily(descHeapAlloc, objects),
		constFamily(descHeapInuse, objects+unused),
		constFamily(descHeapSys, objects+unused+released+free),
		constFamily(descStackInuse, v(smpStacks)),
		constFamily(descSys, v(smpTotal)),
	)
}

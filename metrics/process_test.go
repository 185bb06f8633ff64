//go:build linux || windows

package metrics

import (
	"math"
	"runtime"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestRuntimeAndProcess: the Go runtime's and the process's metrics are
// there, of the kind client_golang gave them, with plausible values.
func TestRuntimeAndProcess(t *testing.T) {
	runtime.GC()
	fams := scrape(t, New())
	for name, typ := range map[string]dto.MetricType{
		"go_goroutines": dto.MetricType_GAUGE, "go_threads": dto.MetricType_GAUGE, "go_info": dto.MetricType_GAUGE,
		"go_gc_duration_seconds": dto.MetricType_SUMMARY, "go_memstats_last_gc_time_seconds": dto.MetricType_GAUGE,
		"go_gc_cycles_total": dto.MetricType_COUNTER, "go_gc_gogc_percent": dto.MetricType_GAUGE,
		"go_gc_gomemlimit_bytes": dto.MetricType_GAUGE, "go_memstats_alloc_bytes_total": dto.MetricType_COUNTER,
		"go_memstats_heap_alloc_bytes": dto.MetricType_GAUGE, "go_memstats_heap_inuse_bytes": dto.MetricType_GAUGE,
		"go_memstats_heap_sys_bytes": dto.MetricType_GAUGE, "go_memstats_next_gc_bytes": dto.MetricType_GAUGE,
		"go_memstats_stack_inuse_bytes": dto.MetricType_GAUGE, "go_memstats_sys_bytes": dto.MetricType_GAUGE,
		"process_cpu_seconds_total": dto.MetricType_COUNTER, "process_resident_memory_bytes": dto.MetricType_GAUGE,
		"process_virtual_memory_bytes": dto.MetricType_GAUGE, "process_start_time_seconds": dto.MetricType_GAUGE,
		"process_open_fds": dto.MetricType_GAUGE,
	} {
		f := fams[name]
		if f == nil {
			t.Errorf("%s missing", name)
			continue
		}
		if f.GetType() != typ {
			t.Errorf("%s is a %v, want %v", name, f.GetType(), typ)
		}
	}
	v := func(name string) float64 {
		s := fams[name].GetMetric()
		if len(s) != 1 {
			return math.NaN()
		}
		if c := s[0].GetCounter(); c != nil {
			return c.GetValue()
		}
		return s[0].GetGauge().GetValue()
	}
	if v("go_goroutines") < 1 || v("go_threads") < 1 || v("go_gc_gogc_percent") == 0 {
		t.Errorf("goroutines %v, threads %v, GOGC %v", v("go_goroutines"), v("go_threads"), v("go_gc_gogc_percent"))
	}
	pauses := fams["go_gc_duration_seconds"].GetMetric()[0].GetSummary()
	if q := pauses.GetQuantile(); pauses.GetSampleCount() < 1 || len(q) != 5 || q[4].GetQuantile() != 1 || q[4].GetValue() < q[0].GetValue() {
		t.Errorf("GC pauses after a GC: %v", pauses)
	}
	if v("go_gc_cycles_total") < 1 || v("go_memstats_last_gc_time_seconds") < 1.5e9 {
		t.Errorf("GC cycles %v, last GC %v", v("go_gc_cycles_total"), v("go_memstats_last_gc_time_seconds"))
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if heap := v("go_memstats_heap_sys_bytes"); heap < v("go_memstats_heap_inuse_bytes") || heap < v("go_memstats_heap_alloc_bytes") ||
		heap > float64(ms.Sys) || v("go_memstats_sys_bytes") < heap {
		t.Errorf("heap sys %v, in use %v, alloc %v, sys %v (MemStats.Sys %d)", heap,
			v("go_memstats_heap_inuse_bytes"), v("go_memstats_heap_alloc_bytes"), v("go_memstats_sys_bytes"), ms.Sys)
	}
	// Values the system gives: resident memory holds at least the heap in
	// use; the process started before the scrape and after 2020.
	if rss := v("process_resident_memory_bytes"); rss < v("go_memstats_heap_alloc_bytes") || v("process_virtual_memory_bytes") < 1 {
		t.Errorf("resident %v, virtual %v, heap in use %v", rss, v("process_virtual_memory_bytes"), v("go_memstats_heap_alloc_bytes"))
	}
	if start := v("process_start_time_seconds"); start > float64(time.Now().Unix()+1) || start < 1.5e9 {
		t.Errorf("start time %v", start)
	}
	if v("process_open_fds") < minOpenFDs || v("process_cpu_seconds_total") <= 0 {
		t.Errorf("open fds %v, cpu %v", v("process_open_fds"), v("process_cpu_seconds_total"))
	}
}

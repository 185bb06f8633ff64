package metrics

import (
	"time"

	"github.com/sluicelog/sluice/buffer"
)

// BufferEvents counts what the disk buffer does; it implements buffer.Events.
type BufferEvents struct {
	appended, appendedBytes *counter
	fsync                   *histogram
	dropped                 *counterVec
	corrupt                 *counter
	diskErrors              *counterVec
	replaceFailed           func(file string)
}

var _ buffer.Events = (*BufferEvents)(nil)

// Buffer registers the buffer's counters and the gauges read from stats.
func (m *Registry) Buffer(stats func() buffer.Stats) *BufferEvents {
	appended := newCounterVec("sluice_buffer_appended_records_total", "Records appended to the disk buffer.")
	appendedBytes := newCounterVec("sluice_buffer_appended_bytes_total", "Bytes appended to the disk buffer, framing included.")
	fsync := newHistogramVec("sluice_buffer_fsync_seconds", "Time taken by each fsync of a buffer segment.",
		exponentialBuckets(0.0001, 4, 9))
	corrupt := newCounterVec("sluice_buffer_corrupt_bytes_total", "Corrupt buffer bytes skipped or cut off.")
	e := &BufferEvents{
		appended: appended.with(), appendedBytes: appendedBytes.with(), fsync: fsync.with(), corrupt: corrupt.with(),
		dropped: newCounterVec("sluice_buffer_dropped_records_total",
			"Records a sink lost because the full buffer dropped its oldest segment.", "sink"),
		diskErrors:    newCounterVec("sluice_buffer_disk_errors_total", "Failed buffer disk operations.", "op"),
		replaceFailed: m.ReplaceFailed,
	}
	m.reg.register(appended, appendedBytes, fsync, e.dropped, corrupt, e.diskErrors, &statsCollector{stats: stats})
	return e
}

// Appended implements buffer.Events.
func (e *BufferEvents) Appended(records, bytes int) {
	e.appended.Add(int64(records))
	e.appendedBytes.Add(int64(bytes))
}

// Synced implements buffer.Events.
func (e *BufferEvents) Synced(took time.Duration) { e.fsync.Observe(took.Seconds()) }

// Dropped implements buffer.Events.
func (e *BufferEvents) Dropped(sink string, records int64) {
	e.dropped.with(sink).Add(records)
}

// Corrupt implements buffer.Events.
func (e *BufferEvents) Corrupt(bytes int64) { e.corrupt.Add(bytes) }

// DiskError implements buffer.Events. A failed cursor save is also a state
// file that was not saved, counted with the checkpoint's failures.
func (e *BufferEvents) DiskError(op string) {
	e.diskErrors.with(op).Inc()
	if op == buffer.OpCursor {
		e.replaceFailed("cursor")
	}
}

var (
	descBytes    = newDesc("sluice_buffer_bytes", "Bytes held by the disk buffer.", kindGauge)
	descRecords  = newDesc("sluice_buffer_records", "Records held by the disk buffer.", kindGauge)
	descSegments = newDesc("sluice_buffer_segments", "Segment files of the disk buffer.", kindGauge)
	descDurable  = newDesc("sluice_buffer_durable_segment", "Segment index up to which the buffer is fsynced.", kindGauge)
	descDurOff   = newDesc("sluice_buffer_durable_offset_bytes", "Byte offset in that segment up to which the buffer is fsynced.", kindGauge)
	descLagBytes = newDesc("sluice_buffer_lag_bytes", "Buffer bytes a sink has not committed.", kindGauge, "sink")
	descLagRecs  = newDesc("sluice_buffer_lag_records", "Buffer records a sink has not committed.", kindGauge, "sink")
)

// statsCollector reads the buffer's gauges at scrape time.
type statsCollector struct{ stats func() buffer.Stats }

func (c *statsCollector) describe() []*desc {
	return []*desc{descBytes, descRecords, descSegments, descDurable, descDurOff, descLagBytes, descLagRecs}
}

func (c *statsCollector) collect(dst []family) []family {
	s := c.stats()
	lagBytes := family{desc: descLagBytes, series: make([]series, 0, len(s.Lag))}
	lagRecs := family{desc: descLagRecs, series: make([]series, 0, len(s.Lag))}
	for sink, l := range s.Lag {
		lagBytes.series = append(lagBytes.series, series{values: []string{sink}, value: float64(l.Bytes)})
		lagRecs.series = append(lagRecs.series, series{values: []string{sink}, value: float64(l.Records)})
	}
	return append(dst,
		constFamily(descBytes, float64(s.Bytes)), constFamily(descRecords, float64(s.Records)),
		constFamily(descSegments, float64(s.Segments)), constFamily(descDurable, float64(s.Durable.Segment)),
		constFamily(descDurOff, float64(s.Durable.Offset)), lagBytes, lagRecs)
}

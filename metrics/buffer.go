package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/buffer"
)

// BufferEvents counts what the disk buffer does; it implements buffer.Events.
type BufferEvents struct {
	appended, appendedBytes prometheus.Counter
	fsync                   prometheus.Histogram
	dropped                 *prometheus.CounterVec
	corrupt                 prometheus.Counter
	diskErrors              *prometheus.CounterVec
	replaceFailed           func(file string)
}

var _ buffer.Events = (*BufferEvents)(nil)

// Buffer registers the buffer's counters and the gauges read from stats.
func (m *Registry) Buffer(stats func() buffer.Stats) *BufferEvents {
	e := &BufferEvents{
		appended:      prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_buffer_appended_records_total", Help: "Records appended to the disk buffer."}),
		appendedBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_buffer_appended_bytes_total", Help: "Bytes appended to the disk buffer, framing included."}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sluice_buffer_fsync_seconds", Help: "Time taken by each fsync of a buffer segment.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_buffer_dropped_records_total", Help: "Records a sink lost because the full buffer dropped its oldest segment.",
		}, []string{"sink"}),
		corrupt:       prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_buffer_corrupt_bytes_total", Help: "Corrupt buffer bytes skipped or cut off."}),
		diskErrors:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_buffer_disk_errors_total", Help: "Failed buffer disk operations."}, []string{"op"}),
		replaceFailed: m.ReplaceFailed,
	}
	m.Reg.MustRegister(e.appended, e.appendedBytes, e.fsync, e.dropped, e.corrupt, e.diskErrors, &statsCollector{stats: stats})
	return e
}

// Appended implements buffer.Events.
func (e *BufferEvents) Appended(records, bytes int) {
	e.appended.Add(float64(records))
	e.appendedBytes.Add(float64(bytes))
}

// Synced implements buffer.Events.
func (e *BufferEvents) Synced(took time.Duration) { e.fsync.Observe(took.Seconds()) }

// Dropped implements buffer.Events.
func (e *BufferEvents) Dropped(sink string, records int64) {
	e.dropped.WithLabelValues(sink).Add(float64(records))
}

// Corrupt implements buffer.Events.
func (e *BufferEvents) Corrupt(bytes int64) { e.corrupt.Add(float64(bytes)) }

// DiskError implements buffer.Events. A failed cursor save is also a state
// file that was not saved, counted with the checkpoint's failures.
func (e *BufferEvents) DiskError(op string) {
	e.diskErrors.WithLabelValues(op).Inc()
	if op == buffer.OpCursor {
		e.replaceFailed("cursor")
	}
}

var (
	descBytes    = prometheus.NewDesc("sluice_buffer_bytes", "Bytes held by the disk buffer.", nil, nil)
	descRecords  = prometheus.NewDesc("sluice_buffer_records", "Records held by the disk buffer.", nil, nil)
	descSegments = prometheus.NewDesc("sluice_buffer_segments", "Segment files of the disk buffer.", nil, nil)
	descDurable  = prometheus.NewDesc("sluice_buffer_durable_segment", "Segment index up to which the buffer is fsynced.", nil, nil)
	descDurOff   = prometheus.NewDesc("sluice_buffer_durable_offset_bytes", "Byte offset in that segment up to which the buffer is fsynced.", nil, nil)
	descLagBytes = prometheus.NewDesc("sluice_buffer_lag_bytes", "Buffer bytes a sink has not committed.", []string{"sink"}, nil)
	descLagRecs  = prometheus.NewDesc("sluice_buffer_lag_records", "Buffer records a sink has not committed.", []string{"sink"}, nil)
)

// statsCollector reads the buffer's gauges at scrape time.
type statsCollector struct{ stats func() buffer.Stats }

// Describe implements prometheus.Collector.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBytes, descRecords, descSegments, descDurable, descDurOff, descLagBytes, descLagRecs} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(descRecords, prometheus.GaugeValue, float64(s.Records))
	ch <- prometheus.MustNewConstMetric(descSegments, prometheus.GaugeValue, float64(s.Segments))
	ch <- prometheus.MustNewConstMetric(descDurable, prometheus.GaugeValue, float64(s.Durable.Segment))
	ch <- prometheus.MustNewConstMetric(descDurOff, prometheus.GaugeValue, float64(s.Durable.Offset))
	for sink, l := range s.Lag {
		ch <- prometheus.MustNewConstMetric(descLagBytes, prometheus.GaugeValue, float64(l.Bytes), sink)
		ch <- prometheus.MustNewConstMetric(descLagRecs, prometheus.GaugeValue, float64(l.Records), sink)
	}
}

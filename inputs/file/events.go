package file

import (
	"sync"
	"time"
)

// Skip reasons counted through Events.Anomaly. They are metric label values,
// so the set is closed.
const (
	SkipNULBytes    = "nul_bytes"     // bytes of a NUL run dropped (copytruncate leaves them)
	SkipEmptyLine   = "empty_line"    // lines with no content in a raw file
	SkipSplitLine   = "split_line"    // extra pieces made from a line over max_line_size
	SkipParseError  = "parse_error"   // lines kept as raw text because their header did not parse
	SkipInvalidUTF8 = "invalid_utf8"  // lines kept byte for byte although not UTF-8
	SkipUnreadable  = "unreadable"    // files that matched but could not be opened
	SkipNotRegular  = "not_regular"   // directories and devices that matched a pattern
	SkipLostFile    = "lost_file"     // files gone (deleted beyond kubelet's max files) before they were read to their end
	SkipLostBytes   = "lost_bytes"    // bytes of such files that were never read, where known
	SkipReleased    = "released"      // deleted files closed unread after release_deleted_after
	SkipReadError   = "read_error"    // read or stat errors on an open file
	SkipTooManyOpen = "too_many_open" // discoveries deferred because max_open_files was reached
)

// Events receives what the tailer does, so the daemon can expose it as
// metrics without this package choosing a metrics library. Implementations
// must be safe for concurrent use and cheap: they are called per read.
type Events interface {
	Read(lines, bytes int)        // complete records emitted and the bytes they came from
	Opened()                      // a file handle was opened
	Closed()                      // a file handle was closed
	Rotated()                     // a file was renamed or removed and has been drained
	Truncated()                   // a file shrank below the read offset (copytruncate)
	Anomaly(reason string, n int) // input that was not a clean line: kept, cut or dropped as the reason says
	CheckpointSaved(at time.Time) // the checkpoint file is current as of at (written, or unchanged since)
	CheckpointFailed()            // the checkpoint file could not be replaced; the next save tries again
}

// NopEvents discards every event.
type NopEvents struct{}

// Read implements Events.
func (NopEvents) Read(int, int) {}

// Opened implements Events.
func (NopEvents) Opened() {}

// Closed implements Events.
func (NopEvents) Closed() {}

// Rotated implements Events.
func (NopEvents) Rotated() {}

// Truncated implements Events.
func (NopEvents) Truncated() {}

// Anomaly implements Events.
func (NopEvents) Anomaly(string, int) {}

// CheckpointSaved implements Events.
func (NopEvents) CheckpointSaved(time.Time) {}

// CheckpointFailed implements Events.
func (NopEvents) CheckpointFailed() {}

// Counts is an Events that keeps totals in memory; tests and the benchmark
// harness read them.
type Counts struct {
	mu sync.Mutex
	t  Totals
}

// Totals are the values a Counts has collected.
type Totals struct {
	Lines, Bytes                   int
	Open, Opens, Rotations, Truncs int
	Anomalies                      map[string]int
	LastCheckpoint                 time.Time
	CheckpointFailures             int
}

// Read implements Events.
func (c *Counts) Read(lines, bytes int) { c.with(func() { c.t.Lines += lines; c.t.Bytes += bytes }) }

// Opened implements Events.
func (c *Counts) Opened() { c.with(func() { c.t.Open++; c.t.Opens++ }) }

// Closed implements Events.
func (c *Counts) Closed() { c.with(func() { c.t.Open-- }) }

// Rotated implements Events.
func (c *Counts) Rotated() { c.with(func() { c.t.Rotations++ }) }

// Truncated implements Events.
func (c *Counts) Truncated() { c.with(func() { c.t.Truncs++ }) }

// Anomaly implements Events.
func (c *Counts) Anomaly(reason string, n int) {
	c.with(func() {
		if c.t.Anomalies == nil {
			c.t.Anomalies = map[string]int{}
		}
		c.t.Anomalies[reason] += n
	})
}

// CheckpointSaved implements Events.
func (c *Counts) CheckpointSaved(at time.Time) { c.with(func() { c.t.LastCheckpoint = at }) }

// CheckpointFailed implements Events.
func (c *Counts) CheckpointFailed() { c.with(func() { c.t.CheckpointFailures++ }) }

// Snapshot returns a copy safe to read while the tailer runs.
func (c *Counts) Snapshot() Totals {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.t
	s.Anomalies = make(map[string]int, len(c.t.Anomalies))
	for k, v := range c.t.Anomalies {
		s.Anomalies[k] = v
	}
	return s
}

func (c *Counts) with(f func()) {
	c.mu.Lock()
	f()
	c.mu.Unlock()
}

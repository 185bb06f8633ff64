package buffer

import (
	"fmt"
	"log/slog"
	"time"
)

// Fsync policies.
const (
	FsyncInterval = "interval" // sync every SyncEvery; inputs learn durability then
	FsyncAlways   = "always"   // sync before Append returns
)

// Full-buffer policies.
const (
	OnFullBlock      = "block"       // Append waits: inputs stop reading, their files are the upstream buffer
	OnFullDropOldest = "drop_oldest" // the oldest segment is dropped and its unread records counted per sink
)

// Config is what the buffer needs; the daemon fills it from the YAML.
type Config struct {
	Dir         string
	SegmentSize int64
	MaxBytes    int64
	Fsync       string
	SyncEvery   time.Duration
	OnFull      string
	Sinks       []string // one cursor each
	Events      Events
	Logger      *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.Dir == "" {
		return fmt.Errorf("buffer: no folder configured")
	}
	if len(c.Sinks) == 0 {
		return fmt.Errorf("buffer: no sink to read it")
	}
	if c.SegmentSize <= 0 {
		c.SegmentSize = 16 << 20
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 256 << 20
	}
	if c.MaxBytes < 2*c.SegmentSize {
		return fmt.Errorf("buffer: max_bytes %d must hold at least two segments of %d", c.MaxBytes, c.SegmentSize)
	}
	if c.Fsync == "" {
		c.Fsync = FsyncInterval
	}
	if c.Fsync != FsyncInterval && c.Fsync != FsyncAlways {
		return fmt.Errorf("buffer: fsync %q is not interval or always", c.Fsync)
	}
	if c.SyncEvery <= 0 {
		c.SyncEvery = time.Second
	}
	if c.OnFull == "" {
		c.OnFull = OnFullBlock
	}
	if c.OnFull != OnFullBlock && c.OnFull != OnFullDropOldest {
		return fmt.Errorf("buffer: on_full %q is not block or drop_oldest", c.OnFull)
	}
	if c.Events == nil {
		c.Events = NopEvents{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// OpCursor is the DiskError operation of a cursor file that could not be
// created, written or fsynced.
const OpCursor = "cursor"

// Events receives what the buffer does, so the daemon can count it without
// this package choosing a metrics library. Calls are made with the buffer's
// lock held: implementations must be quick and must not call back.
type Events interface {
	Appended(records, bytes int)
	Synced(took time.Duration)
	Dropped(sink string, records int64)
	Corrupt(bytes int64)
	DiskError(op string)
}

// NopEvents discards every event.
type NopEvents struct{}

// Appended implements Events.
func (NopEvents) Appended(int, int) {}

// Synced implements Events.
func (NopEvents) Synced(time.Duration) {}

// Dropped implements Events.
func (NopEvents) Dropped(string, int64) {}

// Corrupt implements Events.
func (NopEvents) Corrupt(int64) {}

// DiskError implements Events.
func (NopEvents) DiskError(string) {}

// Package record holds the unit that flows through sluice: one log entry with
// its source position, and the batch that carries records together with the
// acknowledgement that lets an input advance its checkpoint.
//
// Guarantee: a Batch's Ack is called at most once, and only by the stage that
// has made the batch safe (written by a sink, or durable in the buffer).
// Inputs never assume a record is safe without it. A stage that cannot make
// a batch safe (a failed fsync) calls Nack instead, so the input reads the
// records again rather than waiting for an Ack that will never come; at most
// one of Ack and Nack takes effect.
package record

import (
	"sync"
	"sync/atomic"
	"time"
)

// Flags mark how a record was shaped by the input.
type Flags uint8

const (
	// FlagSplit marks one piece of a line that exceeded the maximum line size.
	FlagSplit Flags = 1 << iota
	// FlagRaw marks a line kept as raw text because its format was not recognised.
	FlagRaw
	// FlagInvalidUTF8 marks a body that is not valid UTF-8; it is kept as is.
	FlagInvalidUTF8
	// FlagNoNewline marks the last line of a drained file that had no newline.
	FlagNoNewline
)

// flagNames are the flags' names, in bit order.
var flagNames = [...]string{"split", "raw", "invalid_utf8", "no_newline"}

// Names lists the names of the flags set in f, in a fixed order: split,
// raw, invalid_utf8, no_newline. Sinks show them as metadata or tags.
func (f Flags) Names() []string {
	var names []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return names
}

// Record is one log entry. Body is owned by the record's batch; stages that
// keep it beyond the batch's lifetime must copy it.
type Record struct {
	Time   time.Time // time from the line; zero when the line had none
	Stream string    // "stdout", "stderr" or "" when unknown
	Body   []byte    // the message without the format's header
	Path   string    // path the source file was discovered at
	Offset int64     // byte offset of the line's first byte in its file
	Flags  Flags
	Attrs  []Attr // metadata added by enrichment

	// Source is the file the record was read from, shared by every record
	// read from it with the same fingerprint; nil when not known.
	Source *Source
	// Next is the file offset a reader with no other state can restart
	// from once this record is safe, without losing a line or labelling a
	// piece wrongly: the end of the record's line, but never past the
	// start of a line still being joined or cut. 0 means unknown (restart
	// from the checkpoint).
	Next int64
}

// Source identifies a file the way the tailer's checkpoint does: device and
// inode (volume serial and file index on Windows) plus the file's first
// bytes, so a reused inode is not mistaken for the file it replaced. A
// Source is immutable once records refer to it.
type Source struct {
	Dev, Ino uint64
	Head     []byte // the file's fingerprint when the record was read: up to its first KiB
}

// Attr is one metadata key/value attached to a record.
type Attr struct {
	Key   string
	Value string
}

// Batch is a group of records acknowledged as a whole.
type Batch struct {
	Records  []Record
	once     sync.Once
	ack      func()
	nack     func()
	release  func()
	released atomic.Bool
}

// NewBatch returns a batch whose Ack runs ack once; ack may be nil.
func NewBatch(recs []Record, ack func()) *Batch {
	return &Batch{Records: recs, ack: ack}
}

// OnNack sets what Nack runs; it returns b for chaining after NewBatch.
func (b *Batch) OnNack(nack func()) *Batch {
	b.nack = nack
	return b
}

// OnRelease sets what Release runs; it returns b for chaining.
func (b *Batch) OnRelease(fn func()) *Batch {
	b.release = fn
	return b
}

// Release reports that nothing reads the records' memory any more (their
// bodies, attrs and the slice itself), so the input may reuse it. It is
// separate from Ack: the stage that copied the records (the buffer's
// append) releases them at once and acknowledges them when the copy is
// durable. Only the last holder of a batch may call it, and it must not
// touch the records afterwards; a batch nobody releases is garbage
// collected as usual. Calls after the first do nothing.
func (b *Batch) Release() {
	if !b.released.CompareAndSwap(false, true) || b.release == nil {
		return
	}
	fn := b.release
	// The batch may live on (waiting for its fsync to be acknowledged)
	// but must not keep the memory it gave back reachable.
	b.Records, b.release = nil, nil
	fn()
}

// Ack reports that every record of the batch is safe. Calls after the first
// (or after a Nack) do nothing, so a retried delivery cannot advance a
// checkpoint twice.
func (b *Batch) Ack() { b.finish(b.ack) }

// Nack reports that the batch could not be made safe and will not be: the
// input must read its records again. Calls after an Ack do nothing.
func (b *Batch) Nack() { b.finish(b.nack) }

// Done is Ack when durable is true and Nack otherwise; it fits callbacks
// that report whether a write became durable.
func (b *Batch) Done(durable bool) {
	if durable {
		b.Ack()
	} else {
		b.Nack()
	}
}

func (b *Batch) finish(fn func()) {
	b.once.Do(func() {
		if fn != nil {
			fn()
		}
	})
}

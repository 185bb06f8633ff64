package outputs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sluicelog/sluice/internal/atomicfile"
)

// DeadLetter appends permanently rejected requests to a file, so records a
// server refused can be inspected and replayed instead of vanishing. Each
// request is one header line ({"rejected_at", "sink", "reason", "error",
// "records"}) followed by its entries, one JSON object per line. The file
// is bounded: past MaxBytes it is renamed to <path>.1 (replacing the
// previous one) and started again.
type DeadLetter struct {
	path     string
	maxBytes int64

	mu   sync.Mutex
	f    *os.File
	size int64

	// ReplaceFailed, when set, is told "dead_letter" each time a rotation
	// cannot rename the full file (on Windows after about a second of
	// retries while another process holds it); the daemon counts it. Set
	// it before the first Write.
	ReplaceFailed func(file string)
}

// OpenDeadLetter opens (creating) the dead-letter file at path.
func OpenDeadLetter(path string, maxBytes int64) (*DeadLetter, error) {
	d := &DeadLetter{path: path, maxBytes: maxBytes}
	if err := d.open(); err != nil {
		return nil, err
	}
	return d, nil
}

// Path is where the file is.
func (d *DeadLetter) Path() string { return d.path }

func (d *DeadLetter) open() error {
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open dead-letter file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat dead-letter file: %w", err)
	}
	d.f, d.size = f, st.Size()
	return nil
}

type deadHeader struct {
	RejectedAt time.Time `json:"rejected_at"`
	Sink       string    `json:"sink"`
	Reason     string    `json:"reason"`
	Error      string    `json:"error,omitempty"`
	Records    int       `json:"records"`
}

// Write appends req with why it was rejected, and syncs the file: the
// caller commits (forgets) the request right after.
func (d *DeadLetter) Write(sink, reason string, cause error, req Request) error {
	var b bytes.Buffer
	h := deadHeader{RejectedAt: time.Now().UTC(), Sink: sink, Reason: reason, Records: req.Records()}
	if cause != nil {
		h.Error = cause.Error()
	}
	if err := json.NewEncoder(&b).Encode(h); err != nil {
		return fmt.Errorf("encode dead-letter header: %w", err)
	}
	if err := req.WriteEntries(&b); err != nil {
		return fmt.Errorf("encode dead-letter entries: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		if err := d.open(); err != nil {
			return err
		}
	}
	if d.maxBytes > 0 && d.size > 0 && d.size+int64(b.Len()) > d.maxBytes {
		if err := d.rotate(); err != nil {
			return err
		}
	}
	if _, err := d.f.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write dead-letter file: %w", d.untear(err))
	}
	d.size += int64(b.Len())
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("sync dead-letter file: %w", err)
	}
	return nil
}

// untear cuts the file back to its last whole request after a failed
// write (a full disk writes part of it), so the retry that follows does not
// leave a torn line for whoever reads or replays the file. When even that
// fails, the file is closed and the next write starts from what is there.
func (d *DeadLetter) untear(cause error) error {
	if err := d.f.Truncate(d.size); err != nil {
		d.f.Close()
		d.f = nil
		return errors.Join(cause, fmt.Errorf("cut back to %d bytes: %w", d.size, err))
	}
	return cause
}

func (d *DeadLetter) rotate() error {
	d.f.Close()
	d.f = nil
	if err := atomicfile.Rename(d.path, d.path+".1"); err != nil {
		if d.ReplaceFailed != nil {
			d.ReplaceFailed("dead_letter")
		}
		return fmt.Errorf("rotate dead-letter file: %w", err)
	}
	return d.open()
}

// Close closes the file.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

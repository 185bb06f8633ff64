// Package checkpoint persists how far each tailed file has been read.
//
// The file is versioned JSON, written to a temporary file, fsynced and renamed
// over the previous one, so a crash leaves either the old or the new
// checkpoint, never a torn one. The in-memory view belongs to the tailer; this
// package only encodes, decodes and replaces the file. Callers save only
// positions whose records have been acknowledged, which is what makes a
// restart lose nothing.
package checkpoint

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/internal/atomicfile"
)

// Version is the format written by Save. Load refuses other versions rather
// than guess, and the tailer then reads files from their start (duplicates,
// never loss).
const Version = 1

// Entry is the saved position of one file.
type Entry struct {
	Dev         uint64                  `json:"dev"`
	Ino         uint64                  `json:"ino"`
	Fingerprint fingerprint.Fingerprint `json:"fingerprint"`
	Path        string                  `json:"path"`           // path the file was discovered at
	RealPath    string                  `json:"real_path"`      // symlinks resolved; where rotated siblings are looked for
	Offset      int64                   `json:"offset"`         // next byte to read
	Size        int64                   `json:"size,omitempty"` // file size when last read: what is lost if the file is gone
	Format      string                  `json:"format,omitempty"`
	Partials    []Partial               `json:"partials,omitempty"`
	Seen        time.Time               `json:"seen"` // last time the file was read; old entries are pruned
}

// Partial is a line whose start lies before Offset but whose end has not
// been read yet: joined CRI "P" chunks waiting for their "F" (one per
// stream, since stdout and stderr chunks interleave), or, with Split set, a
// line over the size limit whose next piece starts at Offset. It is saved so
// a restart, or a rotation between the chunks, still joins or labels it.
type Partial struct {
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"`
	Path   string    `json:"path"`
	Offset int64     `json:"offset"`
	Body   []byte    `json:"body,omitempty"`
	Split  bool      `json:"split,omitempty"`
}

type fileFormat struct {
	Version int     `json:"version"`
	Files   []Entry `json:"files"`
}

// Load reads the checkpoint at path. A missing file is not an error: it is
// the first start.
func Load(path string) ([]Entry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode checkpoint %s: %w", path, err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("checkpoint %s: version %d, want %d", path, f.Version, Version)
	}
	return f.Files, nil
}

// Save atomically replaces the checkpoint at path with entries. The file
// is written an entry at a time: with a thousand files it is over a
// megabyte of base64 heads, which a single Marshal held twice over.
func Save(path string, entries []Entry) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create checkpoint folder %s: %w", dir, err)
	}
	err := atomicfile.WriteFunc(path, true, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 32<<10)
		fmt.Fprintf(bw, `{"version":%d,"files":[`, Version)
		enc := json.NewEncoder(bw)
		for i := range entries {
			if i > 0 {
				bw.WriteByte(',')
			}
			if err := enc.Encode(&entries[i]); err != nil {
				return fmt.Errorf("encode checkpoint: %w", err)
			}
		}
		bw.WriteString("]}\n")
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

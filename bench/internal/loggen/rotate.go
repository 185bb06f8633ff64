package loggen

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sluicelog/sluice/internal/kubeletrotate"
)

// DefaultMaxFiles is kubelet's containerLogMaxFiles default: 0.log and at
// most four rotated files.
const DefaultMaxFiles = kubeletrotate.DefaultMaxFiles

// Rotation says when and how a file is rotated.
type Rotation struct {
	// MaxSize is kubelet's containerLogMaxSize: the file is rotated once it
	// holds this many bytes. 0 never rotates.
	MaxSize int64
	// MaxFiles is containerLogMaxFiles; 0 means DefaultMaxFiles.
	MaxFiles int
	// KeepAll renames only, never gzipping or removing a rotated file, so
	// every line stays on disk uncompressed (the demo counts them there).
	KeepAll bool
	// CopyTruncate copies the file and truncates it, as logrotate's
	// copytruncate does, instead of kubelet's rename; nothing is gzipped
	// or pruned then.
	CopyTruncate bool
}

// rotator is one file's rotation state.
type rotator struct {
	Rotation
	path    string
	kubelet kubeletrotate.Rotator
	count   int
}

func newRotator(r Rotation, path string) rotator {
	return rotator{Rotation: r, path: path,
		kubelet: kubeletrotate.Rotator{Path: path, MaxFiles: r.MaxFiles, KeepAll: r.KeepAll}}
}

// copyTruncate copies the file to a rotated name and empties it.
func (r *rotator) copyTruncate(f *os.File) error {
	rotated := fmt.Sprintf("%s.%s.%d", r.path, time.Now().UTC().Format("20060102-150405"), r.count)
	src, err := os.Open(r.path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(rotated)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("copy %s: %w", r.path, err)
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return f.Truncate(0)
}

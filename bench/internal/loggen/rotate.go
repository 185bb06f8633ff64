package loggen

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultMaxFiles is kubelet's containerLogMaxFiles default: 0.log and at
// most four rotated files.
const DefaultMaxFiles = 5

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
	path  string
	stamp time.Time // the last rotated name's time
	count int
}

// kubeletRotate does what kubelet's container log manager does when 0.log
// passes containerLogMaxSize (pkg/kubelet/logs, containerLogManager
// .rotateLog), in its order: remove temporary files and uncompressed files
// whose .gz exists; remove the oldest rotated files until at most
// MaxFiles-2 remain; gzip every rotated file not ending in .gz (<f>.tmp,
// renamed to <f>.gz, then <f> removed); rename 0.log to
// 0.log.<YYYYMMDD-hhmmss>. The caller reopens 0.log, as the runtime does.
// e2e's kubelet does the same while recording what became of each file.
func (r *rotator) kubeletRotate() error {
	if !r.KeepAll {
		if err := r.compressAndPrune(); err != nil {
			return err
		}
	}
	// Names have a resolution of a second: a clock that advances at least
	// a second per rotation keeps them unique and in time order, which
	// pruning by name needs.
	now := time.Now().Truncate(time.Second)
	if !now.After(r.stamp) {
		now = r.stamp.Add(time.Second)
	}
	r.stamp = now
	name := r.path + "." + now.Format("20060102-150405")
	if err := os.Rename(r.path, name); err != nil {
		return fmt.Errorf("rotate %s: %w", r.path, err)
	}
	return nil
}

// compressAndPrune is kubelet's rotation up to the rename.
func (r *rotator) compressAndPrune() error {
	logs, err := filepath.Glob(r.path + ".*")
	if err != nil {
		return fmt.Errorf("list rotated logs: %w", err)
	}
	var kept []string
	for _, l := range logs {
		if strings.HasSuffix(l, ".tmp") || (!strings.HasSuffix(l, ".gz") && slices.Contains(logs, l+".gz")) {
			if err := os.Remove(l); err != nil {
				return fmt.Errorf("remove unused log %s: %w", l, err)
			}
			continue
		}
		kept = append(kept, l)
	}
	slices.Sort(kept)
	maxFiles := r.MaxFiles
	if maxFiles == 0 {
		maxFiles = DefaultMaxFiles
	}
	for len(kept) > max(maxFiles-2, 0) {
		if err := os.Remove(kept[0]); err != nil {
			return fmt.Errorf("remove old log %s: %w", kept[0], err)
		}
		kept = kept[1:]
	}
	for _, l := range kept {
		if !strings.HasSuffix(l, ".gz") {
			if err := compress(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// compress gzips path to path.gz through path.tmp and removes path.
func compress(path string) (err error) {
	tmp := path + ".tmp"
	defer os.Remove(tmp) // gone after the rename when all went well
	src, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	defer src.Close()
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	defer dst.Close()
	zw := gzip.NewWriter(dst)
	if _, err := io.Copy(zw, src); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := os.Rename(tmp, path+".gz"); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	return os.Remove(path)
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

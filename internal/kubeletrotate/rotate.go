// Package kubeletrotate rotates a container's log file as kubelet's
// container log manager does (pkg/kubelet/logs, containerLogManager
// .rotateLog) when 0.log passes containerLogMaxSize, in its order: remove
// temporary files and uncompressed files whose .gz exists; remove the
// oldest rotated files, by name, until at most MaxFiles-2 remain; gzip
// every rotated file not ending in .gz (<f>.tmp, renamed to <f>.gz, then
// <f> removed); rename 0.log to 0.log.<YYYYMMDD-hhmmss>. Reopening 0.log is
// the container runtime's part, left to the caller.
//
// So at most one uncompressed rotated file exists: a reader two rotations
// behind finds the rest of its file only in the .gz, and one MaxFiles-1
// rotations behind finds it nowhere. It is test and benchmark support: the
// e2e tests' kubelet and bench's load generator rotate with it.
package kubeletrotate

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

// Rotator rotates one container's 0.log. It is not safe for concurrent use.
type Rotator struct {
	Path string // the 0.log
	// MaxFiles is containerLogMaxFiles; 0 means DefaultMaxFiles.
	MaxFiles int
	// KeepAll renames only, never gzipping or removing a file: every line
	// stays on disk as written.
	KeepAll bool
	// Compress writes the gzip of the file src to dst; nil compresses with
	// compress/gzip at kubelet's level (the default).
	Compress func(dst *os.File, src string) error
	// Removing, when set, is called just before a rotated file is pruned.
	Removing func(path string) error
	// Compressed, when set, is called once path.gz is in place, just
	// before path, which info describes, is removed.
	Compressed func(path string, info os.FileInfo) error

	stamp time.Time // the last rotated name's time
}

// Rotate rotates the file and returns the name 0.log was renamed to.
func (r *Rotator) Rotate() (string, error) {
	if !r.KeepAll {
		logs, err := filepath.Glob(r.Path + ".*")
		if err != nil {
			return "", fmt.Errorf("list rotated logs: %w", err)
		}
		if logs, err = cleanupUnused(logs); err != nil {
			return "", err
		}
		if logs, err = r.removeExcess(logs); err != nil {
			return "", err
		}
		for _, l := range logs {
			if !strings.HasSuffix(l, ".gz") {
				if err := r.compress(l); err != nil {
					return "", err
				}
			}
		}
	}
	// Names have a resolution of a second; writers in tests rotate faster.
	// A clock that advances at least a second per rotation keeps names
	// unique and in time order, which pruning by name needs.
	now := time.Now().Truncate(time.Second)
	if !now.After(r.stamp) {
		now = r.stamp.Add(time.Second)
	}
	r.stamp = now
	name := r.Path + "." + now.Format("20060102-150405")
	if err := os.Rename(r.Path, name); err != nil {
		return "", fmt.Errorf("rotate %s to %s: %w", r.Path, name, err)
	}
	return name, nil
}

// cleanupUnused removes what an interrupted rotation leaves: temporary
// files, and uncompressed files whose .gz exists.
func cleanupUnused(logs []string) ([]string, error) {
	var inUse []string
	for _, l := range logs {
		if strings.HasSuffix(l, ".tmp") || (!strings.HasSuffix(l, ".gz") && slices.Contains(logs, l+".gz")) {
			if err := os.Remove(l); err != nil {
				return nil, fmt.Errorf("remove unused log %s: %w", l, err)
			}
			continue
		}
		inUse = append(inUse, l)
	}
	return inUse, nil
}

// removeExcess removes the oldest rotated files until at most MaxFiles-2
// remain: with 0.log and the file about to be rotated that makes MaxFiles.
func (r *Rotator) removeExcess(logs []string) ([]string, error) {
	slices.Sort(logs)
	maxFiles := r.MaxFiles
	if maxFiles == 0 {
		maxFiles = DefaultMaxFiles
	}
	i := 0
	for ; i < len(logs)-max(maxFiles-2, 0); i++ {
		if r.Removing != nil {
			if err := r.Removing(logs[i]); err != nil {
				return nil, fmt.Errorf("prune %s: %w", logs[i], err)
			}
		}
		if err := os.Remove(logs[i]); err != nil {
			return nil, fmt.Errorf("remove old log %s: %w", logs[i], err)
		}
	}
	return logs[i:], nil
}

// compress gzips path to path.gz through path.tmp and removes path.
func (r *Rotator) compress(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, info.Mode())
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	defer os.Remove(tmp) // kubelet's best-effort clean-up; gone after the rename
	defer f.Close()
	gz := r.Compress
	if gz == nil {
		gz = gzipFile
	}
	if err := gz(f, path); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := os.Rename(tmp, path+".gz"); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if r.Compressed != nil {
		if err := r.Compressed(path, info); err != nil {
			return fmt.Errorf("compress %s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove %s after compressing it: %w", path, err)
	}
	return nil
}

// gzipFile writes the gzip of src to dst with compress/gzip.
func gzipFile(dst *os.File, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	zw := gzip.NewWriter(dst)
	if _, err := io.Copy(zw, in); err != nil {
		return err
	}
	return zw.Close()
}

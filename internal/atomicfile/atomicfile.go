// Package atomicfile replaces small state files (checkpoints, the
// dead-letter file's rotation) so that a crash leaves either the old or the new content, never a
// torn file: write a temporary file, optionally fsync it, rename it over the
// old one, and with fsync also sync the folder so the rename is durable.
//
// Files are created 0600 (owner only; the process umask can only take bits
// away): they hold the head bytes of every log file and positions into
// the buffer.
//
// On Windows a rename that replaces a file fails while another process
// (antivirus, backup, a viewer) holds the old file without FILE_SHARE_DELETE;
// Rename and Write then retry for about a second before they give up (see
// rename_windows.go).
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// RetryFunc is told that a rename another process blocked is about to be
// tried again, after attempt (1-based) failed with err. Tests release the
// file there; nil is allowed.
type RetryFunc func(attempt int, err error)

// Write replaces path with b. Without sync the new content survives a
// killed process (the page cache keeps it) but perhaps not a power loss.
func Write(path string, b []byte, sync bool) error { return write(path, b, sync, nil) }

// WriteFunc replaces path with what fill writes, as Write does: content
// of thousands of entries is streamed, never held whole in memory. An
// error from fill leaves path as it was.
func WriteFunc(path string, sync bool, fill func(io.Writer) error) error {
	return replace(path, sync, nil, fill)
}

// Rename renames from to to, replacing to, retrying briefly on Windows
// while another process holds either file (see rename_windows.go).
func Rename(from, to string) error { return rename(from, to, nil) }

func write(path string, b []byte, sync bool, retry RetryFunc) error {
	return replace(path, sync, retry, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

func replace(path string, sync bool, retry RetryFunc, fill func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	werr := fill(f)
	var serr error
	if sync {
		serr = f.Sync()
	}
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := rename(tmp, path, retry); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if sync {
		return SyncDir(filepath.Dir(path))
	}
	return nil
}

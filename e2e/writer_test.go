package e2e

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"
)

// rotation is how a writer rotates its log.
type rotation int

const (
	// renameCreate is kubelet's way: rename 0.log to 0.log.<YYYYMMDD-hhmmss>,
	// after which the runtime writes on to the renamed file until it is told
	// to reopen, and then creates a new 0.log.
	renameCreate rotation = iota
	// copyTruncate is logrotate's copytruncate: copy 0.log to a rotated
	// name, truncate 0.log to nothing, and go on appending (O_APPEND).
	copyTruncate
	// kubeletRotate is kubelet's rotation in full (see kubelet.rotateLog):
	// renameCreate preceded by the removal of rotated files beyond
	// max-files and the gzipping of the uncompressed one.
	kubeletRotate
)

func (r rotation) String() string {
	switch r {
	case copyTruncate:
		return "copytruncate"
	case kubeletRotate:
		return "kubelet"
	}
	return "rename+create"
}

const (
	lineLen       = 80 // bytes of a writer line without its newline
	headerLen     = len("2006-01-02T15:04:05.000000000Z stdout F ")
	messageLen    = lineLen - headerLen
	afterRename   = 25        // lines the runtime writes to the renamed file before it reopens 0.log
	rotateAt      = 2_000_000 // kubelet's containerLogMaxSize in these tests
	minWriterRate = 20000     // lines per second per file the rotation tests must reach
)

// logWriter plays a container runtime writing CRI lines `<time> stdout F
// p=<pod> seq=<n> <padding>`, numbered from 0, at a steady rate, and
// rotating every maxSize (rotateAt) bytes. Lines reach the file through a 64 KiB
// buffer, so a write may end in the middle of a line, as with any writer
// whose lines are larger than a pipe's atomic size.
type logWriter struct {
	path     string // the container's 0.log
	pod      string
	rotation rotation
	rate     int   // lines per second
	limit    int   // lines to write; 0 writes until the context ends
	maxSize  int64 // rotate when 0.log reaches this size; 0 means rotateAt
	// kubelet does the pruning, compressing and naming of kubeletRotate;
	// its zero value is kubelet's default policy.
	kubelet kubelet

	// Results, valid once run has returned.
	lines     int           // lines written
	rotations int           // rotations done
	suffixed  int           // rotated names that needed a counter to be unique
	elapsed   time.Duration // from the first line to the last
	// gens are the files written, oldest first, one per creation of 0.log
	// (one in all with copyTruncate).
	gens []*generation
}

// achieved is the line rate the writer reached.
func (w *logWriter) achieved() float64 { return float64(w.lines) / w.elapsed.Seconds() }

// run writes until limit lines are written or ctx ends. The pace is kept
// by catching up with rate × elapsed time, so scheduling hiccups do not
// lower the average.
func (w *logWriter) run(ctx context.Context) (err error) {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if f == nil {
			return
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	var (
		size      int64
		renamedAt = -1 // line count when 0.log was renamed and not yet reopened
		line      = make([]byte, 0, 2*lineLen)
		start     = time.Now()
	)
	maxSize := cmp.Or(w.maxSize, rotateAt)
	if err := w.newGeneration(f, start); err != nil {
		return err
	}
	w.kubelet.start = start
	for {
		due := int(time.Since(start).Seconds()*float64(w.rate)) + 1
		if w.limit > 0 {
			due = min(due, w.limit)
		}
		for w.lines < due {
			line = appendLine(line[:0], time.Now(), w.pod, w.lines)
			if _, err := bw.Write(line); err != nil {
				return err
			}
			size += int64(len(line))
			w.lines++
			w.gens[len(w.gens)-1].lines++
			switch {
			case renamedAt >= 0 && w.lines-renamedAt >= afterRename:
				if f, err = w.reopen(bw, f); err != nil {
					return err
				}
				size, renamedAt = 0, -1
			case renamedAt < 0 && size >= maxSize:
				if err := w.rotate(bw, f); err != nil {
					return err
				}
				if w.rotation == copyTruncate {
					size = 0
				} else {
					renamedAt = w.lines
				}
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if (w.limit > 0 && w.lines >= w.limit) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.elapsed = time.Since(start)
	if renamedAt >= 0 {
		f, err = w.reopen(bw, f)
	}
	return err
}

// rotate renames 0.log away (renameCreate, the old file stays open for the
// lines the runtime writes before it reopens) or copies and truncates it.
func (w *logWriter) rotate(bw *bufio.Writer, f *os.File) error {
	if err := bw.Flush(); err != nil {
		return err
	}
	if w.rotation == kubeletRotate {
		w.rotations++
		return w.kubelet.rotateLog(w)
	}
	name, suffixed, err := rotatedName(w.path)
	if err != nil {
		return err
	}
	w.rotations++
	if suffixed {
		w.suffixed++
	}
	if w.rotation == renameCreate {
		w.gens[len(w.gens)-1].rotated = name
		return os.Rename(w.path, name)
	}
	if err := copyFile(w.path, name); err != nil {
		return err
	}
	return f.Truncate(0)
}

// reopen closes the renamed file and starts a new 0.log, as the runtime
// does when kubelet asks it to reopen the container's log.
func (w *logWriter) reopen(bw *bufio.Writer, old *os.File) (*os.File, error) {
	if err := bw.Flush(); err != nil {
		return old, err
	}
	if err := old.Close(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	bw.Reset(f)
	return f, w.newGeneration(f, time.Now())
}

// newGeneration starts the record of the file f just opened as 0.log.
func (w *logWriter) newGeneration(f *os.File, created time.Time) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	id, err := fileIDOf(w.path, info)
	if err != nil {
		return err
	}
	w.gens = append(w.gens, &generation{first: w.lines, created: created, file: id})
	return nil
}

// rotatedName returns kubelet's name for a rotated log, 0.log.<YYYYMMDD-hhmmss>,
// with a counter (0.log.20261126-005407.3) when that name is taken, since
// these writers rotate more than once a second.
func rotatedName(path string) (string, bool, error) {
	base := path + "." + time.Now().UTC().Format("20060102-150405")
	for i := 0; i < 1000; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s.%d", base, i)
		}
		if _, err := os.Lstat(name); os.IsNotExist(err) {
			return name, i > 0, nil
		}
	}
	return "", false, fmt.Errorf("no free rotated name for %s", base)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// appendLine appends writer line seq of pod, with its newline.
func appendLine(b []byte, now time.Time, pod string, seq int) []byte {
	b = now.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000Z")
	b = append(b, " stdout F "...)
	b = appendMessage(b, pod, seq)
	return append(b, '\n')
}

const alphabet = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"

// appendMessage appends the message of line seq: `p=<pod> seq=<9 digits> `
// and letters that start at a place chosen by seq, messageLen bytes in all,
// so a message cut or mixed with another is seen.
func appendMessage(b []byte, pod string, seq int) []byte {
	start := len(b)
	b = fmt.Appendf(b, "p=%s seq=%09d ", pod, seq)
	pad := messageLen - (len(b) - start)
	return append(b, alphabet[seq%26:seq%26+pad]...)
}

// appendLines appends writer lines from..from+n-1 tagged pod to path,
// pausing between lines if pause is set.
func appendLines(t *testing.T, path, pod string, from, n int, pause time.Duration) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b []byte
	for i := from; i < from+n; i++ {
		b = appendLine(b, time.Now(), pod, i)
		if pause > 0 {
			if _, err := f.Write(b); err != nil {
				t.Fatal(err)
			}
			b = b[:0]
			time.Sleep(pause)
		}
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

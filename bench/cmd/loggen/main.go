// Command loggen writes kubelet-style container logs for demos and
// benchmarks: pods/<ns>_<pod>_<uid>/<container>/0.log files with
// containers/<pod>_<ns>_<container>-<id>.log symlinks, numbered lines in CRI
// or Docker json-file format, at a chosen rate, rotating like kubelet
// (rename to 0.log.<timestamp>, then a new 0.log) or by copytruncate.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

type options struct {
	dir         string
	pods        int
	lines       int
	rate        int
	lineSize    int
	rotateBytes int64
	rotateMode  string
	format      string
}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", "", "root folder; pods/ and containers/ are created in it")
	flag.IntVar(&o.pods, "pods", 3, "number of pods, each with one container and one writer")
	flag.IntVar(&o.lines, "lines", 10000, "lines per pod")
	flag.IntVar(&o.rate, "rate", 0, "lines per second per pod; 0 writes as fast as possible")
	flag.IntVar(&o.lineSize, "line-size", 100, "approximate bytes per line")
	flag.Int64Var(&o.rotateBytes, "rotate-bytes", 0, "rotate a file once it holds this many bytes; 0 never")
	flag.StringVar(&o.rotateMode, "rotate-mode", "rename", "rename or copytruncate")
	flag.StringVar(&o.format, "format", "cri", "cri or docker")
	flag.Parse()
	if o.dir == "" {
		fmt.Fprintln(os.Stderr, "loggen: -dir is required")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loggen:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	var wg sync.WaitGroup
	errs := make(chan error, o.pods)
	for i := 0; i < o.pods; i++ {
		path, err := layout(o.dir, i)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := write(o, i, path); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// layout creates the pod folder and the containers/ symlink, as kubelet does.
func layout(root string, i int) (string, error) {
	ns, pod, uid := "demo", fmt.Sprintf("web-%d", i), fmt.Sprintf("0000000%d-1111-2222-3333-444444444444", i)
	dir := filepath.Join(root, "pods", ns+"_"+pod+"_"+uid, "app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "0.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return "", err
	}
	links := filepath.Join(root, "containers")
	if err := os.MkdirAll(links, 0o755); err != nil {
		return "", err
	}
	link := filepath.Join(links, fmt.Sprintf("%s_%s_app-%064d.log", pod, ns, i))
	if err := os.Symlink(path, link); err != nil && !os.IsExist(err) {
		return "", fmt.Errorf("symlink %s: %w", link, err)
	}
	return path, nil
}

func write(o options, pod int, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	var size int64
	rotations := 0
	pad := strings.Repeat("x", max(0, o.lineSize-60))
	start := time.Now()
	for n := 0; n < o.lines; n++ {
		line := formatLine(o.format, time.Now().UTC(), pod, n, pad)
		w.WriteString(line)
		size += int64(len(line))
		if o.rotateBytes > 0 && size >= o.rotateBytes {
			rotations++
			if f, err = rotate(o.rotateMode, path, rotations, w, f); err != nil {
				return err
			}
			w.Reset(f)
			size = 0
		}
		if o.rate > 0 && n%100 == 99 {
			w.Flush()
			if ahead := time.Duration(n+1)*time.Second/time.Duration(o.rate) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func formatLine(format string, t time.Time, pod, n int, pad string) string {
	ts := t.Format(time.RFC3339Nano)
	msg := fmt.Sprintf("pod=%d seq=%d level=info msg=\"request served\" %s", pod, n, pad)
	if format == "docker" {
		return fmt.Sprintf("{\"log\":\"%s\\n\",\"stream\":\"stdout\",\"time\":\"%s\"}\n", strings.ReplaceAll(msg, `"`, `\"`), ts)
	}
	return ts + " stdout F " + msg + "\n"
}

// rotate replaces the file as kubelet (rename) or logrotate (copytruncate)
// does; seq keeps names unique within one second.
func rotate(mode, path string, seq int, w *bufio.Writer, f *os.File) (*os.File, error) {
	if err := w.Flush(); err != nil {
		return nil, err
	}
	rotated := fmt.Sprintf("%s.%s.%d", path, time.Now().UTC().Format("20060102-150405"), seq)
	if mode == "copytruncate" {
		if err := copyFile(path, rotated); err != nil {
			return nil, err
		}
		return f, f.Truncate(0)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(path, rotated); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

package httpsink

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// reloadEvery is how often a Reloader looks at its files: a stat per request
// would be cheap too, but Kubernetes rotates projected tokens hourly.
const reloadEvery = time.Second

// Reloader holds a value loaded from files and loads it again once one of
// them changed (modification time or size). When a reload fails it keeps the
// last good value: a token file replaced by a non-atomic writer is briefly
// empty or missing, and the old token is still better than none.
type Reloader[T any] struct {
	// Every is how often the files are looked at; tests shorten it.
	Every time.Duration

	paths []string
	load  func() (T, error)
	sink  string
	log   *slog.Logger

	mu      sync.Mutex
	checked time.Time
	stamps  []fileStamp
	failing bool
	val     T
}

type fileStamp struct {
	mod  int64
	size int64
}

// NewReloader loads the value now: a file that cannot be read stops the
// start. sink names the sink in log lines.
func NewReloader[T any](sink string, log *slog.Logger, load func() (T, error), paths ...string) (*Reloader[T], error) {
	r := &Reloader[T]{paths: paths, load: load, Every: reloadEvery, sink: sink, log: log}
	stamps, err := r.stat()
	if err != nil {
		return nil, err
	}
	if r.val, err = load(); err != nil {
		return nil, err
	}
	r.stamps, r.checked = stamps, time.Now()
	return r, nil
}

// Get returns the current value, loading it again first when the files
// changed and the interval has passed.
func (r *Reloader[T]) Get() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.checked) < r.Every {
		return r.val
	}
	r.checked = now
	stamps, err := r.stat()
	if err == nil && slices.Equal(stamps, r.stamps) {
		return r.val
	}
	var v T
	if err == nil {
		v, err = r.load()
	}
	if err != nil {
		if !r.failing {
			r.log.Warn(r.sink+" sink: reloading a changed file failed, keeping the previous value", "files", r.paths, "err", err)
		}
		r.failing = true
		return r.val
	}
	if r.failing {
		r.log.Info(r.sink+" sink: reloaded", "files", r.paths)
	}
	r.val, r.stamps, r.failing = v, stamps, false
	return r.val
}

func (r *Reloader[T]) stat() ([]fileStamp, error) {
	stamps := make([]fileStamp, len(r.paths))
	for i, p := range r.paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		stamps[i] = fileStamp{mod: fi.ModTime().UnixNano(), size: fi.Size()}
	}
	return stamps, nil
}

// readSecret reads a one-line secret; the trailing newline an editor or
// `echo` adds is not part of it.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	return s, nil
}

// Secret is a value given inline or read from a file.
type Secret struct {
	inline string
	// File reloads the secret's file; nil when it was given inline.
	File *Reloader[string]
}

// NewSecret returns the secret given inline or in the file at path, not
// both; what names it in errors ("loki password").
func NewSecret(sink, inline, path, what string, log *slog.Logger) (*Secret, error) {
	if path == "" {
		return &Secret{inline: inline}, nil
	}
	if inline != "" {
		return nil, fmt.Errorf("%s %s: give it or its file, not both", sink, what)
	}
	r, err := NewReloader(sink, log, func() (string, error) { return readSecret(path) }, path)
	if err != nil {
		return nil, fmt.Errorf("%s %s file: %w", sink, what, err)
	}
	return &Secret{File: r}, nil
}

// Get returns the secret's current value.
func (s *Secret) Get() string {
	if s.File != nil {
		return s.File.Get()
	}
	return s.inline
}

// Set reports whether the secret was given at all.
func (s *Secret) Set() bool { return s.File != nil || s.inline != "" }

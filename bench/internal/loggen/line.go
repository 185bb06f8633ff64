// Package loggen writes kubelet-style container logs for demos and
// benchmarks: pods/<ns>_<pod>_<uid>/<container>/0.log files with
// containers/<pod>_<ns>_<container>-<id>.log symlinks, in CRI or Docker
// json-file format, rotated as kubelet rotates them (rename, gzip, prune:
// internal/kubeletrotate) or by copytruncate.
//
// Every line carries its file's index and its sequence number in that file,
// so a reader can count delivered lines exactly and find any that are
// missing. Line lengths and text come from a PRNG seeded by the file index:
// two runs with the same files write the same lines, timestamps apart.
package loggen

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// Format is the container runtime's log line format.
type Format string

// The two formats kubelet's container runtimes write.
const (
	CRI    Format = "cri"    // containerd, CRI-O: "<time> stdout F <message>"
	Docker Format = "docker" // dockerd's json-file: {"log":"<message>\n","stream":"stdout","time":"<time>"}
)

// MinLine and MaxLine bound the lengths Mix draws, in bytes of the file's
// line with its newline.
const (
	MinLine = 80
	MaxLine = 2000
)

// Sizes draws line lengths. Fixed returns one length for every line; Mix a
// spread like a real node's: 72 % short lines (80–150 bytes), 24 % medium
// (150–400), 4 % long (400–2,000), about 200 bytes on average.
type Sizes struct {
	fixed int
	rng   *rand.Rand
}

// Fixed makes every line n bytes long (or as short as its header allows).
func Fixed(n int) Sizes { return Sizes{fixed: n} }

// Mix draws lengths from the mix above with a PRNG seeded by seed.
func Mix(seed uint64) Sizes { return Sizes{rng: rand.New(rand.NewPCG(seed, 0x5eed))} }

// Next is the length of the next line.
func (s Sizes) Next() int {
	if s.rng == nil {
		return s.fixed
	}
	switch p := s.rng.IntN(100); {
	case p < 72:
		return MinLine + s.rng.IntN(150-MinLine)
	case p < 96:
		return 150 + s.rng.IntN(400-150)
	default:
		return 400 + s.rng.IntN(MaxLine-400+1)
	}
}

// filler is the text lines are padded with: words, so the lines compress
// about as well as real ones, not like a run of one byte.
var filler = func() string {
	words := []string{"request", "served", "user", "cache", "miss", "upstream", "latency", "ms",
		"status", "200", "GET", "/api/v1/items", "trace", "span", "ok", "retry", "queue", "depth"}
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, 2*MaxLine+64)
	for len(b) < cap(b)-16 {
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, ' ')
	}
	return string(b)
}()

// AppendLine appends one line of file (its index) number seq, size bytes
// long with its newline when the header allows, in format f.
func AppendLine(b []byte, f Format, t time.Time, file, seq, size int) []byte {
	var tsBuf [40]byte
	ts := t.UTC().AppendFormat(tsBuf[:0], time.RFC3339Nano)
	start := len(b)
	tail := 1 // what follows the message: the newline, or the rest of the JSON object
	if f == Docker {
		b = append(b, `{"log":"`...)
		tail = len(`\n","stream":"stdout","time":"`) + len(ts) + len("\"}\n")
	} else {
		b = append(b, ts...)
		b = append(b, " stdout F "...)
	}
	b = append(b, "file="...)
	b = strconv.AppendInt(b, int64(file), 10)
	b = append(b, " seq="...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, " level=info msg="...)
	if pad := size - (len(b) - start) - tail; pad > 0 {
		off := (file*7919 + seq*104729) % (len(filler) - MaxLine)
		b = append(b, filler[off:off+min(pad, MaxLine)]...)
	}
	if f == Docker {
		b = append(b, `\n","stream":"stdout","time":"`...)
		b = append(b, ts...)
		return append(b, "\"}\n"...)
	}
	return append(b, '\n')
}

// Package cri parses the log lines that CRI runtimes (containerd, CRI-O) write
// for kubelet: "<timestamp> <stream> <tag> <message>", for example
//
//	2026-11-26T00:54:07.123456789Z stdout F hello
//
// Guarantees: Parse never allocates and never panics; the message aliases the
// input and keeps its bytes as they are (invalid UTF-8 included); a line it
// accepts has an RFC 3339 timestamp (see package timestamp), the stream
// "stdout" or "stderr", and a tag whose first ':'-separated flag is "P" or "F".
//
// Known differences from kubelet's own parser: kubelet wants a space after the
// tag and treats any first flag other than "P" as full; this package also
// accepts a line that ends right after the tag (an empty message) and rejects
// a first flag other than "P" or "F", so that a line it does not understand is
// kept raw by the caller instead of being misread.
package cri

import (
	"bytes"
	"errors"
	"time"

	"github.com/sluicelog/sluice/inputs/timestamp"
)

// Line is one parsed CRI line; Msg aliases the input.
type Line struct {
	Time    time.Time
	Stream  string
	Partial bool
	Msg     []byte
}

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("cri: malformed line")

// malformed is a reason a line was rejected. Its values are constants, so
// returning one as an error does not allocate.
type malformed string

const (
	errTimestamp malformed = "bad timestamp"
	errStream    malformed = "stream is not stdout or stderr"
	errTag       malformed = "tag is not P or F"
)

func (e malformed) Error() string { return ErrMalformed.Error() + ": " + string(e) }
func (e malformed) Unwrap() error { return ErrMalformed }

// Parse parses one line without its trailing newline. It never allocates.
//
// A full (F) line loses one trailing '\r', the rest of a CRLF line ending that
// the runtime split at '\n'. A partial (P) chunk keeps it: its end is not a
// line end, and joining the chunks must give back the line's bytes.
func Parse(b []byte) (Line, error) {
	var l Line
	rest, err := header(b, &l)
	if err != nil {
		return Line{}, err
	}
	tag := rest
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		tag, rest = rest[:i], rest[i+1:]
	} else {
		rest = rest[len(rest):] // nothing after the tag: an empty message
	}
	switch firstFlag(tag) {
	case 'P':
		l.Partial = true
	case 'F':
		rest = bytes.TrimSuffix(rest, []byte{'\r'})
	default:
		return Line{}, errTag
	}
	l.Msg = rest
	return l, nil
}

// Looks reports whether b starts like a CRI line (used to detect a file's format).
func Looks(b []byte) bool {
	var l Line
	_, err := header(b, &l)
	return err == nil
}

// header parses the timestamp and the stream, each followed by one space,
// into l and returns what follows them.
func header(b []byte, l *Line) ([]byte, error) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return nil, errTimestamp
	}
	t, ok := timestamp.ParseRFC3339(b[:i])
	if !ok {
		return nil, errTimestamp
	}
	rest := b[i+1:]
	// The stream words are constants so that Line.Stream never allocates.
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")):
		l.Stream = "stdout"
	case bytes.HasPrefix(rest, []byte("stderr ")):
		l.Stream = "stderr"
	default:
		return nil, errStream
	}
	l.Time = t
	return rest[len("stdout "):], nil
}

// firstFlag returns the tag's only byte up to its first ':', or 0. Flags after
// the first are for future runtimes and do not change how the line is read.
func firstFlag(tag []byte) byte {
	if i := bytes.IndexByte(tag, ':'); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) != 1 {
		return 0
	}
	return tag[0]
}

// Package docker parses the lines of Docker's json-file log driver:
//
//	{"log":"hello\n","stream":"stdout","time":"2026-11-26T00:54:07.123456789Z"}
//
// Guarantees: Parse never panics and does not allocate when the buffer it is
// given can hold the message. It accepts a line only if it is one valid JSON
// object (keys in any order, extra keys of any JSON type, whitespace between
// tokens) whose "log", "stream" and "time" values are strings, with stream
// "stdout" or "stderr" and an RFC 3339 time (see package timestamp); a key that
// appears twice counts with its last value, as in encoding/json. The message is
// the "log" value fully unescaped, with the same result as encoding/json for
// every escape, lone UTF-16 surrogates included (they become U+FFFD).
//
// Known differences from encoding/json: bytes that are not valid UTF-8 are
// kept as they are instead of being replaced by U+FFFD, so that no byte of the
// source is lost (Docker itself escapes them, so they only appear in files it
// did not write); keys match exactly, not case-insensitively.
package docker

import (
	"bytes"
	"errors"
	"slices"
	"time"

	"github.com/sluicelog/sluice/inputs/timestamp"
	"github.com/sluicelog/sluice/internal/jsonstr"
)

// Line is one parsed json-file line; Msg is stored in the dst buffer passed to Parse.
type Line struct {
	Time    time.Time
	Stream  string
	Partial bool
	Msg     []byte
}

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("docker: malformed line")

// malformed is a reason a line was rejected. Its values are constants, so
// returning one as an error does not allocate.
type malformed string

const (
	errNotObject malformed = "not a JSON object"
	errSyntax    malformed = "invalid JSON"
	errString    malformed = "unterminated string"
	errEscape    malformed = "invalid escape in string"
	errControl   malformed = "control character in string"
	errDepth     malformed = "nesting too deep"
	errTrailing  malformed = "data after the object"
	errLog       malformed = "log is missing or not a string"
	errStream    malformed = "stream is missing or not stdout or stderr"
	errTime      malformed = "time is missing or not an RFC 3339 timestamp"
)

func (e malformed) Error() string { return ErrMalformed.Error() + ": " + string(e) }
func (e malformed) Unwrap() error { return ErrMalformed }

// Parse parses one line, appending the unescaped message to dst[:0] and returning it in Line.Msg. It does not allocate when dst has room.
//
// A "log" value that ends with "\n" is a full line and loses the "\n", and a
// '\r' before it (a CRLF line end); any other value is a partial line and is
// kept whole: Docker writes one for each 16 KiB piece of a longer line, and
// for output that a container ended without a newline.
// "Room" means a capacity of at least the raw length of the "log" value (and
// of any key, stream or time value written with escapes, which Docker never does).
func Parse(b []byte, dst []byte) (Line, error) {
	f, scratch, err := scan(b, dst[:0])
	if err != nil {
		return Line{}, err
	}
	var l Line
	// Escapes in stream and time never come from Docker, but they are valid
	// JSON; dst serves as scratch space for them before it takes the message.
	switch string(f.stream.text(&scratch)) {
	case "stdout":
		l.Stream = "stdout"
	case "stderr":
		l.Stream = "stderr"
	default:
		return Line{}, errStream
	}
	var ok bool
	if l.Time, ok = timestamp.ParseRFC3339(f.time.text(&scratch)); !ok {
		return Line{}, errTime
	}
	if !f.log.ok {
		return Line{}, errLog
	}
	l.Msg, l.Partial = message(scratch[:0], f.log)
	return l, nil
}

// message appends the unescaped log value to dst and trims its line end.
// The common shapes, no escape at all or only the final "\n" (or "\r\n"),
// are copied without decoding.
func message(dst []byte, v strval) ([]byte, bool) {
	raw, esc := v.raw, v.esc
	switch {
	case esc < 0:
		return append(dst, raw...), true
	case esc == len(raw)-2 && raw[esc+1] == 'n':
		return append(dst, raw[:esc]...), false
	case esc == len(raw)-4 && bytes.HasSuffix(raw, []byte(`\r\n`)):
		return append(dst, raw[:esc]...), false
	}
	// Unescaping never lengthens a string, so one grow covers all appends.
	msg := jsonstr.AppendUnescaped(slices.Grow(dst, len(raw)), raw)
	if len(msg) == 0 || msg[len(msg)-1] != '\n' {
		return msg, true
	}
	return bytes.TrimSuffix(msg[:len(msg)-1], []byte{'\r'}), false
}

// Looks reports whether b starts like a json-file line.
//
// It checks only the start, "{" and a first key of "log", "stream" or "time"
// (Docker writes "log" first), so that a prefix of a long line is enough.
func Looks(b []byte) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	rest := b[skipSpace(b, i+1):]
	for _, key := range [...]string{`"log"`, `"stream"`, `"time"`} {
		if bytes.HasPrefix(rest, []byte(key)) {
			j := skipSpace(rest, len(key))
			return j < len(rest) && rest[j] == ':'
		}
	}
	return false
}

// Package stdout writes records as JSON lines to standard output or a file.
//
// Guarantee: Send returns nil only after every record's line has been
// written to the underlying writer, so an acknowledgement that follows it is
// true. Lines of one Send are written with one Write call, so concurrent
// readers of the stream see whole lines.
package stdout

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// Sink encodes records as one JSON object per line.
type Sink struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

var _ outputs.Sink = (*Sink)(nil)

// New returns a sink writing to w.
func New(w io.Writer) *Sink { return &Sink{w: w} }

// Send writes recs, one JSON object per line.
func (s *Sink) Send(ctx context.Context, recs []record.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf[:0]
	for i := range recs {
		b = AppendJSON(b, &recs[i])
	}
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("write %d records: %w", len(recs), err)
	}
	return nil
}

// AppendJSON appends r as a JSON object and a newline.
func AppendJSON(b []byte, r *record.Record) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","stream":`...)
	b = appendString(b, r.Stream)
	b = append(b, `,"message":`...)
	b = appendString(b, r.Body)
	b = append(b, `,"path":`...)
	b = appendString(b, r.Path)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	if r.Flags != 0 {
		b = appendFlags(b, r.Flags)
	}
	if len(r.Attrs) > 0 {
		b = append(b, `,"attrs":{`...)
		for i, a := range r.Attrs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a.Key)
			b = append(b, ':')
			b = appendString(b, a.Value)
		}
		b = append(b, '}')
	}
	return append(b, "}\n"...)
}

var flagNames = []struct {
	f    record.Flags
	name string
}{
	{record.FlagSplit, "split"}, {record.FlagRaw, "raw"},
	{record.FlagInvalidUTF8, "invalid_utf8"}, {record.FlagNoNewline, "no_newline"},
}

func appendFlags(b []byte, f record.Flags) []byte {
	b = append(b, `,"flags":[`...)
	first := true
	for _, n := range flagNames {
		if f&n.f != 0 {
			if !first {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, n.name...)
			b = append(b, '"')
			first = false
		}
	}
	return append(b, ']')
}

const hex = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does, because JSON text must be UTF-8.
func appendString[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = appendControl(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendControl(b []byte, c byte) []byte {
	switch c {
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}

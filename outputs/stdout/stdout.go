// Package stdout writes records as JSON lines to standard output or a file.
//
// Guarantee: Send reports Accepted only after every record's line has been
// written to the underlying writer, so a commit that follows it is true.
// Lines of one request are written with one Write call, so concurrent readers
// of the stream see whole lines.
package stdout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/sluicelog/sluice/internal/jsontext"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// Sink encodes records as one JSON object per line.
type Sink struct {
	mu   sync.Mutex
	w    io.Writer
	free outputs.FreeList[*Request]
}

var (
	_ outputs.Sink[*Request] = (*Sink)(nil)
	_ outputs.Request        = (*Request)(nil)
)

// New returns a sink writing to w.
func New(w io.Writer) *Sink {
	return &Sink{w: w, free: outputs.NewFreeList[*Request](outputs.KeptRequests)}
}

// Request is a batch encoded as JSON lines.
type Request struct {
	free    outputs.FreeList[*Request]
	buf     []byte
	records int
	bytes   int
	pooled  bool // released: a second Release must not hand it out twice
}

// Encode renders recs as JSON lines.
func (s *Sink) Encode(recs []record.Record) *Request {
	req, ok := s.free.Get()
	if !ok {
		req = &Request{free: s.free}
	}
	req.pooled = false
	b := req.buf[:0]
	n := 0
	for i := range recs {
		b = AppendJSON(b, &recs[i])
		n += len(recs[i].Body)
	}
	req.buf, req.records, req.bytes = b, len(recs), n
	return req
}

// Send writes the request's lines with one Write call. A failed write is
// retryable: the runner keeps the records until the writer takes them.
func (s *Sink) Send(ctx context.Context, req *Request) outputs.Result {
	if err := ctx.Err(); err != nil {
		return outputs.Result{Outcome: outputs.Retryable, Status: "cancelled", Err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(req.buf); err != nil {
		return outputs.Result{Outcome: outputs.Retryable, Status: "write", Err: fmt.Errorf("write %d records: %w", req.records, err)}
	}
	return outputs.Result{Outcome: outputs.Accepted, Status: "ok"}
}

// Records implements outputs.Request.
func (r *Request) Records() int { return r.records }

// Bytes implements outputs.Request.
func (r *Request) Bytes() int { return r.bytes }

// Sample implements outputs.Request: the first line, cut short.
func (r *Request) Sample() string {
	line, _, _ := bytes.Cut(r.buf, []byte{'\n'})
	return string(line[:min(len(line), 200)])
}

// WriteEntries implements outputs.Request; the lines already are JSON.
func (r *Request) WriteEntries(w io.Writer) error {
	_, err := w.Write(r.buf)
	return err
}

// Release implements outputs.Request; the sink reuses the request's buffer.
func (r *Request) Release() { r.free.Release(r, &r.pooled, cap(r.buf)) }

// Trim implements outputs.Trimmer: it lets go of the kept requests'
// buffers, a batch's JSON each, when the logs went quiet.
func (s *Sink) Trim() { s.free.Drop() }

// AppendJSON appends r as a JSON object and a newline.
func AppendJSON(b []byte, r *record.Record) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","stream":`...)
	b = jsontext.AppendString(b, r.Stream)
	b = append(b, `,"message":`...)
	b = jsontext.AppendString(b, r.Body)
	b = append(b, `,"path":`...)
	b = jsontext.AppendString(b, r.Path)
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
			b = jsontext.AppendString(b, a.Key)
			b = append(b, ':')
			b = jsontext.AppendString(b, a.Value)
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

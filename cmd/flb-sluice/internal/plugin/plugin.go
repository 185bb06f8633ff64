// Package plugin is the Fluent Bit output plugin behind cmd/flb-sluice: one
// instance per [OUTPUT] section, sending each chunk Fluent Bit flushes to
// sluice's Loki or Elasticsearch sink (package outputs/loki or
// outputs/elasticsearch) once, and telling Fluent Bit what came of it.
//
// Guarantees: Flush never sleeps and never retries by itself; a failure that
// may pass returns Retry, so Fluent Bit's scheduler retries the chunk with
// its backoff and its storage keeps it meanwhile (a slow flush on the engine
// thread would stall all of Fluent Bit). Flush is safe for concurrent use
// (Workers N). Every event of a chunk is sent, or counted and logged: group
// markers are skipped, events of unknown shape are logged with a sample.
// Records refused for good are written to the dead-letter file when one is
// configured; the chunk then counts as delivered when any record was
// accepted, and as an error when none was.
//
// Known limitations:
//   - A chunk retried after part of it was accepted is sent whole again: the
//     Elasticsearch sink's deterministic _id makes the replay store nothing
//     twice (the server answers 409), the Loki sink stores the accepted
//     part twice.
//   - The Elasticsearch _id of a record is derived from its bytes, its place
//     in the chunk and the chunk's tag, not from a file position as in the
//     daemon: two identical events at the same place of two chunks with the
//     same tag get one _id, and the second is counted as a duplicate.
//   - Metrics are Fluent Bit's own (records and retries per output); the
//     plugin adds logs, not counters.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"

	"github.com/sluicelog/sluice/cmd/flb-sluice/internal/chunk"
	"github.com/sluicelog/sluice/config/sinkconfig"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/elasticsearch"
	"github.com/sluicelog/sluice/outputs/loki"
	"github.com/sluicelog/sluice/record"
)

// Code is what a flush returns to Fluent Bit; the values are Fluent Bit's
// FLB_ERROR, FLB_OK and FLB_RETRY.
type Code int

// Fluent Bit's flush results.
const (
	Error Code = 0
	OK    Code = 1
	Retry Code = 2
)

// maxShapeLogs bounds the events of unknown shape logged one by one per
// chunk; the rest are counted in one line.
const maxShapeLogs = 3

// Instance is one [OUTPUT] section of the plugin.
type Instance struct {
	name   string
	log    *slog.Logger
	m      Mapping
	send   func(ctx context.Context, recs []record.Record) verdict
	close  func()
	ctx    context.Context // ends at Close, so that sends in flight stop
	cancel context.CancelFunc
	pool   sync.Pool // *batch
	// skipped counts the events of unknown shape since the start, for the
	// log lines that report them.
	skipped atomic.Int64
}

// New builds an instance from its keys; name tells its log lines apart
// (Fluent Bit's alias or sluice.N). Logs go to w.
func New(name string, get Getter, w io.Writer) (*Instance, error) {
	s, err := Parse(get)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(w, nil)).With("output", name)
	in := &Instance{name: name, log: log, m: s.Records}
	in.pool.New = func() any { return new(batch) }
	d := s.delivery()
	hold, err := outputs.ParseStatusSet(d.HoldStatuses)
	if err != nil {
		return nil, fmt.Errorf("hold_statuses: %w", err)
	}
	var dead *outputs.DeadLetter
	if d.DeadLetter.Path != "" {
		if dead, err = outputs.OpenDeadLetter(d.DeadLetter.Path, int64(d.DeadLetter.MaxSize)); err != nil {
			return nil, fmt.Errorf("dead_letter.path: %w", err)
		}
	}
	wr := wiring{name: name, hold: hold, dead: dead, log: log, maxRecords: d.BatchMaxRecords, maxBytes: int(d.BatchSize)}
	if s.Loki != nil {
		lc := sinkconfig.Loki(s.Loki, log)
		lc.LabelPrefixes = s.Records.labelPrefixes()
		sink, err := loki.New(lc)
		if err = wire(in, wr, sink, err); err != nil {
			return nil, err
		}
	} else {
		ec := sinkconfig.Elasticsearch(s.Elasticsearch, log)
		ec.IDKey = s.Records.idKey
		sink, err := elasticsearch.New(ec)
		if err = wire(in, wr, sink, err); err != nil {
			return nil, err
		}
	}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	log.Info("sluice output started", "sink", s.Sink)
	return in, nil
}

// wiring is what an instance's sender needs besides its sink.
type wiring struct {
	name                 string
	hold                 outputs.StatusSet
	dead                 *outputs.DeadLetter
	log                  *slog.Logger
	maxRecords, maxBytes int
}

// closableSink is a sink with idle connections to close.
type closableSink[R outputs.Request] interface {
	outputs.Sink[R]
	Close()
}

// wire makes sink in's sink, or closes the dead-letter file when the sink
// could not be made (err).
func wire[R outputs.Request](in *Instance, w wiring, sink closableSink[R], err error) error {
	if err != nil {
		if w.dead != nil {
			w.dead.Close()
		}
		return err
	}
	in.send = newSender(w.name, outputs.Sink[R](sink), w.hold, w.dead, w.log, w.maxRecords, w.maxBytes).send
	in.close = func() {
		sink.Close()
		if w.dead != nil {
			w.dead.Close()
		}
	}
	return nil
}

func newSender[R outputs.Request](name string, sink outputs.Sink[R], hold outputs.StatusSet, dead *outputs.DeadLetter,
	log *slog.Logger, maxRecords, maxBytes int) *sender[R] {
	return &sender[R]{name: name, sink: sink, hold: hold, dead: dead, log: log, maxRecords: maxRecords, maxBytes: maxBytes}
}

// Flush sends the events of one chunk and says what Fluent Bit should do
// with it. data is only read during the call.
func (in *Instance) Flush(data []byte, tag string) Code {
	b := in.pool.Get().(*batch)
	defer in.pool.Put(b)
	b.reset(data)
	in.decode(b, tag)
	if len(b.recs) == 0 {
		if b.shapes > 0 || b.corrupt {
			return Error // nothing readable: a retry reads the same bytes
		}
		return OK
	}
	v := in.send(in.ctx, b.recs)
	switch {
	case v.retry:
		return Retry
	case v.accepted > 0:
		return OK
	}
	return Error
}

// decode reads the chunk's events into b's records, logging what it skips.
func (in *Instance) decode(b *batch, tag string) {
	tagHash := xxhash.Sum64String(tag)
	r := chunk.NewReader(b.data)
	var se *chunk.ShapeError // outside the loop: errors.As would move it to the heap per event
	for {
		ev, err := r.Next()
		switch {
		case err == nil:
			b.add(&in.m, ev, tagHash)
			continue
		case errors.Is(err, io.EOF):
		case errors.As(err, &se):
			b.shapes++
			total := in.skipped.Add(1)
			if b.shapes <= maxShapeLogs {
				in.log.Error("event of unknown shape skipped", "tag", tag, "offset", se.Offset, "why", se.Why,
					"sample", se.Sample, "skipped_total", total)
			}
			continue
		default:
			b.corrupt = true
			in.log.Error("chunk unreadable past this point; the events before it are sent", "tag", tag, "err", err)
		}
		break
	}
	if b.shapes > maxShapeLogs {
		in.log.Error("events of unknown shape skipped in this chunk", "tag", tag, "events", b.shapes,
			"skipped_total", in.skipped.Load())
	}
	if n := r.Markers(); n > 0 {
		in.log.Debug("group markers skipped", "tag", tag, "markers", n)
	}
	b.sources()
}

// Close stops sends in flight and closes the sink and the dead-letter file.
func (in *Instance) Close() {
	in.cancel()
	in.close()
	in.log.Info("sluice output stopped")
}

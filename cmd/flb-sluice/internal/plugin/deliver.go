package plugin

import (
	"context"
	"log/slog"
	"sync"

	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// verdict is what sending a chunk's records came to.
type verdict struct {
	accepted int  // records the server took (duplicates included)
	rejected int  // records refused for good, counted and dead-lettered
	retry    bool // some records have no final outcome: Fluent Bit must retry the chunk
}

// sender sends records to one sink once, never sleeping and never
// retrying: a failure that may pass is Fluent Bit's to retry (FLB_RETRY),
// with its scheduler's backoff and its storage.
type sender[R outputs.Request] struct {
	name  string
	sink  outputs.Sink[R]
	encMu sync.Mutex // Encode is called by one goroutine at a time
	hold  outputs.StatusSet
	dead  *outputs.DeadLetter
	log   *slog.Logger
	// maxRecords and maxBytes cut a chunk into requests.
	maxRecords, maxBytes int
}

// send delivers recs, cut into requests of at most maxRecords records and
// about maxBytes of bodies, one after the other; it stops at the first
// request that must be retried, leaving the rest to the retry.
func (s *sender[R]) send(ctx context.Context, recs []record.Record) verdict {
	var v verdict
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) && n < s.maxRecords && (n == 0 || size+len(recs[n].Body) <= s.maxBytes) {
			size += len(recs[n].Body)
			n++
		}
		s.encMu.Lock()
		req := s.sink.Encode(recs[:n])
		s.encMu.Unlock()
		s.deliver(ctx, req, &v)
		req.Release()
		if v.retry {
			return v
		}
		recs = recs[n:]
	}
	return v
}

// deliver sends req once and adds its outcome to v. A request too large
// for the server is sent again in halves, synchronously, when the sink can
// split it.
func (s *sender[R]) deliver(ctx context.Context, req R, v *verdict) {
	res := s.sink.Send(ctx, req)
	switch res.Outcome {
	case outputs.Accepted:
		v.accepted += req.Records()
		return
	case outputs.Partial:
		v.accepted += res.Accepted
		for _, rj := range res.Rejected {
			s.reject(rj.Req, rj.Result(), v)
			rj.Req.Release()
		}
		if res.Retry != nil {
			// Sent again with the whole chunk: records the server holds
			// already come back as duplicates, not as second copies.
			s.log.Warn("server refused some records for now; Fluent Bit retries the chunk",
				"status", res.Status, "accepted", res.Accepted, "retry", res.Retry.Records(), "err", res.Err)
			res.Retry.Release()
			v.retry = true
		}
		return
	}
	switch s.hold.Outcome(res) {
	case outputs.Retryable, outputs.Held:
		s.retry(req, res, v)
		return
	case outputs.TooLarge:
		if first, second, ok := outputs.Split(s.sink, req); ok {
			s.log.Info("request too large for the server, sending it in halves",
				"records", req.Records(), "bytes", req.Bytes())
			s.deliver(ctx, first, v)
			first.Release()
			if !v.retry {
				s.deliver(ctx, second, v)
			}
			second.Release()
			return
		}
		res.Reason = outputs.ReasonTooLarge
	}
	s.reject(req, res, v)
}

func (s *sender[R]) retry(req R, res outputs.Result, v *verdict) {
	s.log.Warn("send failed; Fluent Bit retries the chunk", "status", res.Status,
		"records", req.Records(), "err", res.Err)
	v.retry = true
}

// reject counts, logs and dead-letters records refused for good. A failed
// dead-letter write makes the chunk retried: its records are not safe yet.
func (s *sender[R]) reject(req outputs.Request, res outputs.Result, v *verdict) {
	reason := outputs.RejectReason(res)
	attrs := []any{"status", res.Status, "reason", reason, "records", req.Records(),
		"sample", req.Sample(), "err", res.Err}
	if s.dead != nil {
		if err := s.dead.Write(s.name, reason, res.Err, req); err != nil {
			s.log.Error("dead-letter write failed; Fluent Bit retries the chunk", append(attrs, "dead_letter_err", err)...)
			v.retry = true
			return
		}
		attrs = append(attrs, "dead_letter", s.dead.Path())
	}
	v.rejected += req.Records()
	s.log.Error("records rejected, not retrying", attrs...)
}

package outputs

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/internal/ctxsleep"
)

// Delivery configures how a runner batches, parallelises and retries.
type Delivery struct {
	BatchBytes   int           // send once this many body bytes are pending
	BatchRecords int           // and never more records than this in one request
	BatchWait    time.Duration // or once the oldest pending record waited this long
	MaxInFlight  int           // requests in flight at once
	MinBackoff   time.Duration // first retry wait; doubles per failure
	MaxBackoff   time.Duration // cap on the retry wait, and on a server's Retry-After
	// HoldStatuses are the statuses of permanent failures that hold the
	// request (retried with backoff, the sink reported degraded) instead of
	// rejecting it to the dead-letter file; unset: DefaultHoldStatuses.
	HoldStatuses StatusSet
}

// DefaultDelivery is what a sink gets for settings left at zero.
func DefaultDelivery() Delivery {
	return Delivery{
		BatchBytes: 1 << 20, BatchRecords: 10000, BatchWait: time.Second,
		MaxInFlight: 1, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second,
	}
}

func (d Delivery) withDefaults() Delivery {
	def := DefaultDelivery()
	if d.BatchBytes <= 0 {
		d.BatchBytes = def.BatchBytes
	}
	if d.BatchRecords <= 0 {
		d.BatchRecords = def.BatchRecords
	}
	if d.BatchWait < 0 {
		d.BatchWait = 0
	}
	if d.MaxInFlight <= 0 {
		d.MaxInFlight = def.MaxInFlight
	}
	if d.MinBackoff <= 0 {
		d.MinBackoff = def.MinBackoff
	}
	if d.MaxBackoff < d.MinBackoff {
		d.MaxBackoff = max(def.MaxBackoff, d.MinBackoff)
	}
	if !d.HoldStatuses.IsSet() {
		d.HoldStatuses, _ = ParseStatusSet(DefaultHoldStatuses()) // valid: no error
	}
	return d
}

// Runner delivers a source's records to one sink until its context ends.
type Runner[R Request] struct {
	name   string
	sink   Sink[R]
	src    Source
	d      Delivery
	ev     Events
	dead   *DeadLetter
	log    *slog.Logger
	sleep  func(ctx context.Context, d time.Duration) bool
	jitter func(d time.Duration) time.Duration
	now    func() time.Time
	idle   time.Duration // IdleTrim; tests shorten it

	holdMu  sync.Mutex
	held    bool      // the last final answer was a held one
	heldLog time.Time // when a held request was last logged
}

// RunnerConfig names a runner's collaborators; only Sink and Source are
// required.
type RunnerConfig struct {
	Name       string
	Delivery   Delivery
	Events     Events      // nil: NopEvents
	DeadLetter *DeadLetter // nil: rejected requests are only counted and logged
	Logger     *slog.Logger
}

// NewRunner returns a runner that reads src and sends to sink.
func NewRunner[R Request](sink Sink[R], src Source, c RunnerConfig) *Runner[R] {
	if c.Events == nil {
		c.Events = NopEvents{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner[R]{
		name: c.Name, sink: sink, src: src, d: c.Delivery.withDefaults(), ev: c.Events,
		dead: c.DeadLetter, log: c.Logger, sleep: ctxsleep.Sleep, jitter: equalJitter, now: time.Now, idle: IdleTrim,
	}
}

// job is one request in flight; ok is set before done closes.
type job struct {
	commit func()
	done   chan struct{}
	ok     bool
}

// Run delivers until ctx ends or the source fails, and returns once every
// request it started has finished. Requests still failing when ctx ends are
// not committed: the source hands them out again on the next run.
func (r *Runner[R]) Run(ctx context.Context) error {
	slots := make(chan struct{}, r.d.MaxInFlight)
	order := make(chan *job, r.d.MaxInFlight)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		r.commitInOrder(order)
	}()
	var senders sync.WaitGroup
	var reads atomic.Uint64
	trimCtx, stopTrim := context.WithCancel(ctx)
	trimDone := make(chan struct{})
	go func() { defer close(trimDone); r.trimWhenIdle(trimCtx, &reads) }()
	defer func() { stopTrim(); <-trimDone }()
	var err error
	for {
		recs, commit, rerr := r.src.Read(ctx, r.d.BatchRecords, r.d.BatchBytes, r.d.BatchWait)
		if rerr != nil {
			if ctx.Err() == nil {
				err = rerr
			}
			break
		}
		reads.Add(1)
		req := r.sink.Encode(recs)
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			req.Release()
			break
		}
		j := &job{commit: commit, done: make(chan struct{})}
		order <- j
		senders.Add(1)
		go func() {
			defer senders.Done()
			defer func() { <-slots }()
			defer close(j.done)
			j.ok = r.deliver(ctx, req)
			req.Release()
		}()
	}
	senders.Wait()
	close(order)
	<-committed
	return err
}

// trimWhenIdle trims the sink and the source, where they can be, once no
// batch was read for IdleTrim, and again only after batches came: a node
// whose logs went quiet then keeps no batch-sized buffers.
func (r *Runner[R]) trimWhenIdle(ctx context.Context, reads *atomic.Uint64) {
	var trim []Trimmer
	for _, x := range []any{r.sink, r.src} {
		if t, ok := x.(Trimmer); ok {
			trim = append(trim, t)
		}
	}
	if len(trim) == 0 {
		return
	}
	tick := time.NewTicker(r.idle)
	defer tick.Stop()
	last, trimmed := reads.Load(), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n := reads.Load()
		if n != last {
			last, trimmed = n, false
			continue
		}
		if !trimmed {
			for _, t := range trim {
				t.Trim()
			}
			trimmed = true
		}
	}
}

// commitInOrder commits each job once it and every job before it succeeded.
// After a job that did not finish, nothing later is committed: the source
// re-reads from there.
func (r *Runner[R]) commitInOrder(order <-chan *job) {
	failed := false
	for j := range order {
		<-j.done
		if failed = failed || !j.ok; !failed {
			j.commit()
		}
	}
}

// deliver sends req until each of its records has a final outcome (true),
// or ctx ends (false). A request too large for the server is sent in halves
// when the sink can split it; the halves go one after the other, so the
// records keep their order, and req is done only when both are. After a
// Partial answer the rejected records are dead-lettered and the sink's
// remainder is sent again after a backoff that grows with each round, until
// the server has taken or refused every record.
func (r *Runner[R]) deliver(ctx context.Context, req R) bool {
	owned := false // req is a remainder built for the runner: release it
	defer func() {
		if owned {
			req.Release()
		}
	}()
	attempt := 0
	for {
		res, ok := r.send(ctx, req, &attempt)
		switch {
		case !ok:
			return false
		case res.Outcome == Accepted:
			return true
		case res.Outcome == Partial:
			var next R
			if res.Retry != nil {
				next = res.Retry.(R) // a sink's remainder is of its own request type
			}
			if !r.rejectAll(ctx, res.Rejected) {
				if res.Retry != nil {
					next.Release()
				}
				return false
			}
			if res.Retry == nil {
				return true
			}
			wait := r.backoff(attempt, res.Wait)
			attempt++
			r.log.Warn("server refused some records for now, sending only those again", "sink", r.name,
				"status", res.Status, "accepted", res.Accepted, "retry", next.Records(),
				"attempt", attempt, "wait", wait.Round(time.Millisecond), "err", res.Err)
			if owned {
				req.Release()
			}
			req, owned = next, true
			if !r.sleep(ctx, wait) {
				return false
			}
			continue
		case res.Outcome == TooLarge:
			if first, second, ok := Split(r.sink, req); ok {
				r.log.Info("request too large for the server, sending it in halves", "sink", r.name,
					"records", req.Records(), "bytes", req.Bytes(), "first", first.Records(), "second", second.Records())
				ok := r.deliver(ctx, first)
				first.Release()
				ok = ok && r.deliver(ctx, second)
				second.Release()
				return ok
			}
			res.Reason = ReasonTooLarge
		}
		return r.reject(ctx, req, res)
	}
}

// rejectAll dead-letters the rejected parts of a Partial answer and releases
// them; false when ctx ended first.
func (r *Runner[R]) rejectAll(ctx context.Context, rejected []Rejection) bool {
	ok := true
	for _, rj := range rejected {
		ok = ok && r.reject(ctx, rj.Req, rj.Result())
		rj.Req.Release()
	}
	return ok
}

// send sends req until it is accepted, fails for good (Permanent or
// TooLarge) or partly (Partial), true, or ctx ends, false. Retryable and
// held failures are sent again after a backoff; *attempt counts the
// failures, across the rounds of a Partial request too.
func (r *Runner[R]) send(ctx context.Context, req R, attempt *int) (Result, bool) {
	for ; ; *attempt++ {
		start := time.Now()
		res := r.sink.Send(ctx, req)
		took := time.Since(start)
		switch res.Outcome {
		case Accepted:
			r.ev.Sent(req.Records(), req.Bytes(), took)
			r.duplicates(res.Duplicates)
			r.recovered()
			return res, true
		case Partial:
			if res.Accepted > 0 {
				r.ev.Sent(res.Accepted, res.AcceptedBytes, took)
			} else {
				r.ev.Failed(res.Status, res.Retry != nil, took)
			}
			r.duplicates(res.Duplicates)
			r.recovered()
			return res, true
		}
		if ctx.Err() != nil {
			return res, false
		}
		res.Outcome = r.d.HoldStatuses.Outcome(res)
		if res.Outcome == Permanent || res.Outcome == TooLarge {
			r.ev.Failed(res.Status, false, took)
			return res, true
		}
		r.ev.Failed(res.Status, true, took)
		wait := r.backoff(*attempt, res.Wait)
		if res.Outcome == Held {
			r.hold(req, res, *attempt, wait)
		} else {
			r.log.Warn("send failed, retrying", "sink", r.name, "status", res.Status, "records", req.Records(),
				"attempt", *attempt+1, "wait", wait.Round(time.Millisecond), "err", res.Err)
		}
		if !r.sleep(ctx, wait) {
			return res, false
		}
	}
}

func (r *Runner[R]) duplicates(n int) {
	if n > 0 {
		r.ev.Duplicate(n)
	}
}

// hold reports a held attempt. It logs at ERROR when the sink becomes held
// and then at most once per MaxBackoff, however many requests are held.
func (r *Runner[R]) hold(req Request, res Result, attempt int, wait time.Duration) {
	r.ev.Held(res.Status, res.Err)
	now := r.now()
	r.holdMu.Lock()
	logIt := !r.held || now.Sub(r.heldLog) >= r.d.MaxBackoff
	r.held = true
	if logIt {
		r.heldLog = now
	}
	r.holdMu.Unlock()
	if logIt {
		r.log.Error("request held: the server refused it for a reason that is not the records' fault (configuration, credentials, URL); retrying, the buffer keeps the records",
			"sink", r.name, "status", res.Status, "records", req.Records(), "attempt", attempt+1,
			"wait", wait.Round(time.Millisecond), "err", res.Err)
	}
}

// recovered ends a held spell at the first accepted request.
func (r *Runner[R]) recovered() {
	r.holdMu.Lock()
	was := r.held
	r.held = false
	r.holdMu.Unlock()
	if was {
		r.ev.Recovered()
		r.log.Info("sink accepts requests again", "sink", r.name)
	}
}

// backoff is the wait before retry number attempt+1: the server's wait when
// it gave one, else MinBackoff doubled per attempt with jitter, both capped.
func (r *Runner[R]) backoff(attempt int, server time.Duration) time.Duration {
	if server > 0 {
		return min(server, r.d.MaxBackoff)
	}
	d := r.d.MinBackoff << min(attempt, 30)
	if d <= 0 || d > r.d.MaxBackoff {
		d = r.d.MaxBackoff
	}
	return r.jitter(d)
}

// reject counts, logs and dead-letters req, which failed for good. A failed
// dead-letter write is retried with backoff: it returns false, leaving the
// batch uncommitted, only when ctx ends first.
func (r *Runner[R]) reject(ctx context.Context, req Request, res Result) bool {
	reason := RejectReason(res)
	attrs := []any{"sink", r.name, "status", res.Status, "reason", reason, "records", req.Records(),
		"sample", req.Sample(), "err", res.Err}
	if r.dead != nil {
		for attempt := 0; ; attempt++ {
			err := r.dead.Write(r.name, reason, res.Err, req)
			if err == nil {
				break
			}
			r.ev.DeadLetterFailed(err)
			wait := r.backoff(attempt, 0)
			r.log.Error("dead-letter write failed; the rejected batch is not committed until it succeeds",
				"sink", r.name, "reason", reason, "records", req.Records(), "attempt", attempt+1,
				"wait", wait.Round(time.Millisecond), "err", err)
			if !r.sleep(ctx, wait) {
				return false
			}
		}
		attrs = append(attrs, "dead_letter", r.dead.Path())
	}
	r.ev.Rejected(reason, req.Records())
	r.log.Error("request rejected, not retrying", attrs...)
	return true
}

// equalJitter returns a wait in [d/2, d): spread out, but never much shorter
// than the backoff asked for.
func equalJitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// ErrStatus builds an error for a failed HTTP exchange: what was being done,
// the status and the start of the server's answer.
func ErrStatus(op string, status int, body []byte) error {
	const max = 512
	if len(body) > max {
		body = append(body[:max:max], "…"...)
	}
	return &StatusError{Op: op, Code: status, Body: string(body)}
}

// StatusError is a request the server answered with an error status.
type StatusError struct {
	Op   string
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return e.Op + ": server answered " + statusText(e.Code) + ": " + e.Body
}

var _ error = (*StatusError)(nil)

// IsStatus reports whether err is a StatusError with the given code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

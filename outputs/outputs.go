// Package outputs defines what a sink is and delivers a source's records to
// one: batching by bytes and time, a bounded number of requests in flight,
// retries with exponential backoff and jitter, and commits in source order.
//
// It imports nothing daemon-only (no buffer, no inputs, no metrics library),
// so the Fluent Bit plugin can link it alone.
//
// Guarantee: a batch is committed to its source only after every record of
// it has a final outcome: accepted, or permanently rejected and then counted,
// logged and written to the dead-letter file when one is configured (a
// dead-letter write that fails is retried and holds the batch back). Commits
// happen in the order the batches were read, whatever order their requests
// finish in. A request that fails in a retryable way is retried until it
// succeeds or the run is cancelled, and so is a request held by a
// misconfiguration (401, 403, 404, a redirect: see Delivery.HoldStatuses):
// sluice never drops a batch for a reason that is not the records' fault. A
// request the server finds too large is split in halves, recursively, when
// its sink can split it (Splitter); only a single record that is still too
// large is rejected, as "too_large". A server that answers record by record
// (Partial) has its retryable records sent again, alone, with backoff, and
// its refused ones dead-lettered by reason; the batch is committed once
// every record has a final outcome.
package outputs

import (
	"context"
	"io"
	"time"

	"github.com/sluicelog/sluice/record"
)

// Sink turns records into requests and sends them. Encode is called by one
// goroutine at a time; Send may run concurrently for different requests.
type Sink[R Request] interface {
	// Encode builds one request from recs. It copies what it keeps, because
	// recs and their bodies are reused once it returns. Records it cannot
	// encode are counted and skipped by the sink, never a reason to fail.
	Encode(recs []record.Record) R
	// Send delivers req once and classifies the outcome. It does not retry;
	// it may send once more after changing how req is encoded because of
	// the server's answer (Loki's structured-metadata fallback).
	Send(ctx context.Context, req R) Result
}

// Request is an encoded batch, owned by the sink that built it.
type Request interface {
	// Records is the number of records the request carries.
	Records() int
	// Bytes is the size of the records' bodies, before any compression.
	Bytes() int
	// Sample returns one entry's text, shortened, for logs about a failure.
	Sample() string
	// WriteEntries writes the request's entries as JSON lines; it is how a
	// permanently rejected request reaches the dead-letter file.
	WriteEntries(w io.Writer) error
	// Release hands the request's memory back to its sink; the request is
	// not used after it.
	Release()
}

// Outcome classifies a request's result.
type Outcome uint8

const (
	// Accepted means the server took every record.
	Accepted Outcome = iota
	// Retryable means sending the same request again may succeed.
	Retryable
	// Permanent means the request will never be accepted as it is.
	Permanent
	// Held means the server refused the request for a reason that is not
	// the records' fault, such as a wrong credential or URL: the runner
	// retries it with backoff and reports the sink degraded until a request
	// is accepted again. A Permanent result whose Status is in the runner's
	// Delivery.HoldStatuses is held too.
	Held
	// TooLarge means the whole request is larger than the server takes. The
	// runner sends it again in halves when its sink implements Splitter, and
	// rejects it with reason "too_large" when it holds a single record or
	// cannot be split.
	TooLarge
	// Partial means the server answered record by record and not every
	// record was accepted: Result.Retry carries the records to send again
	// (only those), Result.Rejected the records refused for good. The
	// runner dead-letters the rejected ones, sends the rest again after a
	// backoff until each has a final outcome, and only then commits. A
	// sink answers Retryable rather than Partial when no record got a
	// final outcome, so that every Partial answer makes progress.
	Partial
)

// ReasonTooLarge is the reason of a single record, or a request its sink
// cannot split, that is larger than the server takes.
const ReasonTooLarge = "too_large"

// RejectReason is the reason res's records are counted and dead-lettered
// under: the sink's, or "status_<status>" when it gave none.
func RejectReason(res Result) string {
	if res.Reason != "" {
		return res.Reason
	}
	return "status_" + res.Status
}

// Split cuts req in two when sink is a Splitter and req holds more than
// one record.
func Split[R Request](sink Sink[R], req R) (first, second R, ok bool) {
	if sp, can := sink.(Splitter[R]); can {
		return sp.Split(req)
	}
	return first, second, false
}

// Splitter is implemented by sinks whose requests can be cut in two. The
// runner uses it for TooLarge requests; it is the first case of a request
// whose parts get outcomes of their own, each part re-driven by the runner
// and the batch committed only once every part has a final outcome.
type Splitter[R Request] interface {
	// Split returns two requests that together carry req's records, the
	// first half first, in their order; ok is false when req cannot be
	// split (a single record). req stays valid and is released by the
	// caller; so are both halves.
	Split(req R) (first, second R, ok bool)
}

// Result is what one attempt to send a request came to.
type Result struct {
	Outcome Outcome
	// Status labels the attempt in metrics: the HTTP status code, or
	// "timeout", "network" or "tls" when there was none.
	Status string
	// Reason is a short, low-cardinality cause of a permanent failure, such
	// as "line_too_long"; it labels the rejected-records counter.
	Reason string
	// Wait is how long the server asked to be left alone (Retry-After);
	// zero leaves the wait to the backoff.
	Wait time.Duration
	// Err describes a failure; nil when accepted.
	Err error

	// Duplicates is how many of the accepted records the server already
	// held (a replayed "create" of a known document id): they count as
	// delivered, and are counted apart (Events.Duplicate).
	Duplicates int
	// Accepted and AcceptedBytes are the records (duplicates included)
	// and their body bytes that a Partial answer accepted.
	Accepted, AcceptedBytes int
	// Retry is what a Partial answer leaves to send again, built by the
	// sink from the retryable records, of the sink's own request type;
	// nil when there is none. The runner releases it.
	Retry Request
	// Rejected are the records a Partial answer refused for good, one
	// request per reason. The runner releases them.
	Rejected []Rejection
}

// Rejection is records the server refused for good, for one reason.
type Rejection struct {
	Req    Request
	Status string // the records' status, such as "400"
	Reason string // low-cardinality, such as "mapper_parsing_exception"
	Err    error  // the server's reason, for the log and the dead-letter file
}

// Result is the rejection as a permanent result, for what counts and
// dead-letters refused requests.
func (rj Rejection) Result() Result {
	return Result{Outcome: Permanent, Status: rj.Status, Reason: rj.Reason, Err: rj.Err}
}

// Events receives a sink's delivery events; the daemon counts them as
// metrics, the Fluent Bit plugin may ignore them.
type Events interface {
	// Sent reports an accepted request.
	Sent(records, bytes int, latency time.Duration)
	// Failed reports a failed attempt; retry tells whether it will be retried.
	Failed(status string, retry bool, latency time.Duration)
	// Rejected reports records dropped for good, by reason.
	Rejected(reason string, records int)
	// Held reports a request held by a misconfiguration (see Outcome
	// Held); the sink is degraded until Recovered. It is called for each
	// held attempt, err says what the server answered.
	Held(status string, err error)
	// Recovered reports the first request accepted after Held.
	Recovered()
	// DeadLetterFailed reports a failed write of a rejected request to the
	// dead-letter file; the write is retried and the batch waits for it.
	DeadLetterFailed(err error)
	// Duplicate reports records the server already held, which Sent
	// counted as delivered too: a replay after a restart or a retried
	// request, recognised by the document id.
	Duplicate(records int)
}

// NopEvents ignores every event.
type NopEvents struct{}

// Sent implements Events.
func (NopEvents) Sent(int, int, time.Duration) {}

// Failed implements Events.
func (NopEvents) Failed(string, bool, time.Duration) {}

// Rejected implements Events.
func (NopEvents) Rejected(string, int) {}

// Held implements Events.
func (NopEvents) Held(string, error) {}

// Recovered implements Events.
func (NopEvents) Recovered() {}

// DeadLetterFailed implements Events.
func (NopEvents) DeadLetterFailed(error) {}

// Duplicate implements Events.
func (NopEvents) Duplicate(int) {}

// Source is where a runner reads batches from: the daemon's disk buffer.
type Source interface {
	// Read waits for at least one record, then up to linger for maxBytes of
	// them, and returns up to maxRecords records (about maxBytes of bodies).
	// The records are valid until the next Read. commit reports that the
	// sink is done with them; the runner calls commits in read order, from a
	// goroutine other than Read's.
	Read(ctx context.Context, maxRecords, maxBytes int, linger time.Duration) (recs []record.Record, commit func(), err error)
}

// Trimmer is a Sink or Source that keeps memory from one batch for the
// next (encode buffers, read slabs) and can let it go. The Runner calls
// Trim, from a goroutine of its own, once no batch has been read for
// IdleTrim; the next batch makes new buffers.
type Trimmer interface{ Trim() }

// IdleTrim is how long a Runner goes without a batch before it trims.
const IdleTrim = 5 * time.Second

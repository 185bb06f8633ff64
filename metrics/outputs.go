package metrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/sluicelog/sluice/outputs"
)

// outputMetrics are the per-sink delivery metrics.
type outputMetrics struct {
	records, bytes *counterVec
	requests       *counterVec
	retries        *counterVec
	rejected       *counterVec
	held           *gaugeVec
	deadErrors     *counterVec
	duplicates     *counterVec
	latency        *histogramVec
}

func newOutputMetrics(reg *registry) *outputMetrics {
	vec := newCounterVec
	o := &outputMetrics{
		records:  vec("sluice_output_records_total", "Records a sink accepted.", "sink"),
		bytes:    vec("sluice_output_bytes_total", "Body bytes (before compression) a sink accepted.", "sink"),
		requests: vec("sluice_output_requests_total", "Requests sent, by HTTP status or transport failure (timeout, network, tls).", "sink", "status"),
		retries:  vec("sluice_output_retries_total", "Failed requests that will be sent again.", "sink"),
		rejected: vec("sluice_output_rejected_records_total", "Records a sink refused for good, by reason.", "sink", "reason"),
		held: newGaugeVec("sluice_output_held",
			"1 while a sink's requests are held by a misconfiguration (such as 401, 403, 404 or a redirect), until one is accepted.", "sink"),
		deadErrors: vec("sluice_output_dead_letter_errors_total", "Failed writes to the dead-letter file; the rejected batch waits for a successful one.", "sink"),
		duplicates: vec("sluice_output_duplicate_records_total",
			"Accepted records the server already held (a replay recognised by its document id); sluice_output_records_total counts them too.", "sink"),
		latency: newHistogramVec("sluice_output_request_duration_seconds", "Time from sending a request to its answer, failures included.",
			exponentialBuckets(0.001, 4, 9), "sink"), // 1 ms .. 65 s
	}
	reg.register(o.records, o.bytes, o.requests, o.retries, o.rejected, o.held, o.deadErrors, o.duplicates, o.latency)
	return o
}

// sinkEvents implements outputs.Events for one sink; its children are
// resolved once, so an event costs no label lookup.
type sinkEvents struct {
	o                       *outputMetrics
	name                    string
	records, bytes, retries *counter
	ok, deadErrors          *counter
	duplicates              *counter
	held                    *gauge
	latency                 *histogram
	ready                   *Readiness // nil: no /readyz note

	mu        sync.Mutex
	heldSince time.Time // zero when not held
}

var _ outputs.Events = (*sinkEvents)(nil)

// Output returns the delivery events of the named sink. While the sink is
// held, ready (when not nil) carries a note on component "outputs/<sink>".
func (m *Registry) Output(sink string, ready *Readiness) outputs.Events {
	o := m.out
	return &sinkEvents{
		o: o, name: sink, ready: ready,
		records: o.records.with(sink), bytes: o.bytes.with(sink),
		retries: o.retries.with(sink), latency: o.latency.with(sink),
		ok: o.requests.with(sink, "ok"), held: o.held.with(sink),
		deadErrors: o.deadErrors.with(sink), duplicates: o.duplicates.with(sink),
	}
}

// Sent implements outputs.Events. Accepted requests are counted under
// status "ok" whatever 2xx code they got, which keeps the series few.
func (e *sinkEvents) Sent(records, bytes int, latency time.Duration) {
	e.records.Add(int64(records))
	e.bytes.Add(int64(bytes))
	e.ok.Inc()
	e.latency.Observe(latency.Seconds())
}

// Failed implements outputs.Events.
func (e *sinkEvents) Failed(status string, retry bool, latency time.Duration) {
	e.o.requests.with(e.name, status).Inc()
	e.latency.Observe(latency.Seconds())
	if retry {
		e.retries.Inc()
	}
}

// Rejected implements outputs.Events.
func (e *sinkEvents) Rejected(reason string, records int) {
	e.o.rejected.with(e.name, reason).Add(int64(records))
}

// Held implements outputs.Events: the gauge goes to 1 and /readyz notes
// since when and why, with the latest answer.
func (e *sinkEvents) Held(status string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.heldSince.IsZero() {
		e.heldSince = time.Now().UTC()
		e.held.Set(1)
	}
	if e.ready != nil {
		why := "status " + status
		if err != nil {
			why = err.Error()
		}
		e.ready.Note("outputs/"+e.name, fmt.Sprintf("requests held since %s: %s", e.heldSince.Format(time.RFC3339), why))
	}
}

// Recovered implements outputs.Events.
func (e *sinkEvents) Recovered() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.heldSince = time.Time{}
	e.held.Set(0)
	if e.ready != nil {
		e.ready.Note("outputs/"+e.name, "")
	}
}

// DeadLetterFailed implements outputs.Events.
func (e *sinkEvents) DeadLetterFailed(error) { e.deadErrors.Inc() }

// Duplicate implements outputs.Events.
func (e *sinkEvents) Duplicate(records int) { e.duplicates.Add(int64(records)) }

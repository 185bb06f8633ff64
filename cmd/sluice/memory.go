package main

import (
	"log/slog"

	"github.com/sluicelog/sluice/config"
)

const (
	// requestCost is what one batch in an output costs in memory, as a
	// multiple of its body bytes: the records read from the buffer, the
	// encoded request (two to three times the bodies with Loki's
	// structured metadata or Elasticsearch's JSON) and its compressed copy.
	requestCost = 4
	// outputShare is the part of the memory limit the outputs' batches may
	// take together; the rest is for the inputs, the pod cache, the
	// runtime and the collector's headroom.
	outputShare = 4
	// minBatchSize is as far as the batch size is lowered to fit: smaller
	// requests would cost more per line than memory they save.
	minBatchSize = 64 << 10
	// fitBatchSize is where lowering the batch size first stops, before
	// requests in flight are given up.
	fitBatchSize = 256 << 10
	// heldShare is the part of the memory limit the lines held waiting for
	// their pod's metadata may take: a held line costs its body and its
	// record, and a node full of new pods must not take the limit.
	heldShare = 8
)

// fitToMemory sizes what sluice holds in memory to a known limit (0:
// none): the outputs' batches (fitOutputs) and the lines held waiting for
// pod metadata, lowered to an eighth of the limit. Each change is logged.
func fitToMemory(limit int64, cfg *config.Config, log *slog.Logger) {
	if limit <= 0 {
		return
	}
	fitOutputs(limit, &cfg.Outputs, log)
	if held := int64(cfg.Kubernetes.MaxHeldBytes); held > limit/heldShare {
		cfg.Kubernetes.MaxHeldBytes = config.ByteSize(limit / heldShare)
		log.Info("memory_limit: kubernetes.max_held_bytes lowered to fit",
			"limit_bytes", limit, "max_held_bytes", limit/heldShare, "was", held)
	}
}

// fitOutputs lowers the outputs' batch sizes and requests in flight until
// what they can hold at once, (max_in_flight + 1 read ahead) × batch_size
// × requestCost summed over the sinks, fits in a quarter of limit: a
// configuration made for a large node must not push a small container
// into its memory limit, which on Windows ends the process. Each change is
// logged. A limit of 0 (none known) changes nothing.
func fitOutputs(limit int64, o *config.Outputs, log *slog.Logger) {
	if limit <= 0 {
		return
	}
	type sink struct {
		name string
		d    *config.Delivery
	}
	var sinks []sink
	if o.Stdout != nil {
		sinks = append(sinks, sink{"stdout", &own(&o.Stdout).Delivery})
	}
	if o.Loki != nil {
		sinks = append(sinks, sink{"loki", &own(&o.Loki).Delivery})
	}
	if o.Elasticsearch != nil {
		sinks = append(sinks, sink{"elasticsearch", &own(&o.Elasticsearch).Delivery})
	}
	if len(sinks) == 0 {
		return
	}
	budget := limit / outputShare / int64(len(sinks))
	for _, s := range sinks {
		d := s.d
		size, inFlight := fitDelivery(budget, int64(d.BatchSize), d.MaxInFlight)
		if size == int64(d.BatchSize) && inFlight == d.MaxInFlight {
			continue
		}
		log.Info("memory_limit: output batches lowered to fit",
			"sink", s.name, "limit_bytes", limit,
			"batch_size", size, "was_batch_size", int64(d.BatchSize),
			"max_in_flight", inFlight, "was_max_in_flight", d.MaxInFlight)
		d.BatchSize, d.MaxInFlight = config.ByteSize(size), inFlight
	}
}

// own replaces *p with a copy of what it points to and returns the copy:
// the caller's configuration shares the sinks and keeps what was written.
func own[T any](p **T) *T {
	c := **p
	*p = &c
	return &c
}

// fitDelivery returns the batch size and requests in flight that fit in
// budget bytes: the batch size is halved down to fitBatchSize first, then
// requests in flight are cut down to one, then the batch size is halved
// down to minBatchSize. What was configured below those floors stays.
func fitDelivery(budget, size int64, inFlight int) (int64, int) {
	cost := func() int64 { return int64(inFlight+1) * size * requestCost }
	for cost() > budget && size/2 >= fitBatchSize {
		size /= 2
	}
	for cost() > budget && inFlight > 1 {
		inFlight--
	}
	for cost() > budget && size/2 >= minBatchSize {
		size /= 2
	}
	return size, inFlight
}

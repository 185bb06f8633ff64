package enrich

import "github.com/sluicelog/sluice/record"

// Miss reasons, metric label values: the set stays closed.
const (
	// MissPathUnparsed is a path that is not a kubelet log path; counted once
	// per distinct path.
	MissPathUnparsed = "path_unparsed"
	// MissPodNotFound is a file whose pod the cache did not know within
	// Wait; counted once each time a file's wait runs out, not per batch.
	MissPodNotFound = "pod_not_found"
	// MissHoldFull is a batch released before its pod was known because its
	// file had too many batches or bytes held, or all files together too
	// many bytes (NodeMaxHeldBytes); counted per batch, logged once per file.
	MissHoldFull = "hold_full"
)

// Events receives what enrichment could not do, so the daemon can count it
// without this package choosing a metrics library. Implementations must be
// cheap: the Stage calls them from its only goroutine.
type Events interface {
	// Miss reports metadata that could not be found, by reason (one of the
	// Miss constants). Each reason says what one count is: a busy file of
	// an unknown pod would otherwise count millions of times and say
	// nothing more.
	Miss(reason string)
}

// appendShared adds shared to dst, handing out shared itself when dst is
// empty: that is the allocation-free case, and it is safe only because
// shared has no spare capacity for anyone to append into.
func appendShared(dst, shared []record.Attr) []record.Attr {
	if len(dst) == 0 {
		return shared
	}
	return append(dst, shared...)
}

func orNop(ev Events) Events {
	if ev == nil {
		return nopEvents{}
	}
	return ev
}

type nopEvents struct{}

func (nopEvents) Miss(string) {}

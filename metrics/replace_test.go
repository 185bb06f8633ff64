package metrics

import (
	"maps"
	"testing"

	"github.com/sluicelog/sluice/buffer"
)

// TestReplaceFailures: checkpoint, cursor and dead-letter failures land in
// one counter, labelled by file; other buffer disk errors do not.
func TestReplaceFailures(t *testing.T) {
	m := New()
	be := m.Buffer(func() buffer.Stats { return buffer.Stats{} })
	m.CheckpointFailed()
	be.DiskError(buffer.OpCursor)
	be.DiskError(buffer.OpCursor)
	be.DiskError("write")
	m.ReplaceFailed("dead_letter")
	got := map[string]float64{}
	for _, s := range scrape(t, m)["sluice_file_replace_failures_total"].GetMetric() {
		got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
	}
	want := map[string]float64{"checkpoint": 1, "cursor": 2, "dead_letter": 1}
	if !maps.Equal(got, want) {
		t.Fatalf("sluice_file_replace_failures_total by file = %v, want %v", got, want)
	}
}

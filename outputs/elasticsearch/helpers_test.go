package elasticsearch

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// newSink returns a sink closed when the test ends.
func newSink(t testing.TB, c Config) (s *Sink) {
	t.Helper()
	var err error
	if s, err = New(c); err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// counts records a runner's events by name: "sent", "duplicate",
// "rejected:<reason>", "failed:<status>/<retry>", "held:<status>".
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func newCounts() *counts { return &counts{n: map[string]int{}} }

func (c *counts) add(k string, n int) {
	c.mu.Lock()
	c.n[k] += n
	c.mu.Unlock()
}

func (c *counts) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *counts) Sent(records, _ int, _ time.Duration) { c.add("sent", records) }
func (c *counts) Failed(status string, retry bool, _ time.Duration) {
	c.add("failed:"+status+"/"+strconv.FormatBool(retry), 1)
}
func (c *counts) Rejected(reason string, n int) { c.add("rejected:"+reason, n) }
func (c *counts) Held(status string, _ error)   { c.add("held:"+status, 1) }
func (c *counts) Recovered()                    { c.add("recovered", 1) }
func (c *counts) DeadLetterFailed(error)        { c.add("dead_letter_failed", 1) }
func (c *counts) Duplicate(n int)               { c.add("duplicate", n) }

var _ outputs.Events = (*counts)(nil)

// fileRecords are lines of one file, as the tailer gives them: a shared
// source, consecutive offsets, a CRI time each, pod attributes.
func fileRecords(ino uint64, msgs ...string) []record.Record {
	src := &record.Source{Dev: 2049, Ino: ino, Head: []byte("2026-12-03T10:00:00.000000001Z stdout F first line\n")}
	base := time.Date(2026, 12, 3, 10, 0, 0, 1, time.UTC)
	var recs []record.Record
	off := int64(0)
	for i, m := range msgs {
		recs = append(recs, record.Record{
			Time: base.Add(time.Duration(i) * time.Millisecond), Stream: "stdout", Body: []byte(m),
			Path: "/var/log/pods/shop_cart-7d9f_8b0c5a2e/app/0.log", Offset: off, Source: src,
			Attrs: []record.Attr{{Key: "namespace", Value: "shop"}, {Key: "pod", Value: "cart-7d9f"}, {Key: "container", Value: "app"}},
		})
		off += int64(len(m)) + 40
	}
	return recs
}

func fastDelivery() outputs.Delivery {
	return outputs.Delivery{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

// deadLines reads the dead-letter file: header lines and entry lines, each
// a JSON object.
func deadLines(t *testing.T, path string) (out []map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for dec := json.NewDecoder(bytes.NewReader(b)); dec.More(); {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("dead-letter file: %v", err)
		}
		out = append(out, m)
	}
	return out
}

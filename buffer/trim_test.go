package buffer

import (
	"context"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

// A Reader trimmed while it waits reads its next records into a new slab,
// and learns its segment's sources again; one not trimmed reuses the slab
// of its last Read. Either way the records are the ones appended, with
// the path and attributes their source was defined with before the trim.
func TestReaderTrim(t *testing.T) {
	attrs := []record.Attr{{Key: "k8s.pod.name", Value: "web-0"}, {Key: "k8s.namespace.name", Value: "shop"}}
	withAttrs := func(rs []record.Record) []record.Record {
		for i := range rs {
			rs[i].Attrs = attrs
		}
		return rs
	}
	for _, trim := range []bool{false, true} {
		b := open(t, testConfig(testdir.New(t), "a"))
		r, err := b.Reader("a")
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := b.Append(ctx, withAttrs(recs(0, 10)), nil); err != nil {
			t.Fatal(err)
		}
		first, pos, err := r.Read(ctx, 10, 1<<20)
		if err != nil || len(first) != 10 {
			t.Fatalf("first read: %d records, %v", len(first), err)
		}
		checkSeq(t, first, 0)
		slab := unsafe.SliceData(first[0].Body)
		r.Commit(pos)
		type result struct {
			recs []record.Record
			err  error
		}
		got := make(chan result, 1)
		go func() {
			rs, _, err := r.Read(ctx, 10, 1<<20)
			got <- result{rs, err}
		}()
		if trim {
			r.Trim()
			// The Read takes the request when it waits for records, which
			// it must: none are appended until it has.
			for r.trim.Load() {
				time.Sleep(time.Millisecond)
			}
		}
		if err := b.Append(ctx, withAttrs(recs(10, 20)), nil); err != nil {
			t.Fatal(err)
		}
		res := <-got
		if res.err != nil || len(res.recs) == 0 {
			t.Fatalf("trim %v: read %d records, %v", trim, len(res.recs), res.err)
		}
		checkSeq(t, res.recs, 10)
		for i, rec := range res.recs {
			if rec.Path != "/p" || !slices.Equal(rec.Attrs, attrs) {
				t.Fatalf("trim %v: record %d has path %q and attrs %v", trim, i, rec.Path, rec.Attrs)
			}
		}
		if reused := unsafe.SliceData(res.recs[0].Body) == slab; reused == trim {
			t.Errorf("trim %v: the next Read reused the last slab: %v", trim, reused)
		}
		r.Close()
	}
}

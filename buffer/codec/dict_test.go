package codec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/record"
)

func sourceRecords(n int) []record.Record {
	out := make([]record.Record, n)
	for i := range out {
		pod := fmt.Sprintf("web-%d", i%3)
		out[i] = record.Record{
			Time: time.Unix(1_800_000_000, int64(i)).UTC(), Stream: "stdout", Offset: int64(i * 100),
			Body: fmt.Appendf(nil, "line %d", i), Path: "/var/log/pods/shop_" + pod + "/app/0.log", Attrs: podAttrs(pod),
		}
		out[i].Source = sources[i%3]
		out[i].Next = out[i].Offset + int64(len(out[i].Body)) + 41
		if i%7 == 6 {
			out[i].Attrs = nil // a file whose path did not parse
			out[i].Path = "/var/log/other.log"
			out[i].Source = nil
		}
	}
	return out
}

var sources = []*record.Source{
	{Dev: 2049, Ino: 1001, Head: []byte("2026-11-26T00:54:07.000000001Z stdout F first line of web-0\n")},
	{Dev: 2049, Ino: 1002, Head: []byte("2026-11-26T00:54:07.000000002Z stdout F first line of web-1\n")},
	{Dev: 2049, Ino: 1003, Head: []byte("2026-11-26T00:54:07.000000003Z stdout F first line of web-2\n")},
}

// equalRecord compares what the buffer keeps of a record: all but Source.
func equalRecord(a, b record.Record) bool {
	return a.Time.Equal(b.Time) && a.Stream == b.Stream && string(a.Body) == string(b.Body) && a.Path == b.Path &&
		a.Offset == b.Offset && a.Flags == b.Flags && slices.Equal(a.Attrs, b.Attrs) && a.Next == b.Next
}

// TestEncoderSourcesRoundTrip encodes records of a few sources the way the
// buffer does, checks that later records refer to their source instead of
// repeating it, and that a decoder reading the segment in order gets every
// record back; a decoder starting in the middle needs the earlier records
// first, and a reference with no definition is corrupt, never a wrong record.
func TestEncoderSourcesRoundTrip(t *testing.T) {
	recs := sourceRecords(60)
	var e Encoder
	var frames [][]byte
	at := int64(16)
	for i := range recs {
		p := e.Append(nil, &recs[i], at)
		frames = append(frames, p)
		at += int64(len(p)) + 12
	}
	full := len(Append(nil, &recs[0]))
	if len(frames[10]) >= full/2 {
		t.Fatalf("a record of a known source takes %d bytes, a self-contained one %d: the source is repeated", len(frames[10]), full)
	}
	var d Decoder
	for i, p := range frames {
		var got record.Record
		if err := d.Decode(p, &got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !equalRecord(got, recs[i]) {
			t.Fatalf("record %d = %+v, want %+v", i, got, recs[i])
		}
	}
	var fresh Decoder
	var got record.Record
	if err := fresh.Decode(frames[30], &got); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a reference decoded without its definition: %v, %+v", err, got)
	}
	for _, p := range frames[:30] {
		_ = fresh.Decode(p, &got)
	}
	if err := fresh.Decode(frames[30], &got); err != nil || !equalRecord(got, recs[30]) {
		t.Fatalf("after learning the earlier records: %v, %+v", err, got)
	}
	d.Reset()
	if err := d.Decode(frames[31], &got); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Reset kept the sources: %v", err)
	}
}

// TestEncoderRedefinesPeriodically bounds what a lost definition costs: the
// source is written again once redefineEvery bytes have passed, and after
// Reset (a new segment) it is written again at once.
func TestEncoderRedefinesPeriodically(t *testing.T) {
	r := sourceRecords(1)[0]
	var e Encoder
	defines := func(p []byte, r *record.Record) bool {
		var d Decoder
		var got record.Record
		return d.Decode(p, &got) == nil // only a definition decodes on its own
	}
	if !defines(e.Append(nil, &r, 16), &r) {
		t.Fatal("the first record of a source does not define it")
	}
	if defines(e.Append(nil, &r, 1000), &r) {
		t.Fatal("the second record repeats its source")
	}
	if !defines(e.Append(nil, &r, 16+redefineEvery), &r) {
		t.Fatalf("no definition %d bytes after the last one", redefineEvery)
	}
	e.Reset()
	if !defines(e.Append(nil, &r, 16), &r) {
		t.Fatal("after Reset the source is not defined again")
	}
}

// TestEncoderTellsSourcesApart changes the path or one attribute value
// behind the same slices, so the pointer fast path must not match.
func TestEncoderTellsSourcesApart(t *testing.T) {
	attrs := podAttrs("web-0")
	a := record.Record{Body: []byte("a"), Path: "/p/0.log", Attrs: attrs}
	b := record.Record{Body: []byte("b"), Path: "/p/1.log", Attrs: attrs}
	c := record.Record{Body: []byte("c"), Path: "/p/1.log", Attrs: podAttrs("web-1")}
	var e Encoder
	var d Decoder
	for i, r := range []record.Record{a, b, c, a, c} {
		var got record.Record
		if err := d.Decode(e.Append(nil, &r, int64(16+i*100)), &got); err != nil || !equalRecord(got, r) {
			t.Fatalf("record %d: %v, got %+v want %+v", i, err, got, r)
		}
	}
}

// The sources of a node's files cost a few words each in the encoder and
// no file head in a decoder that only decodes records: with a thousand
// files the keys and heads had been megabytes.
func TestDictionariesKeepNoHeads(t *testing.T) {
	recs := sourceRecords(30)
	var e Encoder
	var d Decoder
	var buf []byte
	for i := range recs {
		at := int64(len(buf))
		buf = e.Append(buf, &recs[i], at)
		var got record.Record
		if err := d.Decode(buf[at:], &got); err != nil || !equalRecord(got, recs[i]) {
			t.Fatalf("record %d: %v, got %+v", i, err, got)
		}
	}
	if len(e.ids) != len(sources)+1 {
		t.Errorf("encoder keeps %d sources, want %d", len(e.ids), len(sources)+1)
	}
	if len(d.sources) != len(sources)+1 {
		t.Fatalf("decoder keeps %d sources, want %d", len(d.sources), len(sources)+1)
	}
	for id, s := range d.sources {
		if s.ident.Head != "" || s.hasID {
			t.Errorf("source %d: the decoder kept the identity %+v", id, s.ident)
		}
	}
	// TestPositionIdentity shows Position still finds every identity.
}

// BenchmarkEncoderAppend encodes records of three files interleaved, each
// with an attribute slice of its own: the encoder builds every record's
// source key.
func BenchmarkEncoderAppend(b *testing.B) { benchEncode(b, sourceRecords(1000)) }

// BenchmarkEncoderAppendRuns encodes records in runs of one file, as the
// tailer's batches come, with log-like bodies: the encoding the buffer
// does for every record it appends.
func BenchmarkEncoderAppendRuns(b *testing.B) { benchEncode(b, runRecords(1000)) }

func benchEncode(b *testing.B, recs []record.Record) {
	var e Encoder
	var buf []byte
	n := 0
	for i := range recs {
		n += len(recs[i].Body)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		buf = buf[:0]
		for i := range recs {
			buf = e.Append(buf, &recs[i], int64(len(buf)))
		}
	}
	b.ReportMetric(float64(len(buf))/float64(len(recs)), "bytes/record")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// BenchmarkDecoderDecode decodes what an Encoder wrote for records in runs
// of one file, as the tailer's batches come: each source is defined once
// and then referred to.
func BenchmarkDecoderDecode(b *testing.B) {
	recs := runRecords(1000)
	var e Encoder
	var buf []byte
	var ends []int
	for i := range recs {
		buf = e.Append(buf, &recs[i], int64(len(buf)))
		ends = append(ends, len(buf))
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	var d Decoder
	var out record.Record
	for b.Loop() {
		d.Reset()
		start := 0
		for _, end := range ends {
			if err := d.Decode(buf[start:end], &out); err != nil {
				b.Fatal(err)
			}
			start = end
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// runRecords are n records of sourceRecords' files in runs of one file,
// with bodies of about 100 bytes; the records of a file share one
// attribute slice, as the enrichment stage hands them out.
func runRecords(n int) []record.Record {
	recs := sourceRecords(n)
	slices.SortStableFunc(recs, func(x, y record.Record) int { return strings.Compare(x.Path, y.Path) })
	for i := range recs {
		recs[i].Body = fmt.Appendf(nil, "level=info ts=2026-11-26T00:54:07Z caller=main.go:42 msg=\"request served\" status=200 n=%d", i)
		if i > 0 && recs[i].Path == recs[i-1].Path {
			recs[i].Attrs = recs[i-1].Attrs
		}
	}
	return recs
}

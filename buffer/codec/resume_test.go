package codec

import (
	"encoding/hex"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sluicelog/sluice/record"
)

// TestNextRoundTrip covers the restart offset's encoding: unknown (0),
// the usual few bytes past the body, before the record's own offset (a
// piece of a cut line, a join held back by another), and extremes.
func TestNextRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name         string
		off, next    int64
		body         string
		maxNextBytes int
	}{
		{"unknown", 500, 0, "line", 1},
		{"end of a CRI line", 1000, 1000 + 4 + 41, "line", 1},
		{"end of a raw line", 1000, 1000 + 4 + 1, "line", 1},
		{"a piece restarting at its line", 1 << 30, 1<<30 - 16<<10, "piece", 3},
		{"held back by a join of the other stream", 1 << 30, 1<<30 - 200, "x", 2},
		{"largest", 0, math.MaxInt64, "", 10},
		{"offset larger than next", math.MaxInt64, 1, "", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := record.Record{Body: []byte(tc.body), Offset: tc.off, Next: tc.next, Path: "/p"}
			var e Encoder
			with := e.Append(nil, &r, 16)
			r0 := r
			r0.Next = 0
			e.Reset()
			without := e.Append(nil, &r0, 16)
			if n := len(with) - len(without); tc.next != 0 && n > tc.maxNextBytes {
				t.Errorf("Next costs %d bytes, want at most %d", n, tc.maxNextBytes)
			}
			var d Decoder
			var got record.Record
			if err := d.Decode(with, &got); err != nil || got.Next != tc.next || got.Offset != tc.off {
				t.Fatalf("decoded offset %d next %d (%v), want %d and %d", got.Offset, got.Next, err, tc.off, tc.next)
			}
		})
	}
}

// TestPositionIdentity checks what Position reads back: the identity of
// the file (device, inode, head), the same for a definition, the
// references to it and its repeated definitions, and no position for
// records without a file or without a restart offset.
func TestPositionIdentity(t *testing.T) {
	recs := sourceRecords(40)
	recs[5].Next = 0
	var e Encoder
	var d Decoder
	at := int64(16)
	var sizes []int
	for i := range recs {
		if i == 20 {
			at += redefineEvery // the sources are defined again, without their heads
		}
		p := e.Append(nil, &recs[i], at)
		at += int64(len(p)) + 12
		sizes = append(sizes, len(p))
		id, next, ok, err := d.Position(p)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		r := &recs[i]
		if wantOK := r.Source != nil && r.Next != 0; ok != wantOK {
			t.Fatalf("record %d: ok = %v, want %v", i, ok, wantOK)
		}
		if !ok {
			continue
		}
		want := Identity{Dev: r.Source.Dev, Ino: r.Source.Ino, Head: string(r.Source.Head)}
		if id != want || next != r.Next {
			t.Fatalf("record %d: %+v next %d, want %+v next %d", i, id, next, want, r.Next)
		}
	}
	if head := len(sources[0].Head); sizes[21] > sizes[0]-head/2 {
		t.Errorf("a repeated definition takes %d bytes, the first %d: the head (%d bytes) is repeated", sizes[21], sizes[0], head)
	}
}

// TestEncoderTellsFilesApart: after a rotation the new file has the old
// one's path and attributes; its records must still name the new file.
func TestEncoderTellsFilesApart(t *testing.T) {
	attrs := podAttrs("web-0")
	old := &record.Source{Dev: 1, Ino: 10, Head: []byte("old head")}
	grown := &record.Source{Dev: 1, Ino: 10, Head: []byte("old head, grown")}
	rotated := &record.Source{Dev: 1, Ino: 11, Head: []byte("new head")}
	var e Encoder
	var d Decoder
	for i, src := range []*record.Source{old, grown, rotated, old, rotated} {
		r := record.Record{Body: []byte("x"), Path: "/p/0.log", Attrs: attrs, Source: src, Next: 7}
		id, _, ok, err := d.Position(e.Append(nil, &r, int64(16+i*100)))
		if err != nil || !ok || id.Ino != src.Ino || id.Head != string(src.Head) {
			t.Fatalf("record %d of %s: %+v, %v, %v", i, src.Head, id, ok, err)
		}
	}
}

// TestDecodeVersion2 reads records written by the version 2 encoder (two
// records of one source, the second a reference), as segments written
// before version 3 hold them: they decode, and give no restart position.
func TestDecodeVersion2(t *testing.T) {
	frames := []string{
		"028a80a0bbd29df1fa31067374646f75740a6669727374206c696e6500000100192f7661722f6c6f672f706f64732f612f6170702f302e6c6f6702096e616d6573706163650764656661756c7403706f64057765622d30",
		"028ca8f6f4d99df1fa31067374646572720b7365636f6e64206c696e6566010200",
	}
	want := []record.Record{
		{Time: time.Unix(1_800_000_000, 5).UTC(), Stream: "stdout", Body: []byte("first line"), Path: "/var/log/pods/a/app/0.log", Offset: 0},
		{Time: time.Unix(1_800_000_001, 6).UTC(), Stream: "stderr", Body: []byte("second line"), Path: "/var/log/pods/a/app/0.log", Offset: 51, Flags: record.FlagSplit},
	}
	attrs := []record.Attr{{Key: "namespace", Value: "default"}, {Key: "pod", Value: "web-0"}}
	var d, pd Decoder
	for i, h := range frames {
		p, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		var got record.Record
		if err := d.Decode(p, &got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		want[i].Attrs = attrs
		if !equalRecord(got, want[i]) {
			t.Fatalf("record %d = %+v, want %+v", i, got, want[i])
		}
		if _, _, ok, err := pd.Position(p); ok || err != nil {
			t.Fatalf("record %d: a version 2 record gives a position (%v, %v)", i, ok, err)
		}
	}
}

// TestPositionRejectsDamage: a damaged version 3 record is an error from
// Position too, never a position.
func TestPositionRejectsDamage(t *testing.T) {
	r := sourceRecords(1)[0]
	var e Encoder
	good := e.Append(nil, &r, 16)
	for i := 0; i < len(good); i++ {
		var d Decoder
		if _, _, ok, err := d.Position(good[:i]); ok || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: ok %v, err %v", i, ok, err)
		}
	}
}

package file

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/record"
)

// FuzzDecoder feeds arbitrary file content through the decoder the way a
// reader does: NUL runs skipped between lines, lines cut with nextLine at a
// small maximum, and at the end what a drained file leaves without a
// newline. It checks that
//   - every record body is at most max bytes, joined "P" chunks included;
//   - every record's offset lies inside the input, and offsets never go
//     back within one stream;
//   - a raw record (raw format, or a line kept raw) is the input's bytes at
//     its offset;
//   - reading the content as it arrives in two parts, with the decoder
//     saved to a checkpoint after the first part and restored into a new
//     decoder, gives the same records as reading it at once;
//   - restart offsets (Next) are as checkRestarts requires.
func FuzzDecoder(f *testing.F) {
	for _, s := range decoderSeeds() {
		f.Add([]byte(s), uint16(len(s)/2), uint8(48))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16, maxSel uint8) {
		max := 16 + int(maxSel)%113 // 16..128
		at := int(split) % (len(data) + 1)

		want, format := decodeAll(t, data, max, -1)
		got, _ := decodeAll(t, data, max, at)
		if !sameRecords(got, want) {
			t.Fatalf("max %d, input arriving in two parts at %d with a checkpoint between them:\n got %s\nwant %s",
				max, at, describeRecords(got), describeRecords(want))
		}

		last := map[string]int64{}
		for i, r := range want {
			if len(r.Body) > max {
				t.Fatalf("record %d: body of %d bytes, max %d: %q", i, len(r.Body), max, r.Body)
			}
			if r.Offset < 0 || r.Offset >= int64(len(data)) {
				t.Fatalf("record %d: offset %d outside the input of %d bytes", i, r.Offset, len(data))
			}
			if prev, ok := last[r.Stream]; ok && r.Offset < prev {
				t.Fatalf("record %d: offset %d after %d in stream %q: %s", i, r.Offset, prev, r.Stream, describeRecords(want))
			}
			last[r.Stream] = r.Offset
			if (format == FormatRaw || r.Flags&record.FlagRaw != 0) && !bytes.HasPrefix(data[r.Offset:], r.Body) {
				t.Fatalf("record %d: raw body %q is not the input at offset %d", i, r.Body, r.Offset)
			}
			if r.Flags&record.FlagNoNewline != 0 {
				t.Fatalf("record %d: the decoder set FlagNoNewline, which only the reader sets", i)
			}
		}
		checkRestarts(t, data, max, format, want)
	})
}

// checkRestarts checks the restart offsets of records decoded from data in
// one go: each lies within the data and none goes back, and a reader that
// restarts with a fresh decoder at the offset of any record, as after a
// crash that kept that record and lost every later one, loses nothing:
// for each stream, what the records after it hold is the end of what the
// restarted reader emits (which may repeat lines before that).
func checkRestarts(t *testing.T, data []byte, max int, format string, want []record.Record) {
	t.Helper()
	var prev int64
	for i, r := range want {
		if r.Next < prev || r.Next > int64(len(data)) {
			t.Fatalf("record %d: restart offset %d after %d, input of %d bytes:%s", i, r.Next, prev, len(data), describeNext(want))
		}
		prev = r.Next
	}
	for i := range want {
		if i > 0 && want[i].Next == want[i-1].Next {
			continue // the same restart as the previous record: same check
		}
		got := decodeFrom(data, max, format, want[i].Next)
		lost := streamBodies(want[i+1:])
		again := streamBodies(got)
		for stream, w := range lost {
			if !bytes.HasSuffix(again[stream], w) {
				t.Fatalf("restart at %d after record %d loses stream %q:\n after it: %q\nrestarted: %q\nrecords:%s",
					want[i].Next, i, stream, w, again[stream], describeNext(want))
			}
		}
	}
}

// streamBodies concatenates record bodies per stream ("" for raw records).
func streamBodies(recs []record.Record) map[string][]byte {
	out := map[string][]byte{}
	for _, r := range recs {
		out[r.Stream] = append(out[r.Stream], r.Body...)
	}
	return out
}

// decodeFrom decodes data from off on with a fresh decoder that knows the
// format, as a reader resumed at off with no saved state does.
func decodeFrom(data []byte, max int, format string, off int64) []record.Record {
	var recs []record.Record
	d := newDecoder(format, max, &Counts{})
	d.emit = func(r record.Record) {
		r.Body = bytes.Clone(r.Body)
		recs = append(recs, r)
	}
	feedRest(&d, data, feedLines(&d, data, off, max))
	return recs
}

func describeNext(recs []record.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "\n\t@%d next %d %q flags %04b %q", r.Offset, r.Next, r.Stream, r.Flags, r.Body)
	}
	return b.String()
}

// TestNextLineAtMax covers the cut at max bytes. Whether a line of exactly
// max bytes is complete is known only with the byte after it, so it is not
// cut before that byte has been read; otherwise the newline, when it comes,
// ends an empty extra piece, and the records depend on how the writes fell.
func TestNextLineAtMax(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		name, data   string
		line         string
		n            int
		complete, ok bool
	}{
		{"short line", "ab\ncd", "ab", 3, true, true},
		{"short, no newline yet", "ab", "", 0, false, false},
		{"max bytes and newline", x(8) + "\n", x(8), 9, true, true},
		{"max bytes, newline not read yet", x(8), "", 0, false, false},
		{"over max", x(9), x(8), 8, false, true},
		{"over max, newline after", x(9) + "\n", x(8), 8, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, n, complete, ok := nextLine([]byte(tc.data), 8)
			if string(line) != tc.line || n != tc.n || complete != tc.complete || ok != tc.ok {
				t.Errorf("nextLine(%q, 8) = %q, %d, %v, %v; want %q, %d, %v, %v",
					tc.data, line, n, complete, ok, tc.line, tc.n, tc.complete, tc.ok)
			}
		})
	}
}

// decodeAll decodes data as a reader of a file holding it would, and
// returns the records and the detected format. When restartAt >= 0 the file
// first holds only data[:restartAt]; the decoder is then saved as a
// checkpoint would save it, and a fresh decoder restored from that state
// reads on from the saved offset once the rest has arrived.
func decodeAll(t *testing.T, data []byte, max int, restartAt int) ([]record.Record, string) {
	var recs []record.Record
	now := time.Date(2026, 11, 26, 0, 54, 7, 0, time.UTC)
	newDec := func() *decoder {
		d := newDecoder(FormatAuto, max, &Counts{})
		d.now = now
		d.emit = func(r record.Record) {
			r.Body = bytes.Clone(r.Body)
			recs = append(recs, r)
		}
		return &d
	}
	d := newDec()
	var off int64
	if restartAt >= 0 {
		off = feedLines(d, data[:restartAt], 0, max)
		saved := roundTripPartials(t, d.snapshot("0.log"))
		format := d.format
		d = newDec()
		d.format = format
		d.restore(saved)
	}
	feedRest(d, data, feedLines(d, data, off, max))
	return recs, d.format
}

// feedRest ends a drained file as reader.finishTail does: what is left
// after off has no newline and is fed whole, then unfinished joins are
// flushed.
func feedRest(d *decoder, data []byte, off int64) {
	if rest := data[off:]; len(rest) > 0 {
		d.feedTail(rest, off)
	}
	d.flushJoins()
}

// feedLines feeds the complete lines of data from off on, as
// reader.decodeChunk does, and returns the offset after the last one.
func feedLines(d *decoder, data []byte, off int64, max int) int64 {
	for {
		if !d.splitting() {
			_, nul := trimNUL(data[off:])
			off += int64(nul)
		}
		line, n, complete, ok := nextLine(data[off:], max)
		if !ok {
			return off
		}
		d.feed(line, off, complete)
		off += int64(n)
	}
}

// roundTripPartials passes decoder state through the checkpoint's encoding.
func roundTripPartials(t *testing.T, ps []checkpoint.Partial) []checkpoint.Partial {
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatalf("encode partials: %v", err)
	}
	var out []checkpoint.Partial
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode partials %s: %v", b, err)
	}
	return out
}

func sameRecords(a, b []record.Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Time.Equal(y.Time) || x.Stream != y.Stream || !bytes.Equal(x.Body, y.Body) || x.Offset != y.Offset || x.Flags != y.Flags {
			return false
		}
	}
	return true
}

func describeRecords(recs []record.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "\n\t@%d %s %q flags %04b %q", r.Offset, r.Time.UTC().Format(time.RFC3339Nano), r.Stream, r.Flags, r.Body)
	}
	return b.String()
}

// decoderSeeds are file contents of every shape the decoder meets.
func decoderSeeds() []string {
	ts := "2026-11-26T00:54:07.123456789Z"
	long := strings.Repeat("0123456789", 12)
	return []string{
		// CRI: whole lines, P chunks joined by F, stdout and stderr chunks interleaved.
		ts + " stdout F hello\n" + ts + " stderr F world\n",
		ts + " stdout P first, \n" + ts + " stdout P second, \n" + ts + " stdout F third\n",
		ts + " stdout P out-a \n" + ts + " stderr P err-a \n" + ts + " stdout F out-b\n" + ts + " stderr F err-b\n",
		ts + " stdout P " + long + "\n" + ts + " stdout F end\n",
		"2026-11-26T01:54:07.5+01:00 stdout F:x dos line\r\n" + ts + " stdout P keeps cr\r\n" + ts + " stdout F\n",
		ts + " stdout P dangling chunk with no end\n",
		// Open joins ended by a line that cannot continue them: a broken
		// line, and a line cut at max.
		ts + " stdout P open out \n" + ts + " stderr P open err \n" + "not a cri line\n" + ts + " stdout F x\n",
		ts + " stderr P open \n" + ts + " stdout F " + long + long + "\n",
		ts + " stdout F ok\n2026-13-45T00:54:07Z stdout F bad month\n" + ts + " stdin F bad stream\n",
		ts + " stdout F " + long + long + "\n" + ts + " stdout F after\n",
		ts + " stdout F no newline at the end",
		// Docker json-file, with a partial line and escapes.
		`{"log":"hello\n","stream":"stdout","time":"` + ts + `"}` + "\n" +
			`{"log":"part one, ","stream":"stderr","time":"` + ts + `"}` + "\n" +
			`{"log":"part two\n","stream":"stderr","time":"` + ts + `"}` + "\n",
		`{"log":"tab\tquote\"uni\u00e9\r\n","stream":"stdout","time":"` + ts + `"}` + "\n" + `{"log":42}` + "\n",
		// Raw text, empty lines, CRLF, a line over max.
		"plain text\n\nsecond\r\nthird\n",
		"raw " + long + long + "\nshort\n",
		// NUL runs that copytruncate leaves, before and inside lines.
		"\x00\x00\x00\x00" + ts + " stdout F after nuls\n\x00\x00",
		ts + " stdout F a\x00b\n\x00\x00\x00\x00\x00\x00\x00\x00" + ts + " stdout F c\n",
		// Invalid UTF-8 in every format.
		ts + " stdout F bad \xff\xfe bytes\n" + ts + " stdout P \xe2\x82\n" + ts + " stdout F \xac\n",
		"\xff\xfe raw \xc0\n",
		`{"log":"bad \xff\n","stream":"stdout","time":"` + ts + `"}` + "\n",
	}
}

package file

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/record"
)

// TestDecoderNext names the restart offset (record.Record.Next) each record
// must carry: the end of its line, held back to the first chunk of a join
// still open (of either stream), to the start of a line whose pieces are
// still coming, and, when another record of the same line follows it, to
// that line. A join this decoder did not see begin leaves it unknown (0).
func TestDecoderNext(t *testing.T) {
	const ts = "2026-11-26T00:54:07.123456789Z"
	cri := func(stream, tag, msg string) string { return ts + " " + stream + " " + tag + " " + msg + "\n" }
	dock := func(stream, log string) string {
		return `{"log":"` + log + `","stream":"` + stream + `","time":"` + ts + `"}` + "\n"
	}
	x := func(n int) string { return strings.Repeat("x", n) }
	type want struct {
		body string
		next int // index of the part the restart offset points at: len(parts) is the end
	}
	for _, tc := range []struct {
		name    string
		format  string
		max     int
		restore []checkpoint.Partial
		parts   []string // the file, in parts; the last one may lack its newline
		want    []want
	}{
		{name: "whole lines", format: FormatCRI,
			parts: []string{cri("stdout", "F", "a"), cri("stderr", "F", "b")},
			want:  []want{{"a", 1}, {"b", 2}}},
		{name: "P chunks joined by F", format: FormatCRI,
			parts: []string{cri("stdout", "F", "x"), cri("stdout", "P", "a"), cri("stdout", "P", "b"), cri("stdout", "F", "c")},
			want:  []want{{"x", 1}, {"abc", 4}}},
		{name: "a line of the other stream while a join is open", format: FormatCRI,
			parts: []string{cri("stdout", "F", "x"), cri("stdout", "P", "a"), cri("stderr", "F", "e"), cri("stdout", "F", "b")},
			want:  []want{{"x", 1}, {"e", 1}, {"ab", 4}}},
		{name: "interleaved joins", format: FormatCRI,
			parts: []string{cri("stdout", "F", "x"), cri("stdout", "P", "a"), cri("stderr", "P", "e"), cri("stdout", "F", "b"), cri("stderr", "F", "f")},
			want:  []want{{"x", 1}, {"ab", 2}, {"ef", 5}}},
		{name: "a broken line ends the open joins", format: FormatCRI,
			parts: []string{cri("stdout", "F", "x"), cri("stdout", "P", "a"), cri("stderr", "P", "e"), "not cri\n", cri("stdout", "F", "b")},
			want:  []want{{"x", 1}, {"a", 2}, {"e", 3}, {"not cri", 4}, {"b", 5}}},
		{name: "a join cut at max starts the next at its chunk", format: FormatCRI, max: 64,
			parts: []string{cri("stdout", "P", x(24)), cri("stdout", "P", x(24)), cri("stdout", "P", "yy"+x(22)), cri("stdout", "F", "c")},
			want:  []want{{x(48), 2}, {"yy" + x(22) + "c", 4}}},
		{name: "pieces of a line cut at max restart at the line", format: FormatRaw, max: 16,
			parts: []string{"short\n", x(40) + "\n", "end\n"},
			want:  []want{{"short", 1}, {x(16), 1}, {x(16), 1}, {x(8), 2}, {"end", 3}}},
		{name: "a cut line ends the open join", format: FormatCRI, max: 48,
			parts: []string{cri("stderr", "P", "e"), cri("stdout", "F", x(30))},
			want:  []want{{"e", 1}, {x(8), 1}, {x(22), 2}}},
		{name: "docker partial lines", format: FormatDocker,
			parts: []string{dock("stdout", `x\n`), dock("stderr", "part one, "), dock("stdout", `y\n`), dock("stderr", `part two\n`)},
			want:  []want{{"x", 1}, {"y", 1}, {"part one, part two", 4}}},
		{name: "NUL runs are not part of a line", format: FormatCRI,
			parts: []string{cri("stdout", "F", "a"), "\x00\x00\x00\x00", cri("stdout", "F", "b"), "\x00\x00"},
			want:  []want{{"a", 1}, {"b", 3}}},
		{name: "the tail of a drained file has no newline", format: FormatCRI,
			parts: []string{cri("stdout", "F", "a"), strings.TrimSuffix(cri("stdout", "F", "b"), "\n")},
			want:  []want{{"a", 1}, {"b", 2}}},
		{name: "a join flushed at the end of a drained file", format: FormatCRI,
			parts: []string{cri("stdout", "P", "a"), cri("stderr", "P", "e")},
			want:  []want{{"a", 1}, {"e", 2}}},
		{name: "a join restored from a checkpoint is not in this file", format: FormatCRI,
			restore: []checkpoint.Partial{{Stream: "stdout", Offset: 900, Body: []byte("saved ")}},
			parts:   []string{cri("stderr", "F", "e"), cri("stdout", "F", "b"), cri("stderr", "F", "f")},
			want:    []want{{"e", -1}, {"saved b", 2}, {"f", 3}}},
		{name: "a cut restored from a checkpoint is not in this file", format: FormatRaw, max: 16,
			restore: []checkpoint.Partial{{Split: true}},
			parts:   []string{"rest\n", "next\n"},
			want:    []want{{"rest", 1}, {"next", 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = 1 << 10
			}
			data := []byte(strings.Join(tc.parts, ""))
			var got []record.Record
			d := newDecoder(tc.format, max, &Counts{})
			d.now = time.Unix(0, 0)
			d.emit = func(r record.Record) {
				r.Body = bytes.Clone(r.Body)
				got = append(got, r)
			}
			d.restore(tc.restore)
			feedRest(&d, data, feedLines(&d, data, 0, max))
			if len(got) != len(tc.want) {
				t.Fatalf("%d records, want %d:%s", len(got), len(tc.want), describeNext(got))
			}
			for i, w := range tc.want {
				next := int64(0)
				if w.next >= 0 {
					next = int64(len(strings.Join(tc.parts[:w.next], "")))
				}
				if string(got[i].Body) != w.body || got[i].Next != next {
					t.Errorf("record %d: %q next %d, want %q next %d (part %d)", i, got[i].Body, got[i].Next, w.body, next, w.next)
				}
			}
		})
	}
}

// TestHandOverMakesJoinsForeign: a join that a rotated file hands over has
// its offset in that file, so the next file's records must not restart
// from it until it is closed.
func TestHandOverMakesJoinsForeign(t *testing.T) {
	const ts = "2026-11-26T00:54:07.123456789Z"
	var got []record.Record
	emit := func(r record.Record) { got = append(got, r) }
	old := newDecoder(FormatCRI, 1<<10, &Counts{})
	old.emit = emit
	long := ts + " stdout F " + strings.Repeat("a", 500) + "\n"
	old.feed([]byte(long[:len(long)-1]), 0, true)
	p := ts + " stdout P tail of the old file \n"
	old.feed([]byte(p[:len(p)-1]), int64(len(long)), true)
	next := newDecoder(FormatCRI, 1<<10, &Counts{})
	next.emit = emit
	old.handOver(&next)
	e := ts + " stderr F e\n"
	next.feed([]byte(e[:len(e)-1]), 0, true)
	f := ts + " stdout F end\n"
	next.feed([]byte(f[:len(f)-1]), int64(len(e)), true)
	if len(got) != 3 {
		t.Fatalf("%d records:%s", len(got), describeNext(got))
	}
	if got[1].Next != 0 {
		t.Errorf("a record read while a handed-over join is open restarts at %d, want 0 (unknown)", got[1].Next)
	}
	if want := int64(len(e) + len(f)); got[2].Next != want {
		t.Errorf("the record that closes the handed-over join restarts at %d, want %d", got[2].Next, want)
	}
}

// A file of whole lines makes no partial-line state: only the first "P"
// chunk or over-long line does, and the join still comes out whole.
func TestDecoderMakesPartialsOnFirstUse(t *testing.T) {
	var got []string
	d := newDecoder(FormatCRI, 1<<10, &Counts{})
	d.emit = func(r record.Record) { got = append(got, string(r.Body)) }
	whole := "2026-12-04T17:00:00.000000001Z stdout F one\n2026-12-04T17:00:00.000000002Z stderr F two\n"
	feedRest(&d, []byte(whole), feedLines(&d, []byte(whole), 0, 1<<10))
	if d.part != nil {
		t.Fatalf("whole lines made partial-line state: %+v", *d.part)
	}
	all := []byte(whole + "2026-12-04T17:00:00.000000003Z stdout P thr\n2026-12-04T17:00:00.000000004Z stdout F ee\n")
	feedRest(&d, all, feedLines(&d, all, int64(len(whole)), 1<<10))
	if d.part == nil || d.part.join[0].active {
		t.Fatalf("after a joined line: partials %v", d.part)
	}
	if want := []string{"one", "two", "three"}; !slices.Equal(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
}

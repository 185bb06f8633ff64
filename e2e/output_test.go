package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// outRecord is one line of the stdout sink's output.
type outRecord struct {
	Time    string   `json:"time"`
	Stream  string   `json:"stream"`
	Message string   `json:"message"`
	Path    string   `json:"path"`
	Offset  int64    `json:"offset"`
	Flags   []string `json:"flags"`

	size int // the message's length, for tests that drop the text
}

// cutLine is the start of an output line that a kill cut short: bytes after
// the last newline when the killed run ended.
type cutLine struct {
	offset int64 // where it starts in the output file
	text   []byte
}

// outputReader reads the records sluice appends to its output file, as they
// come, in the spirit of filetest's "expect records": each call decodes only
// what was appended since the last one.
type outputReader struct {
	path    string
	off     int64  // next byte of the file to read
	pending []byte // a line whose newline has not been read yet
	lines   int    // complete lines decoded
	cut     []cutLine
}

// poll decodes the complete lines appended since the last call, in order.
// A complete line that is not a record is an error: sluice writes every
// line with its newline in one write, so only a kill can leave a torn one,
// and that one is the last before the kill (see endRun).
func (r *outputReader) poll(fn func(outRecord)) error { return r.read(-1, fn) }

// endRun reads up to end, the output's size once a killed run was gone. A
// last line without its newline there was cut by the kill: it is recorded
// in r.cut, not joined with the next run's first line.
func (r *outputReader) endRun(end int64, fn func(outRecord)) error {
	if err := r.read(end, fn); err != nil {
		return err
	}
	if r.off != end {
		return fmt.Errorf("output %s: read to %d, want the recorded end %d", r.path, r.off, end)
	}
	if len(r.pending) > 0 {
		r.cut = append(r.cut, cutLine{offset: end - int64(len(r.pending)), text: bytes.Clone(r.pending)})
		r.pending = r.pending[:0]
	}
	return nil
}

// read decodes up to end (or to the file's current end when end < 0).
func (r *outputReader) read(end int64, fn func(outRecord)) error {
	f, err := os.Open(r.path)
	if errors.Is(err, fs.ErrNotExist) && end <= 0 {
		return nil // no run has written yet
	}
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 4<<20)
	for end < 0 || r.off < end {
		chunk := buf
		if end >= 0 {
			chunk = chunk[:min(int64(len(chunk)), end-r.off)]
		}
		n, err := f.ReadAt(chunk, r.off)
		if n > 0 {
			base := r.off
			r.off += int64(n)
			if derr := r.decode(base, chunk[:n], fn); derr != nil {
				return derr
			}
		}
		if errors.Is(err, io.EOF) || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decode splits data, which starts at file offset base, into lines.
func (r *outputReader) decode(base int64, data []byte, fn func(outRecord)) error {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			r.pending = append(r.pending, data...)
			return nil
		}
		line := data[:i]
		start := base - int64(len(r.pending))
		if len(r.pending) > 0 {
			line = append(r.pending, line...)
			r.pending = r.pending[:0]
		}
		var rec outRecord
		if err := decodeRecord(line, &rec); err != nil {
			return fmt.Errorf("output %s: line at offset %d is not a record (%v): %q", r.path, start, err, clip(line, 300))
		}
		r.lines++
		fn(rec)
		base += int64(i + 1)
		data = data[i+1:]
	}
	return nil
}

// decodeRecord decodes one output line. Lines in the sink's usual shape
// (fields in its order, no escapes, no flags) are cut apart directly, since
// encoding/json under the race detector is too slow for a million records;
// anything else goes through encoding/json.
func decodeRecord(line []byte, r *outRecord) error {
	if fastDecode(line, r) {
		return nil
	}
	*r = outRecord{}
	return json.Unmarshal(line, r)
}

func fastDecode(b []byte, r *outRecord) bool {
	if bytes.IndexByte(b, '\\') >= 0 {
		return false
	}
	c := cursor{b: b, ok: true}
	c.expect(`{"time":"`)
	r.Time = c.until('"')
	c.expect(`","stream":"`)
	r.Stream = c.until('"')
	c.expect(`","message":"`)
	r.Message = c.until('"')
	c.expect(`","path":"`)
	r.Path = c.until('"')
	c.expect(`","offset":`)
	digits := c.until('}')
	c.expect("}")
	if !c.ok || len(c.b) != 0 || digits == "" {
		return false
	}
	off, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return false
	}
	r.Offset = off
	for _, s := range []string{r.Time, r.Stream, r.Message, r.Path} {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] >= utf8.RuneSelf {
				return false // let encoding/json judge control bytes and UTF-8
			}
		}
	}
	return true
}

// cursor walks a line for fastDecode; ok turns false at the first mismatch.
type cursor struct {
	b  []byte
	ok bool
}

func (c *cursor) expect(s string) {
	if c.ok && bytes.HasPrefix(c.b, []byte(s)) {
		c.b = c.b[len(s):]
		return
	}
	c.ok = false
}

func (c *cursor) until(end byte) string {
	i := bytes.IndexByte(c.b, end)
	if !c.ok || i < 0 {
		c.ok = false
		return ""
	}
	s := string(c.b[:i])
	c.b = c.b[i:]
	return s
}

// clip shortens b for messages.
func clip(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + fmt.Sprintf("... (%d bytes)", len(b))
}

// seqCollector gathers the writer lines of each source path in the order
// they arrived and checks that each record is intact: the message is the
// one the writer wrote for that number, from the pod the path belongs to,
// on stdout, with no flags. Records that fail are kept as problems.
type seqCollector struct {
	paths    map[string]*pathSeqs
	problems []string
	nProblem int
}

// pathSeqs is what arrived from one source path.
type pathSeqs struct {
	pod      string
	order    []int32 // every arrival, duplicates included
	seen     []bool
	distinct int
}

// newSeqCollector expects the writers' lines: path → pod.
func newSeqCollector(pods map[string]string) *seqCollector {
	c := &seqCollector{paths: map[string]*pathSeqs{}}
	for path, pod := range pods {
		c.paths[path] = &pathSeqs{pod: pod}
	}
	return c
}

func (c *seqCollector) problem(format string, args ...any) {
	c.nProblem++
	if len(c.problems) < 10 {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
}

// add takes one output record.
func (c *seqCollector) add(r outRecord) {
	p := c.paths[r.Path]
	if p == nil {
		c.problem("record from unexpected path %q (a rotated file read as a new one?): %q", r.Path, r.Message)
		return
	}
	pod, seq, ok := parseMessage(r.Message)
	if !ok {
		c.problem("%s offset %d: message %q is not a writer line", r.Path, r.Offset, r.Message)
		return
	}
	if want := string(appendMessage(nil, p.pod, seq)); r.Message != want || pod != p.pod {
		c.problem("%s offset %d: message %q, want %q", r.Path, r.Offset, r.Message, want)
		return
	}
	if r.Stream != "stdout" || len(r.Flags) > 0 {
		c.problem("%s offset %d: stream %q flags %v, want stdout and none", r.Path, r.Offset, r.Stream, r.Flags)
	}
	for seq >= len(p.seen) {
		p.seen = append(p.seen, make([]bool, max(1024, len(p.seen)))...)
	}
	if !p.seen[seq] {
		p.seen[seq] = true
		p.distinct++
	}
	p.order = append(p.order, int32(seq))
}

// parseMessage reads pod and number from `p=<pod> seq=<9 digits> ...`.
func parseMessage(m string) (string, int, bool) {
	rest, ok := strings.CutPrefix(m, "p=")
	if !ok {
		return "", 0, false
	}
	pod, rest, ok := strings.Cut(rest, " seq=")
	if !ok || len(rest) < 10 || rest[9] != ' ' {
		return "", 0, false
	}
	seq, err := strconv.Atoi(rest[:9])
	return pod, seq, err == nil && seq >= 0
}

// complete reports whether every path has every line its writer wrote.
func (c *seqCollector) complete(want map[string]int) bool {
	for path, n := range want {
		if p := c.paths[path]; p == nil || p.distinct < n {
			return false
		}
	}
	return true
}

// progress renders distinct/wanted per path, for messages.
func (c *seqCollector) progress(want map[string]int) string {
	var parts []string
	for path, n := range want {
		parts = append(parts, fmt.Sprintf("%s: %d/%d", c.paths[path].pod, c.paths[path].distinct, n))
	}
	return strings.Join(parts, ", ")
}

// seqReport is what arrived from one writer of n lines.
type seqReport struct {
	n           int
	records     int // arrivals, duplicates included
	duplicates  int // arrivals of a number that had arrived before
	firstDup    int // the first duplicate's number, -1 if none
	missing     int
	firstMiss   int    // lowest missing number, -1 if none
	orderBreaks int    // first arrivals that came after a higher number's first arrival
	firstBreak  string // where the first break was
	gaps        int    // places where the next arrival is not the previous one + 1
}

func (p *pathSeqs) report(n int) seqReport {
	r := seqReport{n: n, records: len(p.order), firstMiss: -1, firstDup: -1}
	first := make([]bool, max(n, len(p.seen)))
	maxFirst := int32(-1)
	for i, s := range p.order {
		if i > 0 && s != p.order[i-1]+1 {
			r.gaps++
		}
		if first[s] {
			if r.duplicates == 0 {
				r.firstDup = int(s)
			}
			r.duplicates++
			continue
		}
		first[s] = true
		if s < maxFirst {
			if r.orderBreaks == 0 {
				r.firstBreak = fmt.Sprintf("arrival %d: seq %d came after seq %d", i, s, maxFirst)
			}
			r.orderBreaks++
		}
		maxFirst = max(maxFirst, s)
	}
	for s := 0; s < n; s++ {
		if !first[s] {
			if r.firstMiss < 0 {
				r.firstMiss = s
			}
			r.missing++
		}
	}
	return r
}

// exactlyOnceInOrder reports whether the arrivals were 0, 1, ..., n-1.
func (r seqReport) exactlyOnceInOrder() bool {
	return r.records == r.n && r.duplicates == 0 && r.missing == 0 && r.gaps == 0
}

func (r seqReport) String() string {
	s := fmt.Sprintf("%d lines written, %d records, %d duplicates", r.n, r.records, r.duplicates)
	if r.duplicates > 0 {
		s += fmt.Sprintf(" (first duplicate seq %d)", r.firstDup)
	}
	s += fmt.Sprintf(", %d missing", r.missing)
	if r.missing > 0 {
		s += fmt.Sprintf(" (first missing seq %d)", r.firstMiss)
	}
	s += fmt.Sprintf(", %d out-of-order first arrivals", r.orderBreaks)
	if r.orderBreaks > 0 {
		s += " (" + r.firstBreak + ")"
	}
	return s + fmt.Sprintf(", %d discontinuities", r.gaps)
}

// podLines collects writer lines from the output by their pod tag, in
// arrival order, whatever path they came from.
type podLines struct {
	out  *outputReader
	byID map[string]*pathSeqs
}

func newPodLines(outPath string) *podLines {
	return &podLines{out: &outputReader{path: outPath}, byID: map[string]*pathSeqs{}}
}

func (p *podLines) poll(t *testing.T) {
	t.Helper()
	err := p.out.poll(func(r outRecord) {
		pod, seq, ok := parseMessage(r.Message)
		if !ok {
			t.Errorf("output record %q is not a writer line", r.Message)
			return
		}
		ps := p.byID[pod]
		if ps == nil {
			ps = &pathSeqs{pod: pod}
			p.byID[pod] = ps
		}
		for seq >= len(ps.seen) {
			ps.seen = append(ps.seen, make([]bool, max(1024, len(ps.seen)))...)
		}
		if !ps.seen[seq] {
			ps.seen[seq] = true
			ps.distinct++
		}
		ps.order = append(ps.order, int32(seq))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (p *podLines) distinct(pod string) int {
	if ps := p.byID[pod]; ps != nil {
		return ps.distinct
	}
	return 0
}

// wait waits until n distinct lines tagged pod have arrived.
func (p *podLines) wait(t *testing.T, pod string, n int) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d %s lines", n, pod), func() (bool, error) {
		p.poll(t)
		return p.distinct(pod) >= n, nil
	}, func() string { return fmt.Sprintf("%d arrived", p.distinct(pod)) })
}

// waitUpTo is wait without failing: lines that do not come are reported
// by the checks that follow.
func (p *podLines) waitUpTo(t *testing.T, pod string, n int, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if p.poll(t); p.distinct(pod) >= n {
			return
		}
	}
}

func (p *podLines) report(pod string, n int) seqReport {
	ps := p.byID[pod]
	if ps == nil {
		ps = &pathSeqs{pod: pod}
	}
	return ps.report(n)
}

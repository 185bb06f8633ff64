package file

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/osfile"
	"github.com/sluicelog/sluice/record"
)

// The model test replays random sequences of what kubelet, container
// runtimes, log rotators and node operators do to log files while the tailer
// runs: appends (whole lines, "P" chunks, lines cut across two writes, CRLF),
// rename+create rotation, rotation whose old file is then deleted,
// copytruncate, kubelet's rotation (gzip of older rotated files, pruning
// beyond max files 5 or 2, in half of the sequences and then for every
// file), graceful restarts and crashes, a consumer that stalls for a while,
// and a batch answered with a nack. A model of what was written is compared
// with what the tailer emitted:
//
//	(a) every written line is emitted at least once, unless kubelet pruned
//	    its file before the tailer could read it: while sluice was stopped,
//	    or while it ran but had neither opened nor been handed the file;
//	(b) without copytruncate, crash or nack, exactly once, unless a start
//	    found a checkpointed file gone (see start);
//	(c) per source path, first occurrences come in write order;
//	(d) every emitted body is a line that was written, whole, to that path;
//	(e) every line of a nacked batch is emitted again after it, unless its
//	    file was gone from the disk by then.
//
// The sequences avoid what no tailer can survive, so a failure is a bug:
//   - a rotated file is deleted only once all its lines were emitted;
//   - a file is rotated only once the running tailer has seen it (kubelet
//     rotates at 10 MiB, not within a discovery interval), and copytruncated
//     only once the tailer has read a line of it (a truncation is seen only
//     below a read offset past 0) or all its lines were emitted;
//   - a copytruncated file does not grow back past the old read offset before
//     the tailer has had a chance to notice the truncation, and a graceful
//     stop waits for that too: a rename while stopped would otherwise be the
//     second rotation sluice missed;
//   - while sluice is down a file is rotated at most once, and only if the
//     stop was graceful (see the known limitations in the package doc);
//   - a crash comes at least two checkpoints after the last copytruncate
//     (see awaitCheckpoints);
//   - kubelet rotates a file while sluice is down only if the checkpoint
//     knows the file (or a later rotation in the same stop), and never a
//     file with a dangling "P" chunk;
//   - a file that kubelet pruned while the running tailer held it is read
//     to its end before the tailer stops (a stopped tailer cannot come back
//     to a deleted file);
//   - a nack is settled (its lines emitted again) before any op other than
//     an append, and a stall ends before a stop; during a stall only
//     appends and kubelet rotations happen.
//
// Re-run one sequence with SLUICE_MODEL_SEED=<n> (or a range, <n>-<m>);
// SLUICE_MODEL_OPS sets the number of operations per sequence. The subtests
// are named seed=<n>, so -run 'TestModel/seed=17$' works as well.

// modelEnvSeed and modelEnvOps are the environment variables that choose
// which sequences TestModel runs.
const (
	modelEnvSeed = "SLUICE_MODEL_SEED"
	modelEnvOps  = "SLUICE_MODEL_OPS"
)

func TestModel(t *testing.T) {
	first, count, ops := uint64(1), 30, 40
	if testing.Short() {
		count, ops = 8, 25
	}
	if s := os.Getenv(modelEnvSeed); s != "" {
		lo, hi, err := parseSeedRange(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", modelEnvSeed, s, err)
		}
		first, count = lo, int(hi-lo+1)
	}
	if s := os.Getenv(modelEnvOps); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", modelEnvOps, s)
		}
		ops = n
	}
	for seed := first; seed < first+uint64(count); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			nFiles, seq := genModelOps(rand.New(rand.NewPCG(seed, 0x51c3)), ops)
			runModel(t, fmt.Sprintf("seed %d (re-run: %s=%d go test -run 'TestModel/seed=%d$' ./inputs/file/)", seed, modelEnvSeed, seed, seed), nFiles, seq)
		})
	}
}

// TestModelCases replays fixed sequences: rotation, restart and
// truncation cases that the random sequences reach only by chance.
func TestModelCases(t *testing.T) {
	lines := func(n int) []modelLineSpec {
		out := make([]modelLineSpec, n)
		for i := range out {
			out[i] = modelLineSpec{chunks: 1, pad: 20 + i}
		}
		return out
	}
	app := func(f, n int) modelOp { return modelOp{kind: opAppend, file: f, lines: lines(n)} }
	pause := func(o modelOp, d time.Duration) modelOp { o.pause = d; return o }
	for _, tc := range []struct {
		name   string
		nFiles int
		ops    []modelOp
	}{
		{"partial line across rename rotation", 1, []modelOp{
			{kind: opAppend, lines: []modelLineSpec{{chunks: 1}, {chunks: 3}}, dangling: true},
			{kind: opRotate}, app(0, 3),
		}},
		{"partial line across graceful restart and rotation while stopped", 1, []modelOp{
			pause(modelOp{kind: opAppend, lines: []modelLineSpec{{chunks: 1}, {chunks: 2}}, dangling: true}, 50*time.Millisecond),
			{kind: opStop}, {kind: opRotate}, {kind: opStart}, app(0, 2),
		}},
		{"line cut across two writes", 1, []modelOp{
			{kind: opAppend, lines: []modelLineSpec{{chunks: 1, pad: 40}, {chunks: 2, crlf: true}}, split: 500, splitPause: 30 * time.Millisecond},
		}},
		{"copytruncate twice", 1, []modelOp{
			pause(app(0, 5), 50*time.Millisecond), {kind: opCopyTruncate}, app(0, 2),
			pause(app(0, 3), 50*time.Millisecond), {kind: opCopyTruncate}, app(0, 4),
		}},
		{"copytruncate while stopped", 1, []modelOp{
			pause(app(0, 5), 50*time.Millisecond), {kind: opStop}, app(0, 2), {kind: opCopyTruncate}, app(0, 1), {kind: opStart}, app(0, 2),
		}},
		{"crash then rotations", 2, []modelOp{
			app(0, 10), app(1, 10), {kind: opCrash}, app(0, 3), {kind: opStart},
			{kind: opRotateDelete}, {kind: opRotate, file: 1}, app(0, 2), app(1, 2),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runModel(t, "fixed sequence", tc.nFiles, tc.ops)
		})
	}
}

func parseSeedRange(s string) (lo, hi uint64, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = strconv.ParseUint(a, 10, 64); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = strconv.ParseUint(b, 10, 64); err != nil {
			return 0, 0, err
		}
	}
	if hi < lo || hi-lo > 10000 {
		return 0, 0, fmt.Errorf("bad range %d-%d", lo, hi)
	}
	return lo, hi, nil
}

type modelOpKind int

const (
	opAppend       modelOpKind = iota
	opRotate                   // rename to <name>.<YYYYMMDD-hhmmss>.<n>, create a new empty file
	opRotateDelete             // opRotate, then delete the renamed file once its lines were emitted
	opCopyTruncate             // copy to <name>.<YYYYMMDD-hhmmss>.<n>, truncate to 0
	opStop                     // stop the tailer gracefully: final checkpoint saved
	opCrash                    // stop the tailer without its final checkpoint
	opStart                    // start a new tailer on the same folder
	opKubelet                  // kubelet's rotation: prune, gzip, rename to <name>.<YYYYMMDD-hhmmss>
	opStall                    // the consumer stops taking batches
	opResume                   // the consumer takes batches again
	opNack                     // the next batch the consumer takes is answered with a nack
)

var modelOpNames = [...]string{"append", "rotate", "rotate+delete", "copytruncate", "stop", "crash", "start", "kubelet", "stall", "resume", "nack"}

// modelOp is one step of a sequence, fully decided when the sequence is
// generated so that a seed, or a table row, always means the same writes.
type modelOp struct {
	kind       modelOpKind
	file       int
	lines      []modelLineSpec // opAppend
	dangling   bool            // opAppend: the last line's final "F" chunk is left for the next append
	split      int             // opAppend: if > 0, the text is written in two appends cut at split‰ of its length
	splitPause time.Duration   // opAppend: pause between the two appends
	pause      time.Duration   // after the op
	maxFiles   int             // opKubelet: kubelet's containerLogMaxFiles
}

// modelLineSpec shapes one written line.
type modelLineSpec struct {
	chunks int  // 1: one "F" line; n > 1: n-1 "P" chunks, then "F"
	crlf   bool // the "F" chunk ends with "\r\n"
	stderr bool
	pad    int // body length beyond its numbered prefix
}

func (o modelOp) String() string {
	s := fmt.Sprintf("%s f%d", modelOpNames[o.kind], o.file)
	switch o.kind {
	case opStop, opCrash, opStart, opStall, opResume, opNack:
		s = modelOpNames[o.kind]
	case opKubelet:
		s += fmt.Sprintf(" max %d", o.maxFiles)
	}
	if o.kind == opAppend {
		var parts []string
		for _, l := range o.lines {
			p := fmt.Sprintf("%dc/%d", l.chunks, l.pad)
			if l.crlf {
				p += "/crlf"
			}
			if l.stderr {
				p += "/err"
			}
			parts = append(parts, p)
		}
		s += " [" + strings.Join(parts, " ") + "]"
		if o.dangling {
			s += " dangling"
		}
		if o.split > 0 {
			s += fmt.Sprintf(" split@%d‰ pause %v", o.split, o.splitPause)
		}
	}
	if o.pause > 0 {
		s += fmt.Sprintf(" +%v", o.pause)
	}
	return s
}

// genModelOps draws a sequence of n operations on 1-3 files. A third of the
// sequences have no copytruncate and no crash (nor nack), so that
// exactly-once delivery is checked too. Half of them rotate every file the
// way kubelet does, with max files 5 or, in a third of those, 2.
func genModelOps(rng *rand.Rand, n int) (int, []modelOp) {
	nFiles := 1 + rng.IntN(3)
	g := &modelGen{rng: rng, running: true, clean: rng.IntN(3) == 0}
	if rng.IntN(2) == 0 {
		g.kube = 5
		if rng.IntN(3) == 0 {
			g.kube = 2
		}
		if !kubeletModel {
			g.kube = 0
		}
	}
	g.exists, g.dangling, g.rotatedWhile = make([]bool, nFiles), make([]bool, nFiles), make([]bool, nFiles)
	ops := make([]modelOp, 0, n)
	for len(ops) < n {
		ops = append(ops, g.next(rng.IntN(nFiles)))
	}
	return nFiles, ops
}

// modelGen is what the generator tracks to draw only ops the model allows.
type modelGen struct {
	rng              *rand.Rand
	clean            bool // no copytruncate, no crash, no nack
	kube             int  // kubelet's max files when kubelet rotates every file, else 0
	running, crashed bool
	stalled          bool
	exists, dangling []bool
	rotatedWhile     []bool // rotated since the tailer stopped
}

type modelChoice struct {
	kind   modelOpKind
	weight int
}

// choices lists the ops allowed on file f now, with their weights.
func (g *modelGen) choices(f int) []modelChoice {
	c := []modelChoice{{opAppend, 50}}
	if g.kube > 0 && g.exists[f] && !g.dangling[f] {
		c = append(c, modelChoice{opKubelet, 14})
	}
	if g.stalled {
		return append(c, modelChoice{opResume, 8})
	}
	if g.running {
		c = append(c, modelChoice{opStall, 3})
		if !g.clean {
			c = append(c, modelChoice{opNack, 3})
		}
	}
	if g.kube == 0 && g.exists[f] && (g.running || (!g.crashed && !g.rotatedWhile[f])) {
		c = append(c, modelChoice{opRotate, 8})
		if g.running && !g.dangling[f] {
			c = append(c, modelChoice{opRotateDelete, 6})
		}
		if !g.clean && !g.dangling[f] {
			c = append(c, modelChoice{opCopyTruncate, 7})
		}
	}
	switch {
	case !g.running:
		c = append(c, modelChoice{opStart, 25})
	case g.clean:
		c = append(c, modelChoice{opStop, 4})
	default:
		c = append(c, modelChoice{opStop, 4}, modelChoice{opCrash, 4})
	}
	return c
}

// next draws one op on file f and updates the state.
func (g *modelGen) next(f int) modelOp {
	choices, total := g.choices(f), 0
	for _, c := range choices {
		total += c.weight
	}
	o := modelOp{file: f}
	pick := g.rng.IntN(total)
	for _, c := range choices {
		if pick < c.weight {
			o.kind = c.kind
			break
		}
		pick -= c.weight
	}
	switch o.kind {
	case opAppend:
		o.lines = genModelLines(g.rng)
		g.exists[f] = true
		// A dangling "P" chunk follows a whole line, so that seeing that
		// line proves the tailer has the file.
		o.dangling = len(o.lines) > 1 && o.lines[len(o.lines)-1].chunks > 1 && g.rng.IntN(6) == 0
		g.dangling[f] = o.dangling
		if g.rng.IntN(4) == 0 {
			o.split = 1 + g.rng.IntN(999)
			o.splitPause = time.Duration(g.rng.IntN(31)) * time.Millisecond
		}
	case opRotate, opRotateDelete, opCopyTruncate:
		g.rotatedWhile[f] = g.rotatedWhile[f] || !g.running
	case opStop, opCrash:
		g.running, g.crashed = false, o.kind == opCrash
		clear(g.rotatedWhile)
	case opStart:
		g.running = true
	case opKubelet:
		o.maxFiles = g.kube
	case opStall:
		g.stalled = true
	case opResume:
		g.stalled = false
	}
	if g.rng.IntN(2) == 0 {
		o.pause = time.Duration(g.rng.IntN(51)) * time.Millisecond
	}
	return o
}

func genModelLines(rng *rand.Rand) []modelLineSpec {
	out := make([]modelLineSpec, 1+rng.IntN(12))
	for i := range out {
		l := modelLineSpec{chunks: 1, pad: rng.IntN(80)}
		if rng.IntN(10) == 0 {
			l.pad = 200 + rng.IntN(600)
		}
		if rng.IntN(5) == 0 {
			l.chunks = 2 + rng.IntN(3)
		}
		l.crlf = rng.IntN(6) == 0
		l.stderr = rng.IntN(4) == 0
		out[i] = l
	}
	return out
}

// modelLine is one line the model wrote.
type modelLine struct {
	body string
	path string
	seq  int // write order (over all paths, so also within one)
	inc  int // incarnation holding the line's last byte
}

// modelFile is one source path and what the model knows about its current
// incarnation (the file since its last rotation or truncation).
type modelFile struct {
	path     string
	exists   bool
	size     int64
	inc      int
	nextSeq  int
	dangling string // the final chunk of a dangling line, written by the next append
	openedBy int    // generation of a tailer known to have opened this incarnation
	readBy   int    // generation of a tailer that emitted a line of this incarnation
	// while stopped: what the last tailer had done with this incarnation
	knownAtStop, readAtStop bool
	// kubelet's rotation: its rotator, the incarnations in its rotated
	// files (plain or .gz) oldest first, and whether it rotated this file
	// since the tailer stopped
	kube             *kubelet
	rotated          []int
	kubeWhileStopped bool
}

// modelRun executes a sequence against a harness and checks the invariants.
type modelRun struct {
	t      *testing.T
	h      *harness
	files  []*modelFile
	lines  []modelLine
	byBody map[string]int
	log    []string

	running  bool
	crashed  bool // the last stop was a crash
	gen      int  // tailer generation, incremented at every start
	startIdx int  // records before this index came from earlier tailers
	seen     int  // records already scanned for readBy
	observed map[string]bool
	incs     int
	rotNo    int
	clock    time.Time                  // names of rotated files
	ts       int                        // CRI timestamps
	dirty    []string                   // why exactly-once does not apply
	ran      [len(modelOpNames) + 1]int // ops run by kind, then ops skipped

	// one copytruncate at a time waits for the tailer to notice it
	truncFile, truncWant int
	// the running tailer's last checkpoint time when it last saw a
	// copytruncate: a crash waits for two checkpoints after it
	truncSave time.Time
	truncSeen bool

	kubeOps   bool               // kubelet rotates the files
	content   map[int][]byte     // what was written to each incarnation
	ino       map[int]osfile.ID  // each incarnation's identity
	lastSaved []checkpoint.Entry // the checkpoint at the last stop
	known     map[int]int        // incarnation -> generation of the tailer known to have it
	gone      map[int]bool       // incarnations kubelet pruned
	excused   map[int]bool       // pruned incarnations whose unread lines are really gone
	mustRead  []int              // pruned incarnations the running tailer held: read before it stops

	// the consumer's answers, set by the model and read by the consumer
	amu       sync.Mutex
	gate      chan struct{} // while set, the consumer waits before answering
	nackArmed bool          // the next batch is nacked
	nacks     []modelNack   // batches answered with a nack
	settled   int           // nacks whose lines were seen again
}

// modelNack is a nacked batch: records [from, to) of the harness.
type modelNack struct{ from, to int }

// runModel runs ops on nFiles files; what names the sequence in failure
// messages.
func runModel(t *testing.T, what string, nFiles int, ops []modelOp) {
	// The tailer's log is shown with a failure: it says which file was
	// read from where.
	tlog := &syncBuffer{}
	h := newHarness(t, "", func(c *Config) {
		c.RotateWait = 100 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(tlog, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	m := &modelRun{
		t: t, h: h, byBody: map[string]int{}, observed: map[string]bool{},
		clock: time.Date(2026, 11, 26, 0, 54, 7, 0, time.UTC), truncFile: -1,
		known: map[int]int{}, gone: map[int]bool{}, excused: map[int]bool{}, content: map[int][]byte{},
		ino: map[int]osfile.ID{},
	}
	for _, o := range ops {
		m.kubeOps = m.kubeOps || o.kind == opKubelet
	}
	// A failure while stalled must not leave the consumer waiting: the
	// harness's cleanup stops the tailer and waits for the consumer.
	defer m.resume()
	for i := 0; i < nFiles; i++ {
		m.files = append(m.files, &modelFile{path: filepath.Join(h.dir, fmt.Sprintf("%d.log", i))})
	}
	defer func() {
		if t.Failed() {
			t.Logf("%s, %d files, ops and notes:\n\t%s", what, nFiles, strings.Join(m.log, "\n\t"))
			t.Logf("the tailer's log:\n%s", tlog.String())
		}
	}()
	m.start()
	for _, o := range ops {
		m.log = append(m.log, fmt.Sprintf("%s (records: %d)", o, len(m.h.records())))
		m.do(o)
		if t.Failed() {
			m.check()
			return
		}
		if o.pause > 0 {
			time.Sleep(o.pause)
		}
	}
	m.finish()
}

func (m *modelRun) note(format string, args ...any) {
	m.log = append(m.log, "  "+fmt.Sprintf(format, args...))
}

// skip notes that the current op was left out, and why.
func (m *modelRun) skip(why string) {
	m.note("skipped: %s", why)
	m.ran[len(m.ran)-1]++
}

func (m *modelRun) do(o modelOp) {
	f := m.files[o.file]
	m.ran[o.kind]++
	switch o.kind {
	case opAppend:
		m.append(f, o)
	case opRotate, opRotateDelete, opCopyTruncate:
		if !f.exists {
			m.skip("no file yet")
			return
		}
		if !m.mayRotate(f, o.kind) {
			return
		}
		m.rotate(f, o.kind)
	case opStop:
		m.stop(false)
	case opCrash:
		m.stop(true)
	case opStart:
		m.start()
	case opKubelet:
		m.settleNacks()
		if !f.exists {
			m.skip("no file yet")
			return
		}
		if !m.mayKubelet(f) {
			return
		}
		m.kubeletRotate(f, o)
	case opStall:
		m.settleNacks()
		// A copytruncate the blocked tailer cannot look at would be
		// written past before it is noticed.
		m.awaitTruncation()
		m.amu.Lock()
		if m.gate == nil {
			m.gate = make(chan struct{})
		}
		m.amu.Unlock()
	case opResume:
		m.resume()
	case opNack:
		m.settleNacks()
		m.amu.Lock()
		m.nackArmed = true
		m.amu.Unlock()
	}
}

// answer is the consumer's answer to batch n: it waits while stalled, then
// acknowledges it, or nacks it when armed to.
func (m *modelRun) answer(n int, b *record.Batch) {
	m.amu.Lock()
	gate := m.gate
	m.amu.Unlock()
	if gate != nil {
		<-gate
	}
	m.amu.Lock()
	nack := m.nackArmed
	if nack {
		m.nackArmed = false
		// The consumer appended b's records before answering, and no one
		// else appends.
		m.h.mu.Lock()
		end := len(m.h.recs)
		m.h.mu.Unlock()
		m.nacks = append(m.nacks, modelNack{from: end - len(b.Records), to: end})
	}
	m.amu.Unlock()
	if nack {
		b.Nack()
		return
	}
	b.Ack()
}

// resume lets a stalled consumer go on.
func (m *modelRun) resume() {
	m.amu.Lock()
	defer m.amu.Unlock()
	if m.gate != nil {
		close(m.gate)
		m.gate = nil
	}
}

func (m *modelRun) stalled() bool {
	m.amu.Lock()
	defer m.amu.Unlock()
	return m.gate != nil
}

// settleNacks disarms a nack that has not been used and waits until the
// lines of every nacked batch were emitted again, unless their file is
// gone from the disk.
func (m *modelRun) settleNacks() {
	m.amu.Lock()
	if m.nackArmed {
		m.nackArmed = false
		m.note("the nack was not used")
	}
	nacks := m.nacks[m.settled:]
	m.settled = len(m.nacks)
	m.amu.Unlock()
	for _, n := range nacks {
		m.dirty = append(m.dirty, "nack")
		m.note("nacked records %d-%d", n.from, n.to-1)
		m.waitUntil(fmt.Sprintf("nacked records %d-%d to be emitted again", n.from, n.to-1), 10*time.Second, func() bool {
			return len(m.missingAfterNack(m.h.records(), n)) == 0
		})
	}
}

// missingAfterNack lists the lines of a nacked batch not emitted again
// after it, leaving out those whose file is gone.
func (m *modelRun) missingAfterNack(recs []record.Record, n modelNack) []string {
	again := map[string]bool{}
	for _, r := range recs[min(n.to, len(recs)):] {
		again[string(r.Body)] = true
	}
	var out []string
	for _, r := range recs[n.from:n.to] {
		idx, ok := m.byBody[string(r.Body)]
		if !ok || again[string(r.Body)] {
			continue
		}
		if inc := m.lines[idx].inc; m.isGone(inc) {
			continue
		}
		out = append(out, string(r.Body))
	}
	return out
}

// isGone reports whether kubelet pruned incarnation inc.
func (m *modelRun) isGone(inc int) bool { return m.gone[inc] }

// mayKubelet waits until kubelet's rotation of f cannot lose lines that the
// tailer could have kept, or reports (while stopped) that it is skipped.
func (m *modelRun) mayKubelet(f *modelFile) bool {
	if !m.running {
		if !f.knownAtStop && !f.kubeWhileStopped {
			m.skip("the checkpoint does not know this file")
			return false
		}
		return true
	}
	if f.size == 0 {
		return true
	}
	if _, known := tailerHolds(f.path); !known && m.stalled() {
		m.skip("while stalled, that the tailer opened the file cannot be told")
		return false
	}
	ok := m.waitUntil("the tailer to open the file", 5*time.Second, func() bool {
		m.scan()
		held, _ := tailerHolds(f.path)
		return f.openedBy == m.gen || f.readBy == m.gen || held
	})
	if ok {
		m.known[f.inc] = m.gen
	}
	return ok
}

// kubeletRotate rotates f as kubelet does and notes which incarnations its
// pruning removed, and whether their unread lines are really gone.
func (m *modelRun) kubeletRotate(f *modelFile, o modelOp) {
	if f.kube == nil {
		f.kube = newKubelet(m.t, o.maxFiles)
	}
	if n := len(f.rotated) - (f.kube.maxFiles - 2); n > 0 {
		names := kubeletRotated(m.t, f.path)
		if len(names) != len(f.rotated) {
			m.t.Fatalf("model: %d rotated files of %s on disk, %d in the model: %q", len(names), f.path, len(f.rotated), names)
		}
		for i, inc := range f.rotated[:n] {
			m.prune(inc, names[i])
		}
		f.rotated = f.rotated[n:]
	}
	f.kube.rotate(f.path)
	if id, err := osfile.StatID(f.path); err == nil {
		m.note("#%d rotated; #%d is ino %d", f.inc, m.incs+1, id.Ino)
	}
	f.rotated = append(f.rotated, f.inc)
	m.incs++
	f.inc, f.size, f.readBy, f.openedBy, f.readAtStop, f.knownAtStop = m.incs, 0, 0, 0, false, false
	if !m.running {
		f.kubeWhileStopped = true
	}
}

// kubeletRotated lists the rotated files of log that hold content of their
// own (not a .tmp, nor a plain file whose .gz exists), oldest first, as
// kubelet sees them before pruning.
func kubeletRotated(t *testing.T, log string) []string {
	t.Helper()
	all, err := filepath.Glob(log + ".*")
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, p := range all {
		has[p] = true
	}
	var out []string
	for _, p := range all {
		if !strings.HasSuffix(p, ".tmp") && (strings.HasSuffix(p, ".gz") || !has[p+".gz"]) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// prune notes that kubelet is about to remove incarnation inc, now at
// name. The tailer must still read it if it runs and had it: opened, read
// from, or held by the process now (plain, deleted plain, or its .gz).
func (m *modelRun) prune(inc int, name string) {
	m.scan()
	unread := 0
	for _, l := range m.lines {
		if l.inc == inc && !m.observed[l.body] {
			unread++
		}
	}
	m.gone[inc] = true
	held := false
	if m.running {
		plain := strings.TrimSuffix(name, ".gz")
		held, _ = tailerHolds(plain, plain+".gz")
	}
	if m.running && (m.known[inc] == m.gen || held) {
		m.note("pruned #%d, held by the tailer, %d lines not yet emitted", inc, unread)
		m.mustRead = append(m.mustRead, inc)
		return
	}
	m.note("pruned #%d before the tailer had it: %d lines not emitted are gone", inc, unread)
	m.excused[inc] = true
}

// awaitPruned waits until the tailer has emitted every line of the files
// that were pruned while it held them.
func (m *modelRun) awaitPruned() {
	if len(m.mustRead) == 0 {
		return
	}
	m.waitUntil("the lines of pruned files the tailer held", 10*time.Second, func() bool {
		for _, inc := range m.mustRead {
			if !m.allRead(inc) {
				return false
			}
		}
		return true
	})
	m.mustRead = nil
}

// mayRotate waits until rotating f cannot lose lines that any tailer could
// have kept, or reports (while stopped) that the op is skipped.
func (m *modelRun) mayRotate(f *modelFile, kind modelOpKind) bool {
	if !m.running && m.crashed {
		m.skip("a file rotated after a crash is found only if the checkpoint had caught up")
		return false
	}
	if !m.running {
		// The restarted tailer finds the rotated file only through the
		// checkpoint of the file the last tailer had open; a copytruncate
		// is noticed only if the checkpoint's offset is inside the old
		// content, which a line read from it proves.
		ok := f.knownAtStop
		if kind == opCopyTruncate {
			ok = ok && (f.size == 0 || f.readAtStop || m.allRead(f.inc))
		}
		if !ok {
			m.skip("the stopped tailer had not read this file")
		}
		return ok
	}
	if kind == opCopyTruncate {
		// One copytruncate at a time is awaited.
		m.awaitTruncation()
	}
	if f.size == 0 {
		return true
	}
	what := "the tailer to open the file"
	cond := func() bool { m.scan(); return f.openedBy == m.gen || f.readBy == m.gen }
	if kind == opCopyTruncate {
		// The truncation is noticed only below a read offset past 0.
		what = "the tailer to read a line of the file"
		cond = func() bool { m.scan(); return f.readBy == m.gen || m.allRead(f.inc) }
	}
	return m.waitUntil(what, 5*time.Second, cond)
}

func (m *modelRun) append(f *modelFile, o modelOp) {
	if m.running && m.truncFile >= 0 && m.files[m.truncFile] == f {
		m.awaitTruncation()
	}
	var b strings.Builder
	if f.dangling != "" {
		b.WriteString(f.dangling)
		f.dangling = ""
		// The dangling line ends in this incarnation.
		for i := len(m.lines) - 1; i >= 0; i-- {
			if m.lines[i].path == f.path && m.lines[i].inc == -1 {
				m.lines[i].inc = f.inc
				break
			}
		}
	}
	for i, spec := range o.lines {
		body := fmt.Sprintf("f%s-l%05d-%s", strings.TrimSuffix(filepath.Base(f.path), ".log"), f.nextSeq, strings.Repeat("x", spec.pad))
		f.nextSeq++
		stream := "stdout"
		if spec.stderr {
			stream = "stderr"
		}
		chunks := cutBody(body, spec.chunks)
		var last string
		for j, c := range chunks {
			m.ts++
			tag, end := "P", "\n"
			if j == len(chunks)-1 {
				tag = "F"
				if spec.crlf {
					end = "\r\n"
				}
			}
			text := fmt.Sprintf("2026-11-26T00:54:07.%09dZ %s %s %s%s", m.ts, stream, tag, c, end)
			if j == len(chunks)-1 && o.dangling && i == len(o.lines)-1 {
				last = text
				continue
			}
			b.WriteString(text)
		}
		inc := f.inc
		if last != "" {
			f.dangling = last
			inc = -1
		}
		m.byBody[body] = len(m.lines)
		m.lines = append(m.lines, modelLine{body: body, path: f.path, seq: len(m.lines), inc: inc})
	}
	text := b.String()
	if o.split > 0 && len(text) > 1 {
		cut := 1 + (len(text)-1)*o.split/1000
		if cut >= len(text) {
			cut = len(text) - 1
		}
		m.write(f, text[:cut])
		time.Sleep(o.splitPause)
		text = text[cut:]
	}
	m.write(f, text)
}

// cutBody splits body into n non-empty chunks (fewer if it is too short).
func cutBody(body string, n int) []string {
	if n > len(body) {
		n = len(body)
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, body[i*len(body)/n:(i+1)*len(body)/n])
	}
	return out
}

// write appends text and closes the handle at once: Windows cannot rename or
// delete a file the writer holds open without delete sharing.
func (m *modelRun) write(f *modelFile, text string) {
	m.t.Helper()
	appendFile(m.t, f.path, text)
	f.exists = true
	f.size += int64(len(text))
	m.content[f.inc] = append(m.content[f.inc], text...)
	if _, ok := m.ino[f.inc]; !ok {
		id, err := osfile.StatID(f.path)
		if err != nil {
			m.t.Fatalf("identify %s: %v", f.path, err)
		}
		m.ino[f.inc] = id
	}
}

// rotate renames or copies f to a rotated name and starts a new incarnation.
func (m *modelRun) rotate(f *modelFile, kind modelOpKind) {
	t := m.t
	m.rotNo++
	m.clock = m.clock.Add(time.Second)
	old := fmt.Sprintf("%s.%s.%d", f.path, m.clock.Format("20060102-150405"), m.rotNo)
	oldInc, oldSize := f.inc, f.size
	switch kind {
	case opRotate, opRotateDelete:
		if err := os.Rename(f.path, old); err != nil {
			t.Fatalf("rotate: %v", err)
		}
		if err := os.WriteFile(f.path, nil, 0o644); err != nil {
			t.Fatalf("rotate: create: %v", err)
		}
	case opCopyTruncate:
		m.dirty = append(m.dirty, "copytruncate")
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatalf("copytruncate: %v", err)
		}
		if err := os.WriteFile(old, b, 0o644); err != nil {
			t.Fatalf("copytruncate: copy: %v", err)
		}
		if err := os.Truncate(f.path, 0); err != nil {
			t.Fatalf("copytruncate: truncate: %v", err)
		}
	}
	m.incs++
	f.inc, f.size, f.readBy, f.readAtStop = m.incs, 0, 0, false
	if kind == opRotate || kind == opRotateDelete {
		// A new file: a running tailer opens it on discovery.
		f.openedBy, f.knownAtStop = 0, false
	}
	if kind == opCopyTruncate {
		// The same file, still open in a running tailer; the new content
		// must not pass the old read offset before the tailer has seen
		// the file shrink.
		if m.running && oldSize > 0 {
			c := m.h.counts.Snapshot()
			m.truncFile, m.truncWant = m.fileIndex(f), c.Truncs+1
			m.truncSave, m.truncSeen = c.LastCheckpoint, true
		}
	}
	if kind != opRotateDelete {
		return
	}
	if !m.waitUntil("the rotated file to be read", 10*time.Second, func() bool { return m.allRead(oldInc) }) {
		return
	}
	if err := os.Remove(old); err != nil {
		t.Fatalf("delete rotated file: %v", err)
	}
}

func (m *modelRun) fileIndex(f *modelFile) int {
	for i, x := range m.files {
		if x == f {
			return i
		}
	}
	return -1
}

// awaitTruncation waits, within a bound, for the running tailer to count the
// last copytruncate. If it never does (it had read nothing of the file, so
// it cannot tell), the sequence goes on.
func (m *modelRun) awaitTruncation() {
	if m.truncFile < 0 {
		return
	}
	want := m.truncWant
	m.truncFile = -1
	deadline := time.Now().Add(2 * time.Second)
	for m.h.counts.Snapshot().Truncs < want {
		if time.Now().After(deadline) {
			m.note("the tailer did not count the truncation within 2s")
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (m *modelRun) stop(crash bool) {
	m.resume()
	m.settleNacks()
	m.awaitPruned()
	if crash {
		m.dirty = append(m.dirty, "crash")
		if m.truncSeen {
			m.awaitCheckpoints()
		}
		m.awaitSavedFiles()
		m.h.crash()
	} else {
		// A copytruncate the tailer has not noticed yet would make a
		// rotation while stopped the second one it missed.
		m.awaitTruncation()
		m.h.stop()
	}
	m.scan()
	saved := m.savedIDs()
	for _, f := range m.files {
		f.knownAtStop = f.openedBy == m.gen || f.readBy == m.gen
		f.readAtStop = f.readBy == m.gen
		f.kubeWhileStopped = false
		if m.kubeOps {
			// kubelet's rotations while stopped are followed from the
			// checkpoint: the file must be in it.
			id, err := osfile.StatID(f.path)
			f.knownAtStop = err == nil && saved[id]
		}
	}
	m.running, m.crashed, m.truncFile, m.truncSeen = false, crash, -1, false
}

// savedIDs lists the files the checkpoint on disk knows well enough to find
// them again after kubelet's rotations.
func (m *modelRun) savedIDs() map[osfile.ID]bool {
	entries, err := checkpoint.Load(m.h.cfg.CheckpointPath)
	if err != nil {
		m.t.Fatalf("load checkpoint: %v", err)
	}
	m.lastSaved = entries
	out := map[osfile.ID]bool{}
	for _, e := range entries {
		// A file empty when last looked at is saved with an empty
		// fingerprint: its inode alone cannot tell it from a later file
		// that reuses the inode once kubelet deleted it.
		out[osfile.ID{Dev: e.Dev, Ino: e.Ino}] = e.Fingerprint.Len() > 0
		m.note("checkpoint: %s ino %d offset %d size %d fingerprint %d bytes", filepath.Base(e.Path), e.Ino, e.Offset, e.Size, e.Fingerprint.Len())
	}
	return out
}

// awaitSavedFiles waits until the checkpoint on disk knows every file the
// running tailer has and has not emitted all lines of. A file opened and
// rotated between two checkpoints is otherwise unknown after a crash, and
// a rotated name says nothing about whether it was read: no tailer can
// find it.
func (m *modelRun) awaitSavedFiles() {
	m.waitUntil("the checkpoint to know every file with lines not emitted", 5*time.Second, func() bool {
		m.scan()
		entries, err := checkpoint.Load(m.h.cfg.CheckpointPath)
		if err != nil {
			return false
		}
		saved := map[osfile.ID]bool{}
		for _, e := range entries {
			saved[osfile.ID{Dev: e.Dev, Ino: e.Ino}] = true
		}
		for inc, id := range m.ino {
			if m.known[inc] == m.gen && !saved[id] && !m.gone[inc] && !m.allRead(inc) {
				return false
			}
		}
		return true
	})
}

// awaitCheckpoints waits for the second checkpoint after the last
// copytruncate (the first may have been taken before it). A checkpoint
// taken while a file was empty cannot tell, after a crash, whether the file
// then grew or was written, copied, truncated and written again, and a "P"
// chunk saved with it would be joined to a line it does not belong to. No
// tailer can tell, so the sequences leave that window out.
func (m *modelRun) awaitCheckpoints() {
	prev, n := m.truncSave, 0
	m.waitUntil("two checkpoints after the copytruncate", 5*time.Second, func() bool {
		if at := m.h.counts.Snapshot().LastCheckpoint; at.After(prev) {
			prev, n = at, n+1
		}
		return n >= 2
	})
	m.truncSeen = false
}

// start runs a new tailer and waits until its first discovery is done, which
// its first periodic checkpoint proves.
func (m *modelRun) start() {
	m.scan()
	m.startIdx = len(m.h.records())
	m.gen++
	m.h.answer = m.answer
	m.h.start()
	m.running = true
	m.waitUntil("the tailer's first checkpoint", 5*time.Second, func() bool {
		return !m.h.counts.Snapshot().LastCheckpoint.IsZero()
	})
	// A checkpointed file that is gone makes the tailer read the files
	// kubelet rotated in or after the second it was last read, by their
	// names. kubelet rotates a file at most every 10 s; the model's
	// rotations come faster, so that second can hold files already read.
	if m.kubeOps {
		m.checkLost()
	}
	for _, f := range m.files {
		if f.exists {
			f.openedBy = m.gen
			m.known[f.inc] = m.gen
		}
	}
}

// checkLost compares the checkpointed files the new tailer counted lost
// with those that are really gone: pruned by kubelet, or saved with an
// empty fingerprint (a file empty when last looked at) and compressed
// since, so nothing can find it. Every other one must be found.
func (m *modelRun) checkLost() {
	gone, empty := 0, 0
	for _, e := range m.lastSaved {
		if e.Fingerprint.Len() == 0 {
			empty++
			continue
		}
		if !m.onDisk(e) {
			gone++
		}
	}
	n := m.h.counts.Snapshot().Anomalies[SkipLostFile]
	if n > 0 {
		m.note("%d checkpointed files not found at start (%d pruned, %d with an empty fingerprint)", n, gone, empty)
	}
	if n > gone+empty {
		m.t.Errorf("(f) %d checkpointed files counted lost at start, but only %d were pruned and %d cannot be recognised", n, gone, empty)
	}
	// The files kubelet rotated in or after the second a lost file was
	// last read are read from their start. kubelet rotates a file at most
	// every 10 s; the model's rotations come faster, so that second can
	// hold a file that was read already.
	if n > gone {
		m.dirty = append(m.dirty, "a checkpointed file with an empty fingerprint was lost")
	}
}

// onDisk reports whether the incarnation whose head is e's fingerprint is
// still on disk, plain or compressed.
func (m *modelRun) onDisk(e checkpoint.Entry) bool {
	for inc, c := range m.content {
		if !m.gone[inc] && int64(len(c)) >= e.Offset && e.Fingerprint.Matches(c) {
			return true
		}
	}
	return false
}

// crash ends the tailer without the final checkpoint a graceful stop
// saves; what the periodic checkpoint saved before stays.
func (h *harness) crash() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.done
	h.cancel = nil
}

// scan notes which incarnations the running tailer has emitted lines of.
func (m *modelRun) scan() {
	recs := m.h.records()
	for i := m.seen; i < len(recs); i++ {
		idx, ok := m.byBody[string(recs[i].Body)]
		if !ok {
			continue
		}
		m.observed[m.lines[idx].body] = true
		if i < m.startIdx {
			continue
		}
		if inc := m.lines[idx].inc; inc >= 0 {
			m.known[inc] = m.gen
		}
		for _, f := range m.files {
			if f.path == m.lines[idx].path && f.inc == m.lines[idx].inc {
				f.readBy = m.gen
			}
		}
	}
	m.seen = len(recs)
}

// allRead reports whether every line ending in incarnation inc was emitted.
func (m *modelRun) allRead(inc int) bool {
	m.scan()
	for _, l := range m.lines {
		if l.inc == inc && !m.observed[l.body] {
			return false
		}
	}
	return true
}

func (m *modelRun) waitUntil(what string, d time.Duration, cond func() bool) bool {
	m.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			m.t.Errorf("timed out after %v waiting for %s; counts %+v", d, what, m.h.counts.Snapshot())
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// finish completes dangling lines, waits for every line and checks the
// invariants.
func (m *modelRun) finish() {
	t := m.t
	m.resume()
	if !m.running {
		m.log = append(m.log, "start (end of sequence)")
		m.start()
	}
	for i, f := range m.files {
		if f.dangling != "" {
			m.log = append(m.log, fmt.Sprintf("append f%d [] (end of sequence)", i))
			m.append(f, modelOp{kind: opAppend, file: i})
		}
	}
	m.settleNacks()
	if !m.waitUntil("every line", 15*time.Second, func() bool {
		m.scan()
		for _, l := range m.lines {
			if !m.observed[l.body] && !m.excused[l.inc] {
				return false
			}
		}
		return true
	}) {
		m.check()
		return
	}
	// Give late duplicates the time to show.
	time.Sleep(3 * m.h.cfg.DiscoverInterval)
	m.h.stop()
	m.check()
	if t.Failed() {
		return
	}
	var ran []string
	for k, n := range m.ran[:len(modelOpNames)] {
		ran = append(ran, fmt.Sprintf("%s %d", modelOpNames[k], n))
	}
	t.Logf("%d lines in %d files, %d records; ops: %s (%d of them skipped); %d incarnations pruned, %d of them unread",
		len(m.lines), len(m.files), len(m.h.records()), strings.Join(ran, ", "), m.ran[len(modelOpNames)], len(m.gone), len(m.excused))
}

func (m *modelRun) check() {
	t := m.t
	recs := m.h.records()
	count := make([]int, len(m.lines))
	at := make([][]int, len(m.lines))
	lastSeq := map[string]int{}
	var problems []string
	report := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for i, r := range recs {
		idx, ok := m.byBody[string(r.Body)]
		if !ok {
			report("(d) record %d: body never written: %q (path %s, offset %d, flags %b)", i, clip(string(r.Body)), filepath.Base(r.Path), r.Offset, r.Flags)
			continue
		}
		l := m.lines[idx]
		if r.Path != l.path {
			report("(d) record %d: %q written to %s arrived with path %s", i, clip(l.body), filepath.Base(l.path), filepath.Base(r.Path))
		}
		if r.Flags&(record.FlagSplit|record.FlagRaw|record.FlagNoNewline) != 0 {
			report("(d) record %d: %q has flags %b", i, clip(l.body), r.Flags)
		}
		count[idx]++
		at[idx] = append(at[idx], i)
		if count[idx] > 1 {
			continue
		}
		if last, ok := lastSeq[l.path]; ok && l.seq < last {
			report("(c) record %d: %q first arrived after a line written later to %s", i, clip(l.body), filepath.Base(l.path))
		}
		lastSeq[l.path] = l.seq
	}
	exactly := len(m.dirty) == 0
	excused := 0
	for i, l := range m.lines {
		switch {
		case count[i] == 0 && m.excused[l.inc]:
			excused++
		case count[i] == 0:
			report("(a) %q (%s) never arrived", clip(l.body), filepath.Base(l.path))
		case count[i] > 1 && exactly:
			report("(b) %q (%s) arrived %d times, at records %v", clip(l.body), filepath.Base(l.path), count[i], at[i])
		}
	}
	m.amu.Lock()
	nacks := append([]modelNack(nil), m.nacks...)
	m.amu.Unlock()
	for _, n := range nacks {
		for _, b := range m.missingAfterNack(recs, n) {
			report("(e) %q of the batch nacked at record %d was not emitted again", clip(b), n.from)
		}
	}
	if len(problems) > 0 {
		t.Errorf("%d records for %d lines (exactly once checked: %v, %d lines pruned unread); problems:\n\t%s", len(recs), len(m.lines), exactly, excused, strings.Join(problems, "\n\t"))
	}
}

// syncBuffer is a log destination for the tailer's goroutine that the test
// reads at the end.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// The tests below are sequences the model found, reduced to fixed steps.
// Settings that stop discovery (DiscoverInterval of an hour) or draining
// (RotateWait) make the tailer's state at each step certain; they stand for
// a file that is written to without pause, and for a stop that comes soon
// after a rotation.

// copyTruncate copies path to dst and truncates path, as logrotate's
// copytruncate does.
func copyTruncate(t *testing.T, path, dst string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}

func rotateFile(t *testing.T, path, dst string) {
	t.Helper()
	if err := os.Rename(path, dst); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "")
}

// A file truncated once has an empty head. Its fingerprint must grow as
// the file is read again, however busy the file: an empty one would match
// the first copy at the second copytruncate (that copy sorts first and is
// large enough), and the wrong copy would be read from the old offset.
func TestCopytruncateTwiceReadsTheNewCopy(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.DiscoverInterval = time.Hour })
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 10))
	h.start()
	h.waitCount(10)
	copyTruncate(t, path, path+".20261126-005407")
	h.waitFor("first truncation", func() bool { return h.counts.Snapshot().Truncs == 1 })
	appendFile(t, path, criLines(10, 12))
	h.waitCount(12)
	copyTruncate(t, path, path+".20261126-005408")
	h.waitFor("second truncation", func() bool { return h.counts.Snapshot().Truncs == 2 })
	appendFile(t, path, criLines(12, 13))
	h.waitFor("the last line", func() bool { return strings.Contains(strings.Join(h.bodies(), ","), "msg-12") })
	time.Sleep(50 * time.Millisecond)
	if got := h.bodies(); !equalStrings(got, msgs(0, 13)) {
		t.Fatalf("got %q, want msg-0..msg-12 once in order", tail(got, 20))
	}
}

// A checkpoint must hold a fingerprint that covers the offset it saves (up
// to the fingerprint's size). With the empty fingerprint of a file opened
// while empty, a file copytruncated while sluice is stopped and grown again
// still "starts with" it, and reading would resume at the old offset in the
// middle of the new content.
func TestCheckpointFingerprintCoversOffset(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.DiscoverInterval = time.Hour })
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, "")
	h.start()
	h.waitFor("the file opened", func() bool { return h.counts.Snapshot().Opens == 1 })
	appendFile(t, path, criLines(0, 10))
	h.waitCount(10)
	h.stop()
	entries, err := checkpoint.Load(h.cfg.CheckpointPath)
	if err != nil || len(entries) != 1 {
		t.Fatalf("checkpoint: %v, %d entries", err, len(entries))
	}
	if e := entries[0]; int64(e.Fingerprint.Len()) < min(e.Offset, fingerprint.DefaultSize) {
		t.Errorf("checkpoint vouches for offset %d with a fingerprint of %d bytes", e.Offset, e.Fingerprint.Len())
	}

	copyTruncate(t, path, path+".20261126-005407")
	appendFile(t, path, criLines(10, 30))
	h2 := newHarness(t, h.dir, func(c *Config) { c.DiscoverInterval = time.Hour })
	h2.start()
	h2.waitFor("the last line", func() bool { return strings.Contains(strings.Join(h2.bodies(), ","), "msg-29") })
	time.Sleep(50 * time.Millisecond)
	if got := h2.bodies(); !equalStrings(got, msgs(10, 30)) {
		t.Fatalf("after restart got %q, want msg-10..msg-29", tail(got, 30))
	}
}

// A checkpointed file that is gone at restart may be looked for as a copy
// by its fingerprint, but never by an empty one: that matches every rotated
// file, and an old rotated file, read long ago, would be read again from the
// saved offset.
func TestResumeIgnoresUnrelatedRotatedFile(t *testing.T) {
	edit := func(c *Config) { c.RotateWait = time.Second }
	h := newHarness(t, "", edit)
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 3))
	h.start()
	h.waitCount(3)
	rotateFile(t, path, path+".20261126-005407")
	h.waitFor("the rotated file drained", func() bool { return h.counts.Snapshot().Rotations == 1 })
	// The new file is rotated while empty and its rotated name removed:
	// nothing is lost, but the tailer still drains it when it stops.
	rotateFile(t, path, path+".20261126-005408")
	h.waitFor("the newest file opened", func() bool { return h.counts.Snapshot().Opens == 3 })
	if err := os.Remove(path + ".20261126-005408"); err != nil {
		t.Fatal(err)
	}
	h.stop()

	appendFile(t, path, criLines(3, 5))
	h2 := newHarness(t, h.dir, edit)
	h2.start()
	h2.waitCount(2)
	time.Sleep(100 * time.Millisecond)
	if got := h2.bodies(); !equalStrings(got, msgs(3, 5)) {
		t.Fatalf("after restart got %q, want msg-3, msg-4", got)
	}
}

// Two checkpointed files of one path can both have been renamed when sluice
// starts: here the path was rotated twice within rotate_wait, so both old
// files were still draining at the stop, and the older one holds a "P"
// chunk whose "F" is in the live file. Whatever the order of the saved
// entries, both must be drained oldest first and the line joined.
func TestResumeChainsEveryRotatedFile(t *testing.T) {
	for _, order := range []string{"oldest first", "newest first"} {
		t.Run(order, func(t *testing.T) {
			edit := func(c *Config) { c.RotateWait = time.Hour }
			h := newHarness(t, "", edit)
			path := filepath.Join(h.dir, "0.log")
			// The stderr line, once emitted, shows the chunk before it was read.
			appendFile(t, path, "2026-11-26T00:54:07Z stdout P first half, \n2026-11-26T00:54:07Z stderr F marker\n")
			h.start()
			h.waitCount(1)
			rotateFile(t, path, path+".20261126-005407")
			h.waitFor("the second file opened", func() bool { return h.counts.Snapshot().Opens == 2 })
			rotateFile(t, path, path+".20261126-005408")
			h.waitFor("the third file opened", func() bool { return h.counts.Snapshot().Opens == 3 })
			h.stop()
			// The checkpoint's order is that of a map; fix it.
			entries, err := checkpoint.Load(h.cfg.CheckpointPath)
			if err != nil || len(entries) != 3 {
				t.Fatalf("checkpoint: %v, %d entries", err, len(entries))
			}
			sort.SliceStable(entries, func(i, j int) bool {
				if order == "oldest first" {
					return len(entries[i].Partials) > len(entries[j].Partials)
				}
				return len(entries[i].Partials) < len(entries[j].Partials)
			})
			if err := checkpoint.Save(h.cfg.CheckpointPath, entries); err != nil {
				t.Fatal(err)
			}

			appendFile(t, path, "2026-11-26T00:54:08Z stdout F second half\n"+criLines(0, 3))
			h2 := newHarness(t, h.dir, edit)
			h2.start()
			h2.waitCount(4)
			time.Sleep(50 * time.Millisecond)
			want := append([]string{"first half, second half"}, msgs(0, 3)...)
			if got := h2.bodies(); !equalStrings(got, want) {
				t.Fatalf("after restart got %q, want %q", got, want)
			}
		})
	}
}

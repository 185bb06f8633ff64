package e2e

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/vlogs"
)

// The kubelet rotation tests run sluice as a node would under load: one
// container per pod whose 0.log a writer fills at kubeRate lines a second,
// rotated by kubelet's exact rotation (kubelet: rename, gzip, prune to
// max-files 5) about every 1.2 s, shipped over the Loki push API to a real
// VictoriaLogs, and read back from there.
//
// Every line must arrive. A missing line is one of four kinds, by what
// became of its file (its generation):
//   - lost: sluice held a copy when kubelet removed the last one (a removed
//     file stays readable on Linux while someone holds it open), or the
//     file is still on disk: sluice had the line and did not deliver it;
//   - dropped: kubelet pruned the file while no sluice held a copy, but
//     sluice had opened it before (seen in /proc/<pid>/fd, polled every
//     fdPoll) and let it go unfinished;
//   - unread: kubelet pruned the file before sluice ever opened it, though
//     a sluice ran at some time while it was on disk;
//   - really gone: the file was on disk only while no sluice ran.

const (
	kubePods = 2      // files written at the same time, one per pod
	kubeRate = 21_000 // lines per second per file the writers aim at; minWriterRate is checked
	// kubeStall ends the wait for delivery once no row has arrived for
	// this long: the missing lines are not coming.
	kubeStall = 10 * time.Second
	// kubeDeliverWait bounds the wait for delivery in all.
	kubeDeliverWait = 4 * time.Minute
	// kubeLoki are the Loki output's settings in these tests: retries back
	// off to at most 2 s, so delivery resumes soon after an outage.
	kubeLoki = ", min_backoff: 200ms, max_backoff: 2s, batch_wait: 200ms"
)

// kubeOptions vary a kubelet rotation test.
type kubeOptions struct {
	buffer string // the buffer section, "" for the default
	// maxSize is kubelet's containerLogMaxSize, rotateAt if 0: a rotation
	// every 1.18 s at kubeRate.
	maxSize int64
	// keepAll has kubelet rename only, never gzip or prune: the control
	// case, in which no line can be lost.
	keepAll bool
	// wine runs sluice.exe under Wine instead of the Linux binary.
	wine *wineSluice
}

// kubeRun is one kubelet rotation test: the server, the node, the writers
// and the sluice runs, one at a time, on the same data folder.
type kubeRun struct {
	t       *testing.T
	srv     *vlogs.Server
	e       *env
	writers []*logWriter // one per pod, pod name = writer tag
	start   time.Time
	wine    *wineSluice

	pid         atomic.Int64 // the sluice running now, 0 between runs
	runs        []sluiceRun  // every sluice run, oldest first
	opened      *fdWatch
	stopWriters context.CancelFunc
	waitWriters func() error
}

func newKubeRun(t *testing.T, o kubeOptions) *kubeRun {
	t.Helper()
	requireSluice(t)
	r := &kubeRun{t: t, srv: vlogs.Start(t), wine: o.wine}
	eo := envOptions{loki: r.srv.PushURL(), lokiExtra: kubeLoki, environ: []string{"NODE_NAME=" + lokiNode}}
	if o.wine != nil {
		eo.command, eo.hostPath, eo.terminate = o.wine.command, winPath, interrupt
	} else {
		eo.command = func(args ...string) *exec.Cmd { return exec.Command(loadBin, args...) }
	}
	r.e = newEnv(t, eo)
	if o.buffer != "" {
		r.e.configureBuffer(o.buffer, 0)
	}
	for i := range kubePods {
		c := r.e.kubeContainer("load", fmt.Sprintf("kube-%d", i), podUID(200+i), "app")
		r.writers = append(r.writers, &logWriter{
			path: filepath.Join(c.dir, "0.log"), pod: c.pod, rotation: kubeletRotate, rate: kubeRate, maxSize: o.maxSize,
			kubelet: kubelet{keepAll: o.keepAll, holds: r.holds},
		})
	}
	return r
}

// sluiceRun is when one sluice process ran: from just before its start to
// just after its exit (zero while it runs).
type sluiceRun struct{ from, to time.Time }

// ranDuring reports whether a sluice process ran at some time between from
// and to.
func (r *kubeRun) ranDuring(from, to time.Time) bool {
	for _, run := range r.runs {
		if run.from.Before(to) && (run.to.IsZero() || run.to.After(from)) {
			return true
		}
	}
	return false
}

// wasOpened reports whether a sluice process had g open at some time, by
// the file's identity in the windows when it was g's: the file written
// until kubelet gzipped it, then the .gz until kubelet pruned it (an inode
// is reused only once no one holds it).
func (r *kubeRun) wasOpened(g *generation) bool {
	end := time.Now()
	if g.compressed {
		end = g.compressedAt
	}
	if r.opened.seen(g.file.inode(), g.created, end) {
		return true
	}
	if !g.compressed {
		return false
	}
	end = time.Now()
	if g.pruned {
		end = g.prunedAt
	}
	return r.opened.seen(g.gz.inode(), g.compressedAt, end)
}

// holderPIDs are the processes whose open files are sluice's: the sluice
// running now, and under Wine the wineservers, which keep the files of
// their clients open. None between runs.
func (r *kubeRun) holderPIDs() []int {
	pid := int(r.pid.Load())
	if pid == 0 {
		return nil
	}
	pids := []int{pid}
	if r.wine != nil {
		pids = append(pids, r.wine.serverPIDs()...)
	}
	return pids
}

// holds is the writers' holderCheck.
func (r *kubeRun) holds(ids ...fileID) (held, up bool) {
	pids := r.holderPIDs()
	if len(pids) == 0 {
		return false, false
	}
	for _, p := range pids {
		ok, err := pidHolds(p, ids)
		if err != nil {
			r.t.Errorf("look at the files process %d holds: %v", p, err)
		}
		if ok {
			return true, true
		}
	}
	return false, true
}

// since is the time from the writers' start, for messages.
func (r *kubeRun) since() string { return fmt.Sprintf("%.1fs", time.Since(r.start).Seconds()) }

func (r *kubeRun) startWriters() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stopWriters = cancel
	r.start = time.Now()
	m := map[string]*logWriter{}
	for _, w := range r.writers {
		m[w.path] = w
	}
	r.waitWriters = startWriters(ctx, m)
	r.opened = watchFDs(r.holderPIDs)
	r.t.Cleanup(func() {
		if r.stopWriters != nil {
			r.stopWriters()
			_ = r.waitWriters()
			r.opened.stop()
		}
	})
}

// endWriters stops the writers and checks that they reached the rate the
// test is meant to show; it returns the lines written in all.
func (r *kubeRun) endWriters() int {
	r.t.Helper()
	r.stopWriters()
	err := r.waitWriters()
	r.opened.stop()
	r.stopWriters = nil
	if err != nil {
		r.t.Fatalf("writer: %v", err)
	}
	total := 0
	for _, w := range r.writers {
		total += w.lines
		r.t.Logf("pod %s: %d lines in %v, %.0f lines/s, %d rotations (one per %v), %d files",
			w.pod, w.lines, w.elapsed.Round(time.Millisecond), w.achieved(), w.rotations,
			(w.elapsed / time.Duration(max(w.rotations, 1))).Round(time.Millisecond), len(w.gens))
		if w.achieved() < minWriterRate {
			r.t.Fatalf("pod %s: the writer reached %.0f lines/s, below the %d this test must show; the machine is too busy",
				w.pod, w.achieved(), minWriterRate)
		}
		r.checkFiles(w)
	}
	return total
}

// checkFiles holds the writer's record of its generations to the files
// still on disk: each must hold exactly its generation's lines, in order,
// so that what check blames on whom rests on what was really written.
func (r *kubeRun) checkFiles(w *logWriter) {
	r.t.Helper()
	sum := 0
	for _, g := range w.gens {
		sum += g.lines
		if g.pruned {
			continue
		}
		path := cmp.Or(g.rotated, w.path)
		if g.compressed {
			path += ".gz"
		}
		next, err := readSeqs(path, w.pod, g.first)
		if err != nil {
			r.t.Fatalf("set-up: %v", err)
		}
		if next != g.first+g.lines {
			r.t.Fatalf("set-up: %s holds seq %d-%d, the writer recorded %d-%d", path, g.first, next-1, g.first, g.first+g.lines-1)
		}
	}
	if sum != w.lines {
		r.t.Fatalf("set-up: the generations of pod %s hold %d lines, the writer wrote %d", w.pod, sum, w.lines)
	}
}

// readSeqs reads a writer's file, gzipped if its name ends in .gz, and
// checks that it holds pod's lines numbered from first on, each once and in
// order; it returns the number after the last.
func readSeqs(path, pod string, first int) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var in io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		in = zr
	}
	sc := bufio.NewScanner(in)
	next := first
	for sc.Scan() {
		_, msg, ok := strings.Cut(sc.Text(), " stdout F ")
		p, seq, ok2 := parseMessage(msg)
		if !ok || !ok2 || p != pod || seq != next {
			return 0, fmt.Errorf("%s: line %q where seq %d of pod %s was due", path, clip(sc.Bytes(), 120), next, pod)
		}
		next++
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return next, nil
}

// rotations is how many times the files rotated so far, in all.
func (r *kubeRun) rotations() int {
	n := 0
	for _, w := range r.writers {
		n += int(w.kubelet.rotations.Load())
	}
	return n
}

// startSluice starts a sluice run and waits until it is ready.
func (r *kubeRun) startSluice() *sluice {
	r.t.Helper()
	r.runs = append(r.runs, sluiceRun{from: time.Now()})
	s := r.e.start(false)
	r.pid.Store(int64(s.pid()))
	s.waitReady(30 * time.Second)
	return s
}

// finish stops the writers, waits until s has delivered every line they
// wrote, and stops s with SIGTERM.
func (r *kubeRun) finish(s *sluice) {
	r.t.Helper()
	total := r.endWriters()
	r.waitDelivered(s, total)
	r.t.Logf("last run metrics: %s", metricsLine(s))
	r.stop(s)
}

// kill ends a run with SIGKILL.
func (r *kubeRun) kill(s *sluice) {
	r.t.Helper()
	s.kill()
	r.pid.Store(0)
	r.runs[len(r.runs)-1].to = time.Now()
}

// stop ends a run with SIGTERM, which must end it cleanly.
func (r *kubeRun) stop(s *sluice) {
	r.t.Helper()
	code := s.stop(30 * time.Second)
	r.pid.Store(0)
	r.runs[len(r.runs)-1].to = time.Now()
	if code != 0 {
		r.t.Fatalf("sluice exit code %d after SIGTERM, want 0; log:\n%s", code, s.logTail(30))
	}
}

// stored counts the rows the server holds and the distinct lines among
// them; rows - distinct is the duplicates so far.
func (r *kubeRun) stored() (rows, distinct int) {
	r.t.Helper()
	res, err := r.srv.Query(context.Background(), "* | stats count() rows, count_uniq(_msg) distinct", "")
	if err != nil {
		r.t.Fatal(err)
	}
	if len(res) != 1 {
		return 0, 0 // nothing stored yet
	}
	rows, err1 := strconv.Atoi(res[0]["rows"])
	distinct, err2 := strconv.Atoi(res[0]["distinct"])
	if err := errors.Join(err1, err2); err != nil {
		r.t.Fatalf("stats row %v: %v", res[0], err)
	}
	return rows, distinct
}

// waitDelivered waits until the server holds every one of the total lines
// written, or until no row has arrived for kubeStall; it does not fail the
// test by itself: check says what is missing.
func (r *kubeRun) waitDelivered(s *sluice, total int) {
	r.t.Helper()
	start := time.Now()
	last, lastNew := -1, time.Now()
	for time.Since(start) < kubeDeliverWait {
		if !s.running() {
			r.t.Fatalf("sluice exited (%v) while delivering; log:\n%s", s.state, s.logTail(30))
		}
		n, err := r.srv.Count(context.Background(), "*", "")
		if err != nil {
			r.t.Fatal(err)
		}
		if n >= total {
			if _, distinct := r.stored(); distinct >= total {
				r.t.Logf("all %d lines stored %v after the writers stopped", total, time.Since(start).Round(time.Millisecond))
				return
			}
		}
		if n != last {
			last, lastNew = n, time.Now()
		} else if time.Since(lastNew) > kubeStall {
			r.t.Logf("no new row for %v, %v after the writers stopped: %d rows stored for %d lines written",
				kubeStall, time.Since(start).Round(time.Millisecond), n, total)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.t.Logf("gave up waiting for delivery after %v: %d rows stored for %d lines written", kubeDeliverWait, last, total)
}

// kubeReport is what arrived of the lines written.
type kubeReport struct {
	written, rows, duplicates int
	// missing = lost + dropped + unread + gone, the four kinds of missing
	// line (see the top of this file).
	missing, lost, dropped, unread, gone int
	badRows                              int
}

func (k kubeReport) String() string {
	return fmt.Sprintf("%d lines written, %d rows stored, %d duplicates, %d missing: %d lost (in files still on disk, or held by sluice when kubelet removed them), "+
		"%d dropped (sluice opened the file, let it go unfinished, kubelet pruned it), "+
		"%d unread (kubelet pruned the file before sluice opened it), %d really gone (on disk only while no sluice ran)",
		k.written, k.rows, k.duplicates, k.missing, k.lost, k.dropped, k.unread, k.gone)
}

// check reads every row back from the server and reports, per pod and in
// all, what arrived: each row must be a line a writer wrote, intact; a
// line's missing copies are split into lost and gone by what kubelet did
// to its file (generation.gone). The files with missing lines are logged.
func (r *kubeRun) check() kubeReport {
	r.t.Helper()
	seen := make([][]int32, len(r.writers))
	index := map[string]int{}
	for i, w := range r.writers {
		seen[i] = make([]int32, w.lines)
		index[w.pod] = i
	}
	var (
		rep      kubeReport
		problems []string
		msg      []byte
	)
	bad := func(format string, args ...any) {
		rep.badRows++
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	start := time.Now()
	err := r.srv.Each(context.Background(), "* | fields _msg", "", func(row vlogs.Row) error {
		rep.rows++
		pod, seq, ok := parseMessage(row.Msg())
		i, known := index[pod]
		if !ok || !known || seq >= len(seen[i]) {
			bad("row with a line nobody wrote: %q", clip([]byte(row.Msg()), 120))
			return nil
		}
		if msg = appendMessage(msg[:0], pod, seq); string(msg) != row.Msg() {
			bad("pod %s seq %d: got %q, want %q", pod, seq, row.Msg(), msg)
			return nil
		}
		seen[i][seq]++
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Logf("read %d rows back in %v", rep.rows, time.Since(start).Round(time.Millisecond))
	for _, p := range problems {
		r.t.Error(p)
	}
	if rep.badRows > len(problems) {
		r.t.Errorf("... and %d more bad rows", rep.badRows-len(problems))
	}
	if rep.badRows > 0 {
		r.logBadFiles()
	}
	for i, w := range r.writers {
		pr := r.checkPod(w, seen[i])
		r.t.Logf("pod %s: %v", w.pod, pr)
		rep.written += pr.written
		rep.duplicates += pr.duplicates
		rep.missing += pr.missing
		rep.lost += pr.lost
		rep.dropped += pr.dropped
		rep.unread += pr.unread
		rep.gone += pr.gone
	}
	return rep
}

// logBadFiles logs which files the rows that are not writer lines came
// from, as sluice named them.
func (r *kubeRun) logBadFiles() {
	r.t.Helper()
	rows, err := r.srv.Query(context.Background(), `* -_msg:~"^p=[^ ]+ seq=[0-9]{9} " | stats by (filename) count() n`, "")
	if err != nil {
		r.t.Errorf("count the bad rows by file: %v", err)
		return
	}
	for _, row := range rows {
		r.t.Logf("%s bad rows from %s", row["n"], row["filename"])
	}
}

// checkPod counts one writer's lines and logs its files that miss lines,
// by kind: lost, dropped, unread, really gone.
func (r *kubeRun) checkPod(w *logWriter, seen []int32) kubeReport {
	const show = 12 // files of each kind logged
	rep := kubeReport{written: w.lines}
	var lost, dropped, unread, gone []string
	for _, g := range w.gens {
		missing, firstMissing := 0, -1
		for seq := g.first; seq < g.first+g.lines; seq++ {
			switch n := int(seen[seq]); {
			case n == 0:
				if firstMissing < 0 {
					firstMissing = seq
				}
				missing++
			default:
				rep.rows += n
				rep.duplicates += n - 1
			}
		}
		if missing == 0 {
			continue
		}
		rep.missing += missing
		line := fmt.Sprintf("pod %s: seq %d-%d (%d lines; %s): %d missing from seq %d",
			w.pod, g.first, g.first+g.lines-1, g.lines, g.fate(r.start), missing, firstMissing)
		switch {
		case !g.gone():
			rep.lost += missing
			lost = append(lost, "lost: "+line)
		case r.wasOpened(g):
			rep.dropped += missing
			dropped = append(dropped, "dropped: "+line)
		case r.ranDuring(g.created, g.prunedAt):
			rep.unread += missing
			unread = append(unread, "unread: "+line)
		default:
			rep.gone += missing
			gone = append(gone, "really gone: "+line)
		}
	}
	for _, l := range [][]string{lost, dropped, unread, gone} {
		for i, line := range l {
			if i == show {
				r.t.Logf("pod %s: ... and %d more such files", w.pod, len(l)-show)
				break
			}
			r.t.Log(line)
		}
	}
	return rep
}

// requireNoLoss fails the test for every line sluice lost or dropped and,
// unless allowUnread, for every line it left unread. Lines really gone
// fail it too: the tests are set up so that every file is on disk while a
// sluice runs.
func (r *kubeRun) requireNoLoss(rep kubeReport, allowUnread bool) {
	r.t.Helper()
	r.t.Logf("in all: %v", rep)
	w := r.writers[0]
	every := (w.elapsed / time.Duration(max(w.rotations, 1))).Round(10 * time.Millisecond)
	if rep.lost > 0 {
		r.t.Errorf("sluice lost %d of %d lines: lines of files still on disk, or that it held when kubelet removed them (see above)", rep.lost, rep.written)
	}
	if rep.dropped > 0 {
		r.t.Errorf("kubelet pruned files holding %d lines that sluice had opened and let go unfinished", rep.dropped)
	}
	if rep.unread > 0 && !allowUnread {
		r.t.Errorf("kubelet pruned files holding %d lines that sluice had not read, although it ran while they were on disk: "+
			"sluice must read (or at least open) the rotated and .gz files it has not finished before kubelet prunes them "+
			"(a rotation every %v, %d rotated files kept)", rep.unread, every, kubeletMaxFiles-1)
	}
	if rep.gone > 0 {
		r.t.Errorf("set-up: %d lines were in files that were on disk only while no sluice ran (a rotation every %v, %d rotated files kept)",
			rep.gone, every, kubeletMaxFiles-1)
	}
}

// metricsLine renders what sluice's metrics say about the input and the
// Loki sink, for the log.
func metricsLine(s *sluice) string {
	m, err := s.metrics()
	if err != nil {
		return err.Error()
	}
	return summary(m) + " | " + lokiSummary(m)
}

// kubeDuplicates renders duplicates per kill or stop as a Markdown table,
// to be copied into bench/README.md. Run k (from 1) ended with the k-th
// kill or stop after lived[k-1]; rows[k] and distinct[k] are what the
// server held then (rows[0] = distinct[0] = 0, and the last entry is after
// the final run). What run k+1 stored beyond the new lines it delivered are
// the duplicates that the k-th kill or stop caused.
func kubeDuplicates(what string, lived []time.Duration, rows, distinct []int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | run lived | rows the next run stored | of which duplicates |\n|---|---|---|---|\n", what)
	total := 0
	for k := 1; k <= len(lived) && k+1 < len(rows); k++ {
		dr, dd := rows[k+1]-rows[k], distinct[k+1]-distinct[k]
		total += dr - dd
		fmt.Fprintf(&b, "| %d | %v | %d | %d |\n", k, lived[k-1].Round(time.Millisecond), dr, dr-dd)
	}
	first := rows[1] - distinct[1]
	fmt.Fprintf(&b, "| all %d | | %d rows, %d distinct lines | %d (+%d within the first run) |",
		len(lived), rows[len(rows)-1], distinct[len(distinct)-1], total, first)
	return b.String()
}

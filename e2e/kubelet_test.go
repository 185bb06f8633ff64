package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// kubeletMaxFiles is kubelet's containerLogMaxFiles default, which these
// tests keep: 0.log and at most four rotated files.
const kubeletMaxFiles = 5

// kubelet does what kubelet's container log manager does to a container's
// log when 0.log passes containerLogMaxSize (pkg/kubelet/logs,
// containerLogManager.rotateLog), in its order: glob <log>.*; remove
// temporary files and uncompressed files whose .gz exists; sort the names
// and remove the oldest until at most MaxFiles-2 rotated files remain;
// gzip every rotated file not ending in .gz (<f>.tmp, renamed to <f>.gz,
// then <f> removed); rename 0.log to 0.log.<YYYYMMDD-hhmmss>. The runtime's
// reopen that follows is the writer's (logWriter.reopen), after a few more
// lines to the renamed file. kubelet does this between two writes of the
// runtime here, so the writer pauses while a file is gzipped; its pace
// catches up afterwards.
//
// It records the fate of every generation the writer wrote, so a test can
// tell lines that were really gone (kubelet removed the last copy while no
// sluice process held one) from lines that sluice lost.
type kubelet struct {
	// maxFiles is containerLogMaxFiles; 0 means kubeletMaxFiles.
	maxFiles int
	// keepAll renames only, never compressing or removing a file: the
	// control case, in which nothing can be lost.
	keepAll bool
	// holds, when set, reports whether a sluice process holds any of the
	// files and whether one runs at all; it is called just before kubelet
	// removes a file.
	holds holderCheck

	start     time.Time    // the writer's start, for the times in reports
	stamp     time.Time    // the last rotated name's time
	rotations atomic.Int64 // rotations so far, readable while the writer runs
}

// holderCheck reports whether a sluice process under test has any of the
// files open (held) and whether one is running at all (up).
type holderCheck func(ids ...fileID) (held, up bool)

// generation is one file the writer wrote: 0.log from its creation to the
// next, under whatever name it has since.
type generation struct {
	first, lines int // the seqs first .. first+lines-1
	created      time.Time
	rotated      string // its name once renamed from 0.log; "" while it is 0.log

	// What kubelet did to it, kubeletRotate only.
	compressed, pruned bool
	compressedAt       time.Time
	prunedAt           time.Time
	// heldAtCompress: a sluice process held the uncompressed file when
	// kubelet removed it after writing the .gz.
	heldAtCompress bool
	// heldAtPrune: a sluice process held the pruned file, or the
	// uncompressed one removed earlier, when kubelet pruned it; upAtPrune:
	// a sluice process was running then.
	heldAtPrune, upAtPrune bool
	// file is the file written, under its latest name; gz its .gz once
	// kubelet made one.
	file, gz fileID
}

// gone reports whether the generation's lines are gone for good: kubelet
// removed its last copy while no sluice process held any copy, so lines
// sluice had not read by then can no longer be read by anyone.
func (g *generation) gone() bool { return g.pruned && !g.heldAtPrune }

// fate says in words what became of the generation.
func (g *generation) fate(start time.Time) string {
	at := func(t time.Time) string { return fmt.Sprintf("%.1fs", t.Sub(start).Seconds()) }
	s := "created " + at(g.created)
	if g.rotated == "" {
		return s + ", still 0.log"
	}
	s += ", renamed to " + filepath.Base(g.rotated)
	if g.compressed {
		s += ", gzipped " + at(g.compressedAt)
		if g.heldAtCompress {
			s += " (sluice held it)"
		} else {
			s += " (sluice did not hold it)"
		}
	}
	if g.pruned {
		s += ", pruned " + at(g.prunedAt)
		switch {
		case g.heldAtPrune:
			s += " (sluice held a copy)"
		case g.upAtPrune:
			s += " while sluice ran without holding it"
		default:
			s += " while sluice was down"
		}
	}
	return s
}

// rotateLog rotates w's 0.log as kubelet does; see kubelet.
func (k *kubelet) rotateLog(w *logWriter) error {
	k.rotations.Add(1)
	if !k.keepAll {
		logs, err := filepath.Glob(w.path + ".*")
		if err != nil {
			return fmt.Errorf("list rotated logs: %w", err)
		}
		if logs, err = k.cleanupUnusedLogs(logs); err != nil {
			return err
		}
		if logs, err = k.removeExcessLogs(w, logs); err != nil {
			return err
		}
		for _, l := range logs {
			if strings.HasSuffix(l, ".gz") {
				continue
			}
			if err := k.compressLog(w, l); err != nil {
				return err
			}
		}
	}
	return k.rotateLatestLog(w)
}

// cleanupUnusedLogs removes what an interrupted rotation leaves: temporary
// files, and uncompressed files whose .gz exists.
func (k *kubelet) cleanupUnusedLogs(logs []string) ([]string, error) {
	var inUse []string
	for _, l := range logs {
		unused := strings.HasSuffix(l, ".tmp")
		if !unused && !strings.HasSuffix(l, ".gz") {
			for _, other := range logs {
				if other == l+".gz" {
					unused = true
				}
			}
		}
		if !unused {
			inUse = append(inUse, l)
			continue
		}
		if err := os.Remove(l); err != nil {
			return nil, fmt.Errorf("remove unused log %s: %w", l, err)
		}
	}
	return inUse, nil
}

// removeExcessLogs removes the oldest rotated files, by name, until at most
// maxFiles-2 remain: with 0.log and the file about to be rotated that makes
// maxFiles.
func (k *kubelet) removeExcessLogs(w *logWriter, logs []string) ([]string, error) {
	sort.Strings(logs)
	maxFiles := k.maxFiles
	if maxFiles == 0 {
		maxFiles = kubeletMaxFiles
	}
	keep := max(maxFiles-2, 0)
	i := 0
	for ; i < len(logs)-keep; i++ {
		if err := k.prune(w, logs[i]); err != nil {
			return nil, err
		}
	}
	return logs[i:], nil
}

// prune removes one rotated file, first noting whether sluice holds it or
// the uncompressed file it was made from.
func (k *kubelet) prune(w *logWriter, path string) error {
	g := w.generation(strings.TrimSuffix(path, ".gz"))
	if g != nil {
		id, err := statID(path)
		if err != nil {
			return fmt.Errorf("prune %s: %w", path, err)
		}
		ids := []fileID{id}
		if g.compressed {
			ids = append(ids, g.file)
		}
		g.pruned, g.prunedAt = true, time.Now()
		if k.holds != nil {
			g.heldAtPrune, g.upAtPrune = k.holds(ids...)
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove old log %s: %w", path, err)
	}
	return nil
}

// compressLog gzips a rotated file to <f>.gz through <f>.tmp and removes
// <f>, as kubelet's compressLog does. The gzip is the gzip program's, at
// kubelet's level (the default, 6): kubelet is a process of its own, and
// Go's compress/flate built with the race detector, as these tests are,
// takes most of a second per file.
func (k *kubelet) compressLog(w *logWriter, path string) (err error) {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, info.Mode())
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	defer os.Remove(tmp) // kubelet's best-effort clean-up; gone after the rename
	defer f.Close()
	cmd := exec.Command("gzip", "-6", "-n", "-c", path)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compress %s: gzip: %w: %s", path, err, stderr.String())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := os.Rename(tmp, path+".gz"); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	g := w.generation(path)
	if g != nil {
		id, err := fileIDOf(path, info)
		if err != nil {
			return fmt.Errorf("compress %s: %w", path, err)
		}
		if g.gz, err = statID(path + ".gz"); err != nil {
			return fmt.Errorf("compress %s: %w", path, err)
		}
		g.compressed, g.compressedAt, g.file = true, time.Now(), id
		if k.holds != nil {
			g.heldAtCompress, _ = k.holds(id)
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove %s after compressing it: %w", path, err)
	}
	return nil
}

// rotateLatestLog renames 0.log to 0.log.<YYYYMMDD-hhmmss>. The writers
// here rotate about once a second, faster than the name's resolution, so
// the time comes from a clock that advances at least a second per rotation:
// names stay unique and sort in time order, which kubelet's pruning needs.
func (k *kubelet) rotateLatestLog(w *logWriter) error {
	now := time.Now().Truncate(time.Second)
	if !now.After(k.stamp) {
		now = k.stamp.Add(time.Second)
	}
	k.stamp = now
	name := w.path + "." + now.Format("20060102-150405")
	if err := os.Rename(w.path, name); err != nil {
		return fmt.Errorf("rotate %s to %s: %w", w.path, name, err)
	}
	w.gens[len(w.gens)-1].rotated = name
	return nil
}

// generation returns the generation that was renamed to rotated, or nil.
func (w *logWriter) generation(rotated string) *generation {
	for i := len(w.gens) - 1; i >= 0; i-- {
		if w.gens[i].rotated == rotated {
			return w.gens[i]
		}
	}
	return nil
}

// statID is the identity of the file at path.
func statID(path string) (fileID, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	return fileIDOf(path, info)
}

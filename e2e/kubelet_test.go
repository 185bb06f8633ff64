package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/internal/kubeletrotate"
)

// kubeletMaxFiles is kubelet's containerLogMaxFiles default, which these
// tests keep: 0.log and at most four rotated files.
const kubeletMaxFiles = kubeletrotate.DefaultMaxFiles

// kubelet does what kubelet's container log manager does to a container's
// log when 0.log passes containerLogMaxSize, with kubeletrotate: remove
// leftovers, prune to MaxFiles-2 rotated files, gzip the rotated files,
// rename 0.log to 0.log.<YYYYMMDD-hhmmss>. The runtime's reopen that
// follows is the writer's (logWriter.reopen), after a few more lines to
// the renamed file. kubelet does this between two writes of the runtime
// here, so the writer pauses while a file is gzipped; its pace catches up
// afterwards.
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
	rotations atomic.Int64 // rotations so far, readable while the writer runs
	rotator   *kubeletrotate.Rotator
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
	if k.rotator == nil {
		k.rotator = &kubeletrotate.Rotator{
			Path: w.path, MaxFiles: k.maxFiles, KeepAll: k.keepAll, Compress: gzipProgram,
			Removing:   func(path string) error { return k.pruning(w, path) },
			Compressed: func(path string, info os.FileInfo) error { return k.compressed(w, path, info) },
		}
	}
	name, err := k.rotator.Rotate()
	if err != nil {
		return err
	}
	w.gens[len(w.gens)-1].rotated = name
	return nil
}

// pruning notes, just before kubelet removes the rotated file at path,
// whether sluice holds it or the uncompressed file it was made from.
func (k *kubelet) pruning(w *logWriter, path string) error {
	g := w.generation(strings.TrimSuffix(path, ".gz"))
	if g == nil {
		return nil
	}
	id, err := statID(path)
	if err != nil {
		return err
	}
	ids := []fileID{id}
	if g.compressed {
		ids = append(ids, g.file)
	}
	g.pruned, g.prunedAt = true, time.Now()
	if k.holds != nil {
		g.heldAtPrune, g.upAtPrune = k.holds(ids...)
	}
	return nil
}

// compressed notes, once path.gz is in place and just before kubelet
// removes path, the identities of both and whether sluice holds path.
func (k *kubelet) compressed(w *logWriter, path string, info os.FileInfo) error {
	g := w.generation(path)
	if g == nil {
		return nil
	}
	id, err := fileIDOf(path, info)
	if err != nil {
		return err
	}
	if g.gz, err = statID(path + ".gz"); err != nil {
		return err
	}
	g.compressed, g.compressedAt, g.file = true, time.Now(), id
	if k.holds != nil {
		g.heldAtCompress, _ = k.holds(id)
	}
	return nil
}

// gzipProgram gzips src into dst with the gzip program, at kubelet's level
// (the default, 6): kubelet is a process of its own, and Go's
// compress/flate built with the race detector, as these tests are, takes
// most of a second per file.
func gzipProgram(dst *os.File, src string) error {
	cmd := exec.Command("gzip", "-6", "-n", "-c", src)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = dst, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("gzip: %w: %s", err, stderr.String())
	}
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

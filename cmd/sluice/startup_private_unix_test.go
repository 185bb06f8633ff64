//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/testdir"
)

// TestOpenMakesTheDataFolderPrivate: the data folder as an earlier sluice
// left it (folders 0755, files 0644) is tightened at start: folders 0700,
// files 0600; the buffer then opens as before.
func TestOpenMakesTheDataFolderPrivate(t *testing.T) {
	testdir.Umask(t, 0o022)
	o := testOpener(testdir.New(t), &diskErrors{})
	cursors := filepath.Join(o.cfg.Dir, "cursors")
	files := []string{
		filepath.Join(o.checkpoints, "files.json"),
		filepath.Join(o.cfg.Dir, segment.Name(1)),
		filepath.Join(cursors, "s.pos"),
	}
	for _, d := range []string{o.dataDir, o.checkpoints, o.cfg.Dir, cursors} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := o.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	buf.Close()
	for _, d := range []string{o.dataDir, o.checkpoints, o.cfg.Dir, cursors} {
		if got := testdir.Perm(t, d); got != 0o700 {
			t.Errorf("folder %s: mode %v, want 0700", d, got)
		}
	}
	for _, f := range files {
		if got := testdir.Perm(t, f); got != 0o600 {
			t.Errorf("file %s: mode %v, want 0600", f, got)
		}
	}
}

// TestOpenRefusesAForeignDataFolder: a data folder that belongs to another
// user stops sluice at once (no retry: an operator must act) with an error
// that says how to fix it.
func TestOpenRefusesAForeignDataFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a folder to another user needs root")
	}
	ev := &diskErrors{}
	o := testOpener(testdir.New(t), ev)
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(o.dataDir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, o, ev, "chown")
}

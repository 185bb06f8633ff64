package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

func TestFileRefCheck(t *testing.T) {
	dir := testdir.New(t)
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref  FileRef
		want string // the note, or a part of the error
		ok   bool
	}{
		{FileRef{Path: dir, Use: Folder}, "ok", true},
		{FileRef{Path: filepath.Join(dir, "a", "b"), Use: Folder}, "ok, to be created in " + dir, true},
		{FileRef{Path: filepath.Join(plain, "b"), Use: Folder}, plain, false},
		{FileRef{Path: plain, Use: AppendFile}, "ok", true},
		{FileRef{Path: dir, Use: AppendFile}, dir + ": is a folder, not a file", false},
		{FileRef{Path: filepath.Join(dir, "new"), Use: AppendFile}, "ok, to be created in " + dir, true},
		{FileRef{Path: filepath.Join(dir, "none", "new"), Use: AppendFile}, filepath.Join(dir, "none"), false},
		{FileRef{Path: plain, Use: ReadFile}, "ok", true},
		{FileRef{Path: filepath.Join(dir, "none"), Use: ReadFile}, filepath.Join(dir, "none"), false},
	} {
		note, err := tc.ref.Check()
		switch {
		case tc.ok && (err != nil || note != tc.want):
			t.Errorf("%+v: %q, %v; want %q", tc.ref, note, err, tc.want)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %q, %v; want an error naming %q", tc.ref, note, err, tc.want)
		}
	}
	// The checks leave nothing behind.
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries left in %s, want only plain", len(entries), dir)
	}
}

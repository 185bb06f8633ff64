package glob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// mkTree creates the files named (with "/" separators) under dir, and the
// folders they need; a name ending in "/" is a folder.
func mkTree(t testing.TB, dir string, names ...string) {
	t.Helper()
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("line\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// symlink makes a symlink or skips the test: symlinks need a privilege on
// Windows, and under Wine 8 os.Symlink reports success and makes nothing.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make symlinks here: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Skipf("os.Symlink(%s) reported success but made no symlink (as under Wine 8)", link)
	}
}

// forWindows writes dir with Windows separators, so that a Windows-flavour
// pattern built on it uses "\" even when the tests run on Linux.
func forWindows(dir string) string { return strings.ReplaceAll(dir, "/", `\`) }

// expand runs Expand on a new set, checks that every path it returns is in
// the set, and returns the paths relative to dir with "/" separators.
func expand(t *testing.T, dir string, include, exclude []string, f Flavor) ([]string, []error) {
	t.Helper()
	s, err := NewSet(include, exclude, f)
	if err != nil {
		t.Fatal(err)
	}
	paths, errs := s.Expand()
	if !slices.IsSorted(paths) {
		t.Errorf("Expand() = %q, not sorted", paths)
	}
	rel := make([]string, 0, len(paths))
	for _, p := range paths {
		if !s.Match(p) {
			t.Errorf("Expand() returned %q, which Match rejects", p)
		}
		switch {
		case equal(p, dir, f.fold()):
			rel = append(rel, ".")
		case len(p) > len(dir) && equal(p[:len(dir)], dir, f.fold()):
			rel = append(rel, filepath.ToSlash(p[len(dir)+1:]))
		default:
			t.Fatalf("Expand() returned %q, outside %q", p, dir)
		}
	}
	return rel, errs
}

func wantPaths(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("Expand() =\n\t%q\nwant\n\t%q", got, want)
	}
}

func noErrors(t *testing.T, errs []error) {
	t.Helper()
	if len(errs) > 0 {
		t.Errorf("Expand() errors: %v", errs)
	}
}

func TestExpandFolder(t *testing.T) {
	dir := testdir.New(t)
	mkTree(t, dir, "containers/a.log", "containers/b.log", "containers/c.txt", "containers/"+rotated,
		"containers/d.log.gz", "containers/sub/e.log", "containers/dir.log/", "other/f.log")
	exclude := []string{"*.log.*", "*.gz"}
	want := []string{"containers/a.log", "containers/b.log", "containers/dir.log"}

	got, errs := expand(t, dir, []string{filepath.Join(dir, "containers", "*.log")}, exclude, Native)
	noErrors(t, errs)
	wantPaths(t, got, want)

	got, errs = expand(t, dir, []string{forWindows(dir) + `\containers\*.LOG`}, exclude, Windows)
	noErrors(t, errs)
	wantPaths(t, got, want)
}

func TestExpandDoubleStar(t *testing.T) {
	dir := testdir.New(t)
	mkTree(t, dir, "pods/top.log", "pods/ns_a_1/app/0.log", "pods/ns_a_1/app/"+rotated,
		"pods/ns_b_2/web/0.log", "pods/ns_b_2/web/1.log", "pods/ns_b_2/web/deeper/x/2.log", "pods/ns_b_2/empty/")
	pods := filepath.Join(dir, "pods")
	for _, c := range []struct {
		name    string
		include string
		want    []string
	}{
		{"** then *.log", filepath.Join(pods, "**", "*.log"), []string{
			"pods/ns_a_1/app/0.log", "pods/ns_b_2/web/0.log", "pods/ns_b_2/web/1.log",
			"pods/ns_b_2/web/deeper/x/2.log", "pods/top.log"}},
		{"** in the middle", filepath.Join(dir, "**", "web", "*.log"), []string{
			"pods/ns_b_2/web/0.log", "pods/ns_b_2/web/1.log"}},
		{"** at the end takes the base and everything", filepath.Join(pods, "ns_b_2", "**"), []string{
			"pods/ns_b_2", "pods/ns_b_2/empty", "pods/ns_b_2/web", "pods/ns_b_2/web/0.log", "pods/ns_b_2/web/1.log",
			"pods/ns_b_2/web/deeper", "pods/ns_b_2/web/deeper/x", "pods/ns_b_2/web/deeper/x/2.log"}},
		{"* layers", filepath.Join(pods, "*", "*", "0.log"), []string{
			"pods/ns_a_1/app/0.log", "pods/ns_b_2/web/0.log"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, errs := expand(t, dir, []string{c.include}, []string{"*.log.*"}, Native)
			noErrors(t, errs)
			wantPaths(t, got, c.want)
		})
	}
}

func TestExpandSharedWalks(t *testing.T) {
	dir := testdir.New(t)
	mkTree(t, dir, "containers/a.log", "containers/a.txt", "pods/p/0.log", "x.log")
	got, errs := expand(t, dir, []string{
		filepath.Join(dir, "containers", "a.*"), // nested under the next one's base
		filepath.Join(dir, "**", "*.log"),
		filepath.Join(dir, "containers", "a.log"), // literal, found twice
		filepath.Join(dir, "pods", "p", "0.log"),
	}, nil, Native)
	noErrors(t, errs)
	wantPaths(t, got, []string{"containers/a.log", "containers/a.txt", "pods/p/0.log", "x.log"})
}

func TestExpandMissingOrNotAFolder(t *testing.T) {
	dir := testdir.New(t)
	mkTree(t, dir, "containers/a.log")
	for _, include := range []string{
		filepath.Join(dir, "missing", "*.log"),
		filepath.Join(dir, "containers", "missing.log"),
		filepath.Join(dir, "containers", "a.log", "*.log"),
	} {
		got, errs := expand(t, dir, []string{include}, nil, Native)
		noErrors(t, errs)
		wantPaths(t, got, []string{})
	}
	got, errs := expand(t, dir, []string{filepath.Join(dir, "containers", "a.log")}, nil, Native)
	noErrors(t, errs)
	wantPaths(t, got, []string{"containers/a.log"})
}

// TestExpandWindowsCase checks that the Windows flavour finds a folder whose
// name differs in case from the pattern's also where the file system is
// case-sensitive (Linux, or a case-sensitive folder on Windows).
func TestExpandWindowsCase(t *testing.T) {
	dir := testdir.New(t)
	mkTree(t, dir, "Var/Log/Containers/A.LOG", "Var/Log/Containers/b.txt", "Var/Log/Pods/ns_p_1/App/0.log")
	got, errs := expand(t, dir, []string{
		forWindows(dir) + `\var\log\containers\*.log`,
		forWindows(dir) + `\VAR\LOG\pods\*\app\0.LOG`,
	}, nil, Windows)
	noErrors(t, errs)
	// The case of the result depends on the file system: Windows finds the
	// base in the pattern's case, Linux through the names on disk.
	slices.SortFunc(got, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	if len(got) != 2 || !strings.EqualFold(got[0], "Var/Log/Containers/A.LOG") || !strings.EqualFold(got[1], "Var/Log/Pods/ns_p_1/App/0.log") {
		t.Errorf("Expand() = %q, want Var/Log/Containers/A.LOG and Var/Log/Pods/ns_p_1/App/0.log in any case", got)
	}
	if Native == Unix {
		got, errs = expand(t, dir, []string{filepath.Join(dir, "var", "log", "containers", "*.log")}, nil, Unix)
		noErrors(t, errs)
		wantPaths(t, got, []string{})
	}
}

func TestExpandBackslashInLinuxName(t *testing.T) {
	if Native == Windows {
		t.Skip(`a name with "\" cannot be made on Windows`)
	}
	dir := testdir.New(t)
	mkTree(t, dir, `logs/a\b.log`, "logs/c.log")
	got, errs := expand(t, dir, []string{forWindows(dir) + `\logs\*.log`}, nil, Windows)
	noErrors(t, errs)
	wantPaths(t, got, []string{"logs/c.log"})
	got, errs = expand(t, dir, []string{filepath.Join(dir, "logs", "*.log")}, nil, Unix)
	noErrors(t, errs)
	wantPaths(t, got, []string{`logs/a\b.log`, "logs/c.log"})
}

func TestExpandLongPath(t *testing.T) {
	dir := testdir.New(t)
	name := "pods"
	for len(dir)+len(name) < 300 {
		name += "/nested-folder-with-a-long-name"
	}
	name += "/0.log"
	mkTree(t, dir, name)
	got, errs := expand(t, dir, []string{filepath.Join(dir, "pods", "**", "*.log")}, nil, Native)
	noErrors(t, errs)
	wantPaths(t, got, []string{name})
}

func TestExpandSymlinks(t *testing.T) {
	dir := testdir.New(t)
	mkTree(t, dir, "real/containers/a.log", "pods/ns_p_1/app/0.log", "kubelet/")
	real := filepath.Join(dir, "real")
	symlink(t, real, filepath.Join(dir, "link"))                                                      // a symlinked base
	symlink(t, filepath.Join(dir, "nowhere", "0.log"), filepath.Join(real, "containers", "gone.log")) // dangling
	symlink(t, real, filepath.Join(real, "containers", "loop"))                                       // a cycle
	symlink(t, filepath.Join(dir, "pods", "ns_p_1", "app", "0.log"), filepath.Join(dir, "kubelet", "p_ns_app-1.log"))

	for _, c := range []struct {
		name    string
		include string
		want    []string
	}{
		{"symlinked base", filepath.Join(dir, "link", "containers", "*.log"), []string{
			"link/containers/a.log", "link/containers/gone.log"}},
		{"symlinked middle element", filepath.Join(dir, "*", "containers", "a.log"), []string{
			"link/containers/a.log", "real/containers/a.log"}},
		{"** stops at a cycle", filepath.Join(real, "**", "*.log"), []string{
			"real/containers/a.log", "real/containers/gone.log"}},
		{"** from a symlinked base stops at a cycle", filepath.Join(dir, "link", "**", "*.log"), []string{
			"link/containers/a.log", "link/containers/gone.log"}},
		{"kubelet's file links are listed, not followed", filepath.Join(dir, "kubelet", "*.log"), []string{
			"kubelet/p_ns_app-1.log"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, errs := expand(t, dir, []string{c.include}, nil, Native)
			noErrors(t, errs)
			wantPaths(t, got, c.want)
		})
	}

	t.Run("** over everything ends", func(t *testing.T) {
		symlink(t, filepath.Join(dir, "link"), filepath.Join(dir, "pods", "ns_p_1", "back")) // a longer cycle through a link
		got, errs := expand(t, dir, []string{filepath.Join(dir, "**")}, nil, Native)
		noErrors(t, errs)
		for _, p := range got {
			if strings.Contains(p, "loop/") || strings.Contains(p, "back/link/") {
				t.Errorf("Expand() went round a cycle: %q", p)
			}
		}
		for _, want := range []string{"link/containers/a.log", "real/containers/loop", "pods/ns_p_1/back/containers/a.log"} {
			if !slices.Contains(got, want) {
				t.Errorf("Expand() = %q, missing %q", got, want)
			}
		}
	})
}

func TestExpandUnreadableFolder(t *testing.T) {
	dir := testdir.New(t)
	mkTree(t, dir, "logs/ok/a.log", "logs/locked/b.log", "logs/zz/c.log")
	locked := filepath.Join(dir, "logs", "locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(locked, 0o755) }) // before testdir removes it
	if _, err := os.ReadDir(locked); err == nil {
		t.Skip("chmod 0 left the folder readable: running as root, which reads anything, " +
			"or on Windows, where os.Chmod only sets the read-only attribute")
	}
	got, errs := expand(t, dir, []string{filepath.Join(dir, "logs", "*", "*.log")}, nil, Native)
	wantPaths(t, got, []string{"logs/ok/a.log", "logs/zz/c.log"})
	if len(errs) != 1 || !errors.Is(errs[0], fs.ErrPermission) || !strings.Contains(errs[0].Error(), locked) {
		t.Errorf("Expand() errors = %v, want one permission error naming %s", errs, locked)
	}
}

// fsCounter counts the filesystem calls of an expansion.
type fsCounter struct {
	reads map[string]int
	stats int
}

func (c *fsCounter) expand(s *Set) ([]string, []error) {
	c.reads = map[string]int{}
	return s.expand(func(dir string) ([]fs.DirEntry, error) {
		c.reads[dir]++
		return os.ReadDir(dir)
	}, func(path string) (fs.FileInfo, error) {
		c.stats++
		return os.Stat(path)
	})
}

func TestExpandCost(t *testing.T) {
	dir := testdir.New(t)
	names := []string{"var/log/pods/ns_p_1/app/0.log", "var/log/containers/x.txt"}
	for i := range 1000 {
		names = append(names, fmt.Sprintf("var/log/containers/app-%04d_default_app-%s.log", i, containerID))
	}
	mkTree(t, dir, names...)
	logs := filepath.Join(dir, "var", "log")

	t.Run("one folder of 1000 files", func(t *testing.T) {
		s, err := NewSet([]string{filepath.Join(logs, "containers", "*.log")}, []string{"*.log.*"}, Native)
		if err != nil {
			t.Fatal(err)
		}
		var c fsCounter
		got, errs := c.expand(s)
		noErrors(t, errs)
		if len(got) != 1000 {
			t.Errorf("Expand() found %d paths, want 1000", len(got))
		}
		if len(c.reads) != 1 || c.stats != 1 {
			t.Errorf("Expand() read %v and made %d stats, want one read and one stat (of the base)", c.reads, c.stats)
		}
	})
	t.Run("nested bases share one walk", func(t *testing.T) {
		s, err := NewSet([]string{
			filepath.Join(logs, "containers", "*.log"),
			filepath.Join(logs, "**", "*.log"),
			filepath.Join(logs, "containers", "*.txt"),
			filepath.Join(logs, "pods", "*", "*", "0.log"),
		}, nil, Native)
		if err != nil {
			t.Fatal(err)
		}
		var c fsCounter
		got, errs := c.expand(s)
		noErrors(t, errs)
		if len(got) != 1002 {
			t.Errorf("Expand() found %d paths, want 1002", len(got))
		}
		for dir, n := range c.reads {
			if n != 1 {
				t.Errorf("Expand() read %s %d times", dir, n)
			}
		}
		if len(c.reads) != 5 || c.stats != 1 { // log, containers, pods, pods/ns_p_1, pods/ns_p_1/app
			t.Errorf("Expand() read %d folders and made %d stats, want 5 and 1", len(c.reads), c.stats)
		}
	})
}

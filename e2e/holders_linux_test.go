//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// fileID is one file as /proc shows it held: its device and inode, and its
// name, which tells a removed file from a later one given the same inode.
type fileID struct {
	dev, ino uint64
	name     string // base name
}

func fileIDOf(path string, info os.FileInfo) (fileID, error) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, fmt.Errorf("%s: no inode in %T", path, info.Sys())
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino, name: filepath.Base(path)}, nil
}

// pidHolds reports whether process pid has one of the files open, by the
// links in /proc/<pid>/fd: a removed file shows there as "<path> (deleted)"
// for as long as it is held. A process that is gone holds nothing.
func pidHolds(pid int, ids []fileID) (bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, ent := range ents {
		fd := filepath.Join(dir, ent.Name())
		link, err := os.Readlink(fd)
		if err != nil {
			continue // closed meanwhile
		}
		name := filepath.Base(strings.TrimSuffix(link, " (deleted)"))
		for _, id := range ids {
			if name != id.name {
				continue
			}
			info, err := os.Stat(fd)
			if err != nil {
				continue
			}
			if got, err := fileIDOf(link, info); err == nil && got.dev == id.dev && got.ino == id.ino {
				return true, nil
			}
		}
	}
	return false, nil
}

// processesNamed returns the processes whose command name starts with
// prefix.
func processesNamed(prefix string) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/comm")
	var pids []int
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || !strings.HasPrefix(string(b), prefix) {
			continue // the process ended meanwhile, or another one
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// inode is a file's device and inode number.
type inode struct{ dev, ino uint64 }

func (id fileID) inode() inode { return inode{id.dev, id.ino} }

// pidFiles returns the files process pid has open, nothing when it is gone.
func pidFiles(pid int) []inode {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []inode
	for _, ent := range ents {
		info, err := os.Stat(filepath.Join(dir, ent.Name()))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			out = append(out, inode{uint64(st.Dev), st.Ino})
		}
	}
	return out
}

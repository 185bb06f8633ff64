//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// platformSkip is empty: Linux runs every test.
const platformSkip = ""

// nobodyID is the uid and gid of 'nobody', whom TestBadInput runs sluice as
// when the tests run as root, since root reads files whatever their mode.
const nobodyID = 65534

// configureCmd ties sluice's life to the test binary's (Pdeathsig), so a
// crashed test run leaves no sluice behind, and, when asNobody is set,
// drops its privileges to nobodyID.
func configureCmd(cmd *exec.Cmd, asNobody bool) {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if asNobody {
		attr.Credential = &syscall.Credential{Uid: nobodyID, Gid: nobodyID}
	}
	cmd.SysProcAttr = attr
}

// canDropPrivileges reports whether configureCmd may be asked for nobody.
func canDropPrivileges() bool { return os.Geteuid() == 0 }

// giveToSluice makes nobody the owner of path when sluice will run as
// nobody: sluice refuses a data folder another user owns.
func giveToSluice(t *testing.T, path string) {
	t.Helper()
	if !canDropPrivileges() {
		return
	}
	if err := os.Chown(path, nobodyID, nobodyID); err != nil {
		t.Fatal(err)
	}
}

// terminate asks sluice to shut down cleanly, as the kubelet does.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// killHard stops sluice at once, as a node crash or OOM kill would.
func killHard(p *os.Process) error { return p.Signal(syscall.SIGKILL) }

// exitSignal names the signal that ended the process, or "" if it exited.
func exitSignal(st *os.ProcessState) string {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return ""
	}
	return ws.Signal().String()
}

// peakRSS returns the process's resident set high-water mark (VmHWM) in
// bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // "123456 kB"
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("/proc/%d/status: odd VmHWM line %q", pid, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status: %w", pid, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}

// leftoverChildren reports processes whose parent is this test binary.
func leftoverChildren() error {
	self := os.Getpid()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return err
	}
	var left []string
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended meanwhile
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil && ppid == self {
			left = append(left, strings.TrimSpace(s[:i+1]))
		}
	}
	if len(left) > 0 {
		return errors.New(strings.Join(left, ", "))
	}
	return nil
}

// makeFIFO creates a named pipe at path.
func makeFIFO(path string) error { return syscall.Mkfifo(path, 0o666) }

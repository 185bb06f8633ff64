//go:build linux

package buffer

import (
	"os"
	"os/exec"
	"syscall"
)

// crashSkip is empty: Linux runs the crash test.
const crashSkip = ""

// configureCrashChild ties the helper's life to the test binary's, so a
// test run that dies leaves no helper appending behind.
func configureCrashChild(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// killCrashChild stops the helper at once, as a node crash or an OOM kill does.
func killCrashChild(p *os.Process) error { return p.Signal(syscall.SIGKILL) }

// killedBySIGKILL reports whether the process ended by SIGKILL.
func killedBySIGKILL(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

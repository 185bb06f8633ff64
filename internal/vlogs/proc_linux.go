package vlogs

import "syscall"

// platformSkip is empty: the Linux test run is where VictoriaLogs runs.
const platformSkip = ""

// sysProcAttr makes the kernel kill the server when the test binary dies,
// so a crashed or timed-out test leaves no server behind holding its port.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

package vlogs

import "syscall"

// platformSkip skips on Windows, even under CI: the Windows test binaries
// run under Wine, which cannot start the Linux server, and the Linux run of
// the same tests covers the sinks against it.
const platformSkip = "VictoriaLogs-backed tests run in the Linux test run only, not on Windows"

// sysProcAttr is nil: Start skips before any process is started.
func sysProcAttr() *syscall.SysProcAttr { return nil }

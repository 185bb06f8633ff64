//go:build !linux && !windows

package vlogs

import "syscall"

// platformSkip is empty: VictoriaLogs builds and runs on other Unixes too.
const platformSkip = ""

// sysProcAttr is nil: there is no parent-death signal here, so a test
// binary that dies leaves its server to be stopped by hand.
func sysProcAttr() *syscall.SysProcAttr { return nil }

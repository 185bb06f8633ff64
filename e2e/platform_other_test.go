//go:build !linux

package e2e

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

// platformSkip says why the tests do not run here.
const platformSkip = "e2e tests run on Linux only: they build sluice with the go command " +
	"(the Windows test run under Wine has no Go toolchain), signal it with SIGTERM and SIGKILL, " +
	"may run it as an unprivileged user and read /proc"

const nobodyID = 65534

var errUnsupported = errors.New("e2e: not supported on this system")

func configureCmd(*exec.Cmd, bool) {}

func canDropPrivileges() bool { return false }

func giveToSluice(*testing.T, string) {}

func terminate(*os.Process) error { return errUnsupported }

func killHard(*os.Process) error { return errUnsupported }

func exitSignal(*os.ProcessState) string { return "" }

func peakRSS(int) (int64, error) { return 0, errUnsupported }

func leftoverChildren() error { return nil }

func makeFIFO(string) error { return errUnsupported }

//go:build !linux

package buffer

import (
	"errors"
	"os"
	"os/exec"
)

// crashSkip says why the crash test does not run here.
const crashSkip = "the crash test kills a helper process with SIGKILL and runs on Linux only " +
	"(the Windows test binaries run under Wine, where killing and re-executing them is not a crash)"

func configureCrashChild(*exec.Cmd) {}

func killCrashChild(*os.Process) error { return errors.New("not supported on this system") }

func killedBySIGKILL(*os.ProcessState) bool { return false }

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testtools"
)

// The Wine tests run sluice.exe, built for Windows, under Wine from this
// Linux test: Windows paths (Z:\ is /), Windows file APIs as Wine has them,
// the buffer and the Loki output, against the Linux VictoriaLogs on
// 127.0.0.1. kubelet is the Linux writer, so its removals have Linux
// semantics: Wine's share modes bind Wine processes only.

// wineExec is the wrapper scripts/install-test-tools.sh installs: it runs a
// Windows binary under Wine in the prefix the script prepared (with the
// ProcessPrng forwarder every Go binary needs under Wine 8).
const wineExec = "go_windows_amd64_exec"

// wineSluice runs sluice.exe through wineExec.
type wineSluice struct {
	exe  string // sluice.exe
	exec string // the wrapper
}

// command runs sluice.exe with args under Wine.
func (w *wineSluice) command(args ...string) *exec.Cmd {
	return exec.Command(w.exec, append([]string{w.exe}, args...)...)
}

// serverPIDs are the running wineservers (wineserver64 on Debian): a Wine
// process's open files are held by its wineserver too.
func (w *wineSluice) serverPIDs() []int { return processesNamed("wineserver") }

// interrupt asks sluice.exe to shut down cleanly. Wine turns SIGINT into a
// CTRL_C_EVENT, which Go reports as os.Interrupt; SIGTERM would end the
// process at once, as a kill does.
func interrupt(p *os.Process) error { return p.Signal(os.Interrupt) }

// winPath is path as sluice.exe names it: Wine maps drive Z: to /.
func winPath(path string) string { return `Z:` + strings.ReplaceAll(path, "/", `\`) }

var (
	wineOnce  sync.Once
	wineFound *wineSluice
	wineErr   error // why Wine cannot be used; errWineMissing when it is not installed
)

var errWineMissing = errors.New("Wine is not installed")

// requireWine builds sluice.exe (once per test binary) and finds the Wine
// wrapper. Without Wine the test is skipped, or fails under CI=true.
func requireWine(t *testing.T) *wineSluice {
	t.Helper()
	requireSluice(t)
	wineOnce.Do(func() { wineFound, wineErr = findWine() })
	if errors.Is(wineErr, errWineMissing) {
		msg := fmt.Sprintf("%v: run scripts/install-test-tools.sh, which installs Wine and %s", wineErr, wineExec)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing Wine is a failure)")
		}
		t.Skip(msg)
	}
	if wineErr != nil {
		t.Fatal(wineErr)
	}
	return wineFound
}

// findWine looks for wineExec in the test tools' bin folder, then on PATH,
// and builds sluice.exe next to the Linux binary.
func findWine() (*wineSluice, error) {
	wrapper := filepath.Join(testtools.Dir(), "bin", wineExec)
	if testtools.CheckExecutable(wrapper) != nil {
		p, err := exec.LookPath(wineExec)
		if err != nil {
			return nil, fmt.Errorf("%w: no %s in %s or on PATH", errWineMissing, wineExec, filepath.Dir(wrapper))
		}
		wrapper = p
	}
	exe := filepath.Join(filepath.Dir(sluiceBin), "sluice.exe")
	args := []string{"build", "-o", exe, "-ldflags", "-X main.version=" + testVersion, "../cmd/sluice"}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("GOOS=windows go %v: %w\n%s", args, err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %v\n", exe, time.Since(start).Round(time.Millisecond))
	return &wineSluice{exe: exe, exec: wrapper}, nil
}

// TestKubeletRotationWine is TestKubeletRotation with sluice.exe under
// Wine: sluice runs throughout, every line must arrive exactly once.
func TestKubeletRotationWine(t *testing.T) {
	runKubeletPlain(t, kubeOptions{wine: requireWine(t)})
}

// TestKubeletRotationWineStopped is TestKubeletRotationStopped with
// sluice.exe under Wine, stopped with SIGINT (see interrupt). It takes a
// minute, the same as its Linux twin that make test runs, so it runs with
// make soak (SLUICE_SOAK=1).
func TestKubeletRotationWineStopped(t *testing.T) {
	requireSoak(t)
	runKubeletStopped(t, kubeOptions{wine: requireWine(t), maxSize: kubeStoppedMaxSize})
}

// requireSoak skips a long run unless make soak asked for it.
func requireSoak(t *testing.T) {
	t.Helper()
	if os.Getenv("SLUICE_SOAK") == "" {
		t.Skip("a long run: make soak (SLUICE_SOAK=1) runs it")
	}
}

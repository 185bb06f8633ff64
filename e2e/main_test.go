package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// testVersion is stamped into the binary under test, so `sluice version`
// can be checked exactly.
const testVersion = "v0.0.0-e2e"

// sluiceBin is the binary TestMain built; it is set once, before any test
// runs, and empty where the tests skip.
var sluiceBin string

// loadBin is sluice built as it ships, without the race detector (which
// makes it several times slower): the kubelet rotation tests hold it to
// kubelet's pace, and a binary that cannot keep up loses lines to pruning
// for a reason no user would meet. It is sluiceBin when the tests run
// without -race.
var loadBin string

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

// runTests builds sluice, runs the tests, and then checks that they left
// neither goroutines nor child processes behind.
func runTests(m *testing.M) int {
	if platformSkip == "" {
		dir, err := os.MkdirTemp("", "sluice-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e: create folder for the binary:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin, err := buildSluice(dir, "sluice", raceEnabled)
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		sluiceBin, loadBin = bin, bin
		if raceEnabled {
			if loadBin, err = buildSluice(dir, "sluice-load", false); err != nil {
				fmt.Fprintln(os.Stderr, "e2e:", err)
				return 1
			}
		}
	}
	code := m.Run()
	if err := leftoverChildren(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: processes left behind:", err)
		return 1
	}
	if code != 0 {
		return code // goroutines of a failed test may legitimately linger
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: goroutines left behind:", err)
		return 1
	}
	return 0
}

// buildSluice builds ../cmd/sluice into dir as name, with the race
// detector when race is set, and makes it runnable by an unprivileged user
// (TestBadInput drops to one).
func buildSluice(dir, name string, race bool) (string, error) {
	bin := filepath.Join(dir, name)
	args := []string{"build", "-o", bin, "-ldflags", "-X main.version=" + testVersion}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "../cmd/sluice")
	start := time.Now()
	cmd := exec.Command("go", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %v: %w\n%s", args, err, out)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("open the binary's folder to other users: %w", err)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s (race detector: %v) in %v\n", bin, race, time.Since(start).Round(time.Millisecond))
	return bin, nil
}

// sluiceCommand prepares the binary under test with args. A race-enabled
// binary would sleep a second at exit; it is told not to.
func sluiceCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(sluiceBin, args...)
	if raceEnabled {
		cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	}
	return cmd
}

// requireSluice skips a test where the binary cannot be built and run.
func requireSluice(t *testing.T) {
	t.Helper()
	if platformSkip != "" {
		t.Skip(platformSkip)
	}
	if sluiceBin == "" {
		t.Fatal("sluice binary was not built")
	}
}

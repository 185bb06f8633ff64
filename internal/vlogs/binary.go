package vlogs

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sluicelog/sluice/internal/testtools"
)

const (
	// envBinary names the binary to run, overriding every other place.
	envBinary = "SLUICE_VICTORIALOGS"
	// binaryName is what go install calls the binary.
	binaryName = "victoria-logs"
)

// errNotFound says no binary was found where install-test-tools.sh puts
// it nor on PATH; Start turns it into a skip outside CI.
var errNotFound = errors.New("VictoriaLogs binary not found")

// findBinary looks in $SLUICE_VICTORIALOGS, then in the test tools' bin
// folder, then on PATH. A $SLUICE_VICTORIALOGS that names no usable file is
// an error of its own: someone asked for that binary, so skipping would
// hide the mistake.
func findBinary() (string, error) {
	if p := os.Getenv(envBinary); p != "" {
		if err := testtools.CheckExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", envBinary, p, err)
		}
		return p, nil
	}
	var tried []string
	if dir := testtools.Dir(); dir != "" {
		p := filepath.Join(dir, "bin", binaryName)
		if testtools.CheckExecutable(p) == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath(binaryName); err == nil {
		return p, nil
	}
	tried = append(tried, binaryName+" on PATH")
	return "", fmt.Errorf("%w (looked for %s)", errNotFound, strings.Join(tried, ", "))
}

// binaryVersion is the module version go install recorded in the binary,
// the only version it carries: it prints none itself.
func binaryVersion(p string) string {
	info, err := buildinfo.ReadFile(p)
	if err != nil {
		return "unknown"
	}
	return info.Main.Version
}

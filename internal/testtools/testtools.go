// Package testtools holds what the test-server packages (internal/vlogs,
// internal/kubetest) share: where scripts/install-test-tools.sh puts the
// servers, and how to show the end of a server's output when a test fails.
package testtools

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// EnvTools names the folder the install scripts install into.
const EnvTools = "SLUICE_TEST_TOOLS"

// Dir is where the install scripts put their tools, by the same rule as
// the scripts: $SLUICE_TEST_TOOLS, else ~/.cache/sluice-test-tools; "" when
// neither is known.
func Dir() string {
	if dir := os.Getenv(EnvTools); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "sluice-test-tools")
}

// CheckExecutable says whether p is a file that can be run. Windows has no
// execute bits, so there any file will do.
func CheckExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || (runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0) {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// Tail returns up to n last lines of the file at p (of its last 32 KiB),
// or a note saying why it could not.
func Tail(p string, n int) string {
	const maxBytes = 32 << 10
	f, err := os.Open(p)
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxBytes {
		if _, err := f.Seek(-maxBytes, io.SeekEnd); err != nil {
			return fmt.Sprintf("(seek output: %v)", err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read output: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

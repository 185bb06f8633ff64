package deploy

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/testtools"
)

const (
	// chartDir is the chart, from this package's folder.
	chartDir = "helm/sluice"
	// helmVersion is what scripts/install-test-tools.sh installs.
	helmVersion = "v4.3.2"
	// release and namespace are the names the plain manifests are rendered with.
	release   = "sluice"
	namespace = "sluice"
)

// helmBin finds helm: the test tools' bin first (the pinned version), then
// PATH. A missing helm skips the test, or fails it under CI=true, where a
// check that did not run must not pass.
func helmBin(t *testing.T) string {
	t.Helper()
	if helmSkip != "" {
		t.Skip(helmSkip)
	}
	if dir := testtools.Dir(); dir != "" {
		p := filepath.Join(dir, "bin", "helm")
		if testtools.CheckExecutable(p) == nil {
			return p
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	msg := "helm not found in the test tools' bin or on PATH; run scripts/install-test-tools.sh"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing helm is a failure)")
	}
	t.Skip(msg)
	return ""
}

// runHelm runs helm with args and returns its standard output, or its
// error with standard error. Its config, cache and data folders are the
// test's own, so nothing of the user's (repositories, plugins) counts.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := helmBin(t)
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), errors.New(strings.TrimSpace(stderr.String()))
		}
		return "", err
	}
	return stdout.String(), nil
}

// templateArgs are the arguments of `helm template` for the chart as
// release rel in namespace ns with the given values files; `make
// manifests` runs it as release and namespace with none.
func templateArgs(rel, ns string, valuesFiles ...string) []string {
	args := []string{"template", rel, chartDir, "--namespace", ns}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	return args
}

// render runs `helm template` over the chart as release in namespace with
// the values files and extra arguments (such as --set), failing the test
// on an error.
func render(t *testing.T, valuesFiles []string, extra ...string) []byte {
	t.Helper()
	return renderAs(t, release, namespace, valuesFiles, extra...)
}

// renderAs is render as release rel in namespace ns.
func renderAs(t *testing.T, rel, ns string, valuesFiles []string, extra ...string) []byte {
	t.Helper()
	out, err := runHelm(t, append(templateArgs(rel, ns, valuesFiles...), extra...)...)
	if err != nil {
		t.Fatalf("helm template %v %v: %v", valuesFiles, extra, err)
	}
	return []byte(out)
}

// TestHelmVersion says which helm the tests run: another v4 release is
// used with a note, another major version fails, since its template
// functions and schema checks differ.
func TestHelmVersion(t *testing.T) {
	bin := helmBin(t)
	v := "unknown"
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		for _, m := range append(bi.Deps, &bi.Main) {
			if m.Path == "helm.sh/helm/v4" {
				v = m.Version
			}
		}
	}
	if v == "unknown" {
		out, err := runHelm(t, "version", "--template", "{{.Version}}")
		if err != nil {
			t.Fatal(err)
		}
		v = strings.TrimSpace(out)
	}
	switch {
	case v == helmVersion:
		t.Logf("%s is helm %s", bin, v)
	case strings.HasPrefix(v, "v4."):
		t.Logf("%s is helm %s, not %s: results may differ", bin, v, helmVersion)
	default:
		t.Fatalf("%s is helm %s, want %s", bin, v, helmVersion)
	}
}

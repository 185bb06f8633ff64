package podcache

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// TestInClusterConfigUnderSandboxMountPoint checks the fallback for
// HostProcess containers on containerd 1.6, whose service account volume is
// under $CONTAINER_SANDBOX_MOUNT_POINT instead of its mount path.
func TestInClusterConfigUnderSandboxMountPoint(t *testing.T) {
	if _, err := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token"); err == nil {
		t.Skip("this machine has a service account at the mount path; the fallback is not reached")
	}
	root := testdir.New(t)
	dir := filepath.Join(root, "var", "run", "secrets", "kubernetes.io", "serviceaccount")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"token", "ca.crt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "443")

	t.Setenv("CONTAINER_SANDBOX_MOUNT_POINT", "")
	if _, err := restConfig("", slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("no service account anywhere, yet a config came back")
	}

	t.Setenv("CONTAINER_SANDBOX_MOUNT_POINT", root)
	var logged bytes.Buffer
	rc, err := restConfig("", slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != "https://10.0.0.1:443" || rc.BearerTokenFile != filepath.Join(dir, "token") || rc.CAFile != filepath.Join(dir, "ca.crt") {
		t.Fatalf("config = host %s, token %s, CA %s", rc.Host, rc.BearerTokenFile, rc.CAFile)
	}
	if !bytes.Contains(logged.Bytes(), []byte(`found="under CONTAINER_SANDBOX_MOUNT_POINT"`)) {
		t.Errorf("no log line says the service account was found under the sandbox root:\n%s", logged.String())
	}
	if rc.UserAgent != "sluice" {
		t.Fatalf("user agent %q", rc.UserAgent)
	}
}

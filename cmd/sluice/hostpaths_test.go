package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/internal/hostpath"
	"github.com/sluicelog/sluice/internal/testdir"
)

// sandboxed is a file tree as containerd 1.6 shows a HostProcess container
// its volumes: the configured paths (under host) exist only below the
// sandbox root.
type sandboxed struct {
	t          *testing.T
	host, root string
}

// in returns where the host path p is found in the sandbox.
func (s sandboxed) in(p string) string {
	return hostpath.ResolveIn(s.root, p, hostpath.Create).Path
}

// write puts a file at the host path p, below the sandbox root.
func (s sandboxed) write(p, content string) {
	s.t.Helper()
	alt := filepath.Join(s.root, strings.TrimPrefix(p, filepath.VolumeName(p)))
	if err := os.MkdirAll(filepath.Dir(alt), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(alt, []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// TestConfigPathsUnderSandbox runs validate with -config and every file it
// names present only under $CONTAINER_SANDBOX_MOUNT_POINT: each is found
// there, and a file to create goes next to the folder that exists.
func TestConfigPathsUnderSandbox(t *testing.T) {
	s := sandboxed{t: t, host: testdir.New(t), root: testdir.New(t)}
	h := func(elem ...string) string { return filepath.Join(append([]string{s.host}, elem...)...) }
	cfgPath, pw, ca := h("etc", "sluice.yaml"), h("secrets", "password"), h("certs", "ca.pem")
	s.write(pw, "secret\n")
	s.write(ca, "not a certificate, read only\n")
	s.write(h("data", ".keep"), "")
	s.write(cfgPath, fmt.Sprintf(`data_dir: %q
outputs:
  loki:
    url: https://loki/push
    basic_auth: {username: u, password_file: %q}
    tls: {ca_file: %q}
    dead_letter: {path: %q}
`, h("data", "sluice"), pw, ca, h("data", "dead.jsonl")))

	var out, errOut bytes.Buffer
	code := runMain([]string{"validate", "-config", cfgPath}, &out, &errOut)
	if code == 0 {
		t.Fatalf("without %s the files were found: %s", hostpath.SandboxEnv, out.String())
	}

	t.Setenv(hostpath.SandboxEnv, s.root)
	out.Reset()
	errOut.Reset()
	code = runMain([]string{"validate", "-config", cfgPath}, &out, &errOut)
	t.Logf("stdout:\n%sstderr:\n%s", out.String(), errOut.String())
	if code != 0 {
		t.Fatalf("validate exit %d", code)
	}
	for _, want := range []string{
		"data_dir: " + s.in(h("data", "sluice")) + ": ok, to be created in " + s.in(h("data")),
		"outputs.loki.basic_auth.password_file: " + s.in(pw) + ": ok",
		"outputs.loki.tls.ca_file: " + s.in(ca) + ": ok",
		"outputs.loki.dead_letter.path: " + s.in(h("data", "dead.jsonl")) + ": ok, to be created in " + s.in(h("data")),
		s.in(cfgPath) + ": configuration is valid",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("validate does not say %q", want)
		}
	}
}

// TestPathChoicesLogged checks the log line that says, in a HostProcess
// container, which path was used for each key.
func TestPathChoicesLogged(t *testing.T) {
	s := sandboxed{t: t, host: testdir.New(t), root: testdir.New(t)}
	pw := filepath.Join(s.host, "password")
	s.write(pw, "secret\n")
	cfg := config.Default()
	cfg.DataDir = s.host
	cfg.Outputs.Loki = &config.Loki{URL: "http://loki/push", BearerTokenFile: pw}

	t.Setenv(hostpath.SandboxEnv, s.root)
	chosen := resolveConfigPaths(&cfg)
	if cfg.Outputs.Loki.BearerTokenFile != s.in(pw) || cfg.DataDir != s.host {
		t.Fatalf("token file %s, data_dir %s", cfg.Outputs.Loki.BearerTokenFile, cfg.DataDir)
	}
	var logged bytes.Buffer
	logPathChoices(newLogger(config.Log{Format: "text"}, &logged), chosen)
	for _, want := range []string{
		fmt.Sprintf("key=data_dir path=%s used=%s found=\"as given\"", s.host, s.host),
		fmt.Sprintf("key=outputs.loki.bearer_token_file path=%s used=%s found=\"under %s\"", pw, s.in(pw), hostpath.SandboxEnv),
	} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
}

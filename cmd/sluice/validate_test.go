package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// sluiceValidate runs `sluice validate -config` on yaml and returns the exit
// code and what it printed.
func sluiceValidate(t *testing.T, dir, yaml string) (code int, stdout, stderr string) {
	t.Helper()
	path := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code = runMain([]string{"validate", "-config", path}, &out, &errOut)
	t.Logf("exit %d\nstdout:\n%sstderr:\n%s", code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// validate says for each key that names a file whether sluice can use it,
// and fails when one cannot be used.
func TestValidateChecksFiles(t *testing.T) {
	dir := testdir.New(t)
	file := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, pw, kube := file("ca.pem"), file("password"), file("kubeconfig")
	notAFolder := file("plain")
	folder := filepath.Join(dir, "certs")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "client.key")
	dataDir := filepath.Join(dir, "state", "sluice")
	config := func(certFile, keyFile, deadLetter string) string {
		return fmt.Sprintf(`data_dir: %q
kubernetes: {kubeconfig: %q}
outputs:
  stdout: {path: %q}
  loki:
    url: https://loki/push
    basic_auth: {username: u, password_file: %q}
    tls: {ca_file: %q, cert_file: %q, key_file: %q}
    dead_letter: {path: %q}
`, dataDir, kube, filepath.Join(dir, "out.jsonl"), pw, ca, certFile, keyFile, deadLetter)
	}
	yaml := config(folder, missing, filepath.Join(notAFolder, "dead.jsonl"))
	code, stdout, stderr := sluiceValidate(t, dir, yaml)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		key, rest, _ := strings.Cut(l, ": ")
		lines[key] = rest
	}
	for key, want := range map[string]string{
		"data_dir":                              dataDir + ": ok, to be created in " + dir,
		"kubernetes.kubeconfig":                 kube + ": ok",
		"outputs.stdout.path":                   filepath.Join(dir, "out.jsonl") + ": ok, to be created in " + dir,
		"outputs.loki.basic_auth.password_file": pw + ": ok",
		"outputs.loki.tls.ca_file":              ca + ": ok",
		"outputs.loki.tls.cert_file":            folder,  // a folder: cannot be read as a file
		"outputs.loki.tls.key_file":             missing, // missing
		"outputs.loki.dead_letter.path":         notAFolder,
	} {
		got, ok := lines[key]
		switch {
		case !ok:
			t.Errorf("no line for %s", key)
		case strings.HasSuffix(want, "ok") || strings.Contains(want, ": ok, "):
			if got != want {
				t.Errorf("%s: %q, want %q", key, got, want)
			}
		case !strings.Contains(got, want) || strings.Contains(got, ": ok"):
			t.Errorf("%s: %q, want a failure naming %s", key, got, want)
		}
	}
	if len(lines) != 8 {
		t.Errorf("%d lines, want one per key named: %q", len(lines), stdout)
	}
	if !strings.Contains(stderr, "3 of the files") || strings.Contains(stdout, "configuration is valid") {
		t.Errorf("stderr %q, stdout %q: want 3 failures and no claim of validity", stderr, stdout)
	}

	// Once every file is there, validate passes.
	yaml = config(ca, ca, filepath.Join(dir, "dead.jsonl"))
	if code, stdout, _ := sluiceValidate(t, dir, yaml); code != 0 || !strings.Contains(stdout, "configuration is valid") {
		t.Errorf("with every file usable: exit %d, stdout %q", code, stdout)
	}
}

// validate compiles the parsers' patterns and rules, naming the key of
// each that does not compile.
func TestValidateParsers(t *testing.T) {
	dir := testdir.New(t)
	code, _, stderr := sluiceValidate(t, dir, fmt.Sprintf("data_dir: %q\noutputs:\n  stdout: {}\ninputs:\n  files:\n    parsers:\n"+
		"      - {match: '/var/log/containers/[', multiline: dotnet}\n"+
		"      - {match: '/var/log/containers/*.log', multiline: cobol}\n"+
		"      - {match: '/var/log/containers/*.log', multiline: 'start:(', continue: x}\n", filepath.Join(dir, "data")))
	for _, want := range []string{"inputs.files.parsers[0].match", "inputs.files.parsers[1].multiline", "want one of", "inputs.files.parsers[2].multiline"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	code, stdout, _ := sluiceValidate(t, dir, fmt.Sprintf("data_dir: %q\noutputs:\n  stdout: {}\ninputs:\n  files:\n    parsers:\n"+
		"      - {match: '/var/log/containers/*_shop_*.log', multiline: 'start:^\\d', continue: '^\\s'}\n", filepath.Join(dir, "data")))
	if code != 0 || !strings.Contains(stdout, "configuration is valid") {
		t.Errorf("a valid parser: exit %d", code)
	}
}

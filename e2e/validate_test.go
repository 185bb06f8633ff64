package e2e

import (
	"bytes"
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestValidateAndVersion runs the commands that do not tail: validate on
// good and bad configurations (a bad one is refused with exit code 1 and a
// message naming the key and its line, by validate and by run alike) and
// version.
func TestValidateAndVersion(t *testing.T) {
	requireSluice(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // substrings of standard output
		wantErr  []string // substrings of standard error
	}{
		{name: "valid config", args: []string{"validate", "-config", "testdata/valid.yaml"},
			wantOut: []string{"configuration is valid"}},
		{name: "unknown key", args: []string{"validate", "-config", "testdata/unknown_key.yaml"},
			wantCode: 1, wantErr: []string{"poll_intervall", "line 7"}},
		{name: "unknown key refused by run", args: []string{"run", "-config", "testdata/unknown_key.yaml"},
			wantCode: 1, wantErr: []string{"poll_intervall", "line 7"}},
		// DESIGN.md wants the key named here too (batch_size); the YAML
		// decoder names only the value and the line.
		{name: "wrong type", args: []string{"validate", "-config", "testdata/wrong_type.yaml"},
			wantCode: 1, wantErr: []string{"many", "line 6", "inputs.files.batch_size"}},
		{name: "missing config file", args: []string{"validate", "-config", "testdata/absent.yaml"},
			wantCode: 1, wantErr: []string{"absent.yaml"}},
		{name: "version", args: []string{"version"}, wantOut: []string{"sluice " + testVersion + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := sluiceCommand(tt.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// A config accepted by mistake would make `run` run on.
			timer := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
			err := cmd.Wait()
			timer.Stop()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatalf("run sluice %v: %v", tt.args, err)
			}
			if code != tt.wantCode {
				t.Fatalf("sluice %s: exit code %d, want %d\nstdout: %s\nstderr: %s",
					strings.Join(tt.args, " "), code, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout %q does not contain %q", stdout.String(), want)
				}
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q does not contain %q", stderr.String(), want)
				}
			}
			t.Logf("stdout %q, stderr %q", stdout.String(), stderr.String())
		})
	}
	t.Run("version format", func(t *testing.T) {
		out, err := sluiceCommand("version").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^sluice \S+\n$`).Match(out) {
			t.Errorf("sluice version printed %q, want one line `sluice <version>`", out)
		}
	})
}

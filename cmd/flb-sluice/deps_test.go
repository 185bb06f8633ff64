//go:build linux

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// daemonOnly are packages the plugin must not link: the daemon's stages
// and their libraries. The plugin is outputs/ alone, plus config for the
// meaning of its keys.
var daemonOnly = []string{
	"github.com/sluicelog/sluice/buffer",
	"github.com/sluicelog/sluice/inputs",
	"github.com/sluicelog/sluice/enrich",
	"github.com/sluicelog/sluice/parse",
	"github.com/sluicelog/sluice/metrics",
	"github.com/sluicelog/sluice/cmd/sluice",
	"github.com/prometheus/",
	"k8s.io/",
	"sigs.k8s.io/",
}

// TestNoDaemonPackages lists what the plugin links, for Linux and Windows.
func TestNoDaemonPackages(t *testing.T) {
	for _, goos := range []string{"linux", "windows"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS="+goos, "GOARCH=amd64")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (%s): %v", goos, err)
		}
		deps := strings.Fields(string(out))
		if !contains(deps, "github.com/sluicelog/sluice/outputs/loki") || !contains(deps, "github.com/fluent/fluent-bit-go/output") {
			t.Fatalf("%s: the list lacks the plugin's own packages: %q", goos, deps)
		}
		for _, d := range deps {
			for _, bad := range daemonOnly {
				if d == bad || strings.HasPrefix(d, strings.TrimSuffix(bad, "/")+"/") || (strings.HasSuffix(bad, "/") && strings.HasPrefix(d, bad)) {
					t.Errorf("%s: the plugin links %s", goos, d)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

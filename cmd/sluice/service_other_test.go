//go:build !windows

package main

import (
	"bytes"
	"strings"
	"testing"
)

// runChildIfAsked has nothing to do: no service manager starts tests here.
func runChildIfAsked() {}

// TestServiceWindowsOnly checks that `sluice service` and `run -service`
// say they are for Windows, rather than doing something else.
func TestServiceWindowsOnly(t *testing.T) {
	for _, args := range [][]string{
		{"service", "install", "-config", "sluice.yaml"},
		{"service", "stop"},
	} {
		var out, errOut bytes.Buffer
		if code := runMain(args, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "works on Windows only") {
			t.Errorf("sluice %s: exit %d, %q", strings.Join(args, " "), code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := runMain([]string{"service", "restart"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage: sluice service install|uninstall|start|stop") {
		t.Errorf("sluice service restart: exit %d, %q", code, errOut.String())
	}
}

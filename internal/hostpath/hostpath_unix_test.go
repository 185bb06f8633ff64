//go:build !windows

package hostpath

import "testing"

// TestUnderRootUnix checks that absolute paths go under the root and
// relative ones are never mounts.
func TestUnderRootUnix(t *testing.T) {
	for _, tc := range []struct {
		path, want string
		ok         bool
	}{
		{"/var/run/secrets/token", "/sandbox/var/run/secrets/token", true},
		{"/etc/sluice/../sluice/sluice.yaml", "/sandbox/etc/sluice/sluice.yaml", true},
		{"sluice.yaml", "", false},
	} {
		got, ok := underRoot("/sandbox", tc.path)
		if ok != tc.ok || got != tc.want {
			t.Errorf("underRoot(%q) = %q, %v; want %q, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

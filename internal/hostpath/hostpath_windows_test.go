package hostpath

import "testing"

// TestUnderRootWindows checks the path forms a Windows configuration holds:
// the drive goes (volumes are mounted by path, without their drive), both
// separators count, and shares and drive-relative paths are never mounts.
func TestUnderRootWindows(t *testing.T) {
	const root = `c:\C\0123abcd`
	for _, tc := range []struct {
		path, want string
		ok         bool
	}{
		{`C:\var\lib\sluice`, `c:\C\0123abcd\var\lib\sluice`, true},
		{`c:/etc/sluice/sluice.yaml`, `c:\C\0123abcd\etc\sluice\sluice.yaml`, true},
		{`\var\run\secrets\token`, `c:\C\0123abcd\var\run\secrets\token`, true},
		{`/var/run/secrets/kubernetes.io/serviceaccount/token`, `c:\C\0123abcd\var\run\secrets\kubernetes.io\serviceaccount\token`, true},
		{`\\server\share\ca.pem`, "", false},
		{`C:ca.pem`, "", false},
		{`ca.pem`, "", false},
	} {
		got, ok := underRoot(root, tc.path)
		if ok != tc.ok || got != tc.want {
			t.Errorf("underRoot(%q) = %q, %v; want %q, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

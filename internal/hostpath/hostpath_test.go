package hostpath

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/internal/testdir"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestResolveIn builds a host folder and a sandbox root that mirrors part of
// it, as containerd 1.6 does, and checks where each kind of path goes.
func TestResolveIn(t *testing.T) {
	host := testdir.New(t)
	root := testdir.New(t)
	// mkdir makes dir, given as a host path, on the host or under the root.
	mkdir := func(under, dir string) {
		t.Helper()
		p := dir
		if under != "" {
			p, _ = underRoot(under, dir)
		}
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile := func(under, path string) {
		t.Helper()
		mkdir(under, filepath.Dir(path))
		p := path
		if under != "" {
			p, _ = underRoot(under, path)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := func(elem ...string) string { return filepath.Join(append([]string{host}, elem...)...) }
	writeFile("", h("both", "token"))
	writeFile(root, h("both", "token"))
	writeFile(root, h("secrets", "token"))
	mkdir("", h("state"))
	mkdir(root, h("mounted"))
	mkdir(root, h("data", "sluice"))
	// A relative path is never looked up under the root, even when the
	// same relative path exists there.
	if err := os.MkdirAll(filepath.Join(root, "relative"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "relative", "token"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, root, path string
		use              Use
		want             Where
	}{
		{"no sandbox: as given", "", h("secrets", "token"), Read, Given},
		{"on the host and in the sandbox: the host wins", root, h("both", "token"), Read, Given},
		{"only in the sandbox (containerd 1.6)", root, h("secrets", "token"), Read, Sandbox},
		{"read, nowhere: as given, so the error names it", root, h("missing", "token"), Read, Given},
		{"folder present in the sandbox only", root, h("data", "sluice"), Create, Sandbox},
		{"to create, parent on the host", root, h("state", "dead.jsonl"), Create, Given},
		{"to create, parent only in the sandbox", root, h("mounted", "dead.jsonl"), Create, Sandbox},
		{"to create, no parent anywhere: as given", root, h("new", "sluice"), Create, Given},
		{"relative: as given", root, filepath.Join("relative", "token"), Read, Given},
		{"empty", root, "", Read, Given},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ResolveIn(tc.root, tc.path, tc.use)
			want := tc.path
			if tc.want == Sandbox {
				want, _ = underRoot(root, tc.path)
			}
			if got.Where != tc.want || got.Path != want || got.Given != tc.path {
				t.Fatalf("ResolveIn(%q, %q) = %+v, want %s (%s)", tc.root, tc.path, got, want, tc.want)
			}
		})
	}
}

// TestResolveReadsTheEnvironment checks that Resolve takes its root from
// $CONTAINER_SANDBOX_MOUNT_POINT.
func TestResolveReadsTheEnvironment(t *testing.T) {
	root := testdir.New(t)
	path := filepath.Join(testdir.New(t), "sluice.yaml")
	alt, _ := underRoot(root, path)
	if err := os.MkdirAll(filepath.Dir(alt), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alt, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(SandboxEnv, "")
	if got := Resolve(path, Read); got.Where != Given {
		t.Errorf("variable unset: %+v", got)
	}
	t.Setenv(SandboxEnv, root)
	if got := Resolve(path, Read); got.Where != Sandbox || got.Path != alt {
		t.Errorf("variable set to %s: %+v", root, got)
	}
}

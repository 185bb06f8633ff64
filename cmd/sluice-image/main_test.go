//go:build linux

package main

import (
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hello builds a tiny static program for goos, standing in for sluice:
// this test is about the command, not the daemon.
func hello(t *testing.T, dir, goos string) string {
	t.Helper()
	src := filepath.Join(dir, "hello.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello-"+goos)
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func sluiceImage(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runMain(args, &out, &errOut)
	t.Logf("sluice-image %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// TestBuildAndPush runs what make images and make push run: two builds of
// the same binaries give the same index digest, and push uploads it to a
// registry on 127.0.0.1 and prints the reference by that digest.
func TestBuildAndPush(t *testing.T) {
	dir := t.TempDir()
	lin, win := hello(t, dir, "linux"), hello(t, dir, "windows")
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("bundle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, out := range []string{"a", "b"} {
		code, stdout, _ := sluiceImage(t, "build", "-linux", lin, "-windows", win, "-ca", ca, "-version", "t1", "-out", filepath.Join(dir, out))
		if code != 0 {
			t.Fatalf("build exit %d", code)
		}
		f := strings.Fields(stdout)
		digests = append(digests, f[len(f)-3])
	}
	if digests[0] != digests[1] || !strings.HasPrefix(digests[0], "sha256:") {
		t.Fatalf("two builds of the same binaries: %v", digests)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/sluice"
	code, stdout, _ := sluiceImage(t, "push", "-insecure", "-from", filepath.Join(dir, "a"), repo+":t1")
	if code != 0 || strings.TrimSpace(stdout) != repo+"@"+digests[0] {
		t.Fatalf("push: exit %d, printed %q, want %s@%s", code, stdout, repo, digests[0])
	}
	ref, err := name.NewDigest(strings.TrimSpace(stdout), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Index(ref); err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	tag, err := name.NewTag(repo+":t1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(tag)
	if err != nil || desc.Digest.String() != digests[0] {
		t.Fatalf("tag t1 points at %v (%v), want %s", desc, err, digests[0])
	}
}

// TestUsage checks that mistakes get a usage message and a non-zero exit.
func TestUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: sluice-image build|push"},
		{[]string{"tag"}, 2, `unknown command "tag"`},
		{[]string{"push", "-from", dir}, 1, "want one image reference"},
		{[]string{"push", "-from", dir, "registry.invalid/sluice:1"}, 1, "read OCI layout"},
		{[]string{"build", "-linux", filepath.Join(dir, "none"), "-out", filepath.Join(dir, "o")}, 1, "read the linux binary"},
	} {
		code, _, stderr := sluiceImage(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("sluice-image %q: exit %d, %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

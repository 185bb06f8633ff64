//go:build linux

package imagebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/internal/testtools"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testVersion = "image-test"

// buildSluice builds the daemon for goos/amd64 as make images does.
func buildSluice(t *testing.T, goos, out string) []byte {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+testVersion, "-o", out, "../../cmd/sluice")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", goos, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layerFiles reads an image's layers into name → (header, content).
func layerFiles(t *testing.T, img v1.Image) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	hdrs, data := map[string]*tar.Header{}, map[string][]byte{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			hdrs[h.Name], data[h.Name] = h, b
		}
		rc.Close()
	}
	return hdrs, data
}

// TestImagesThroughRegistry builds both images from the real daemon,
// writes and reads the OCI layout, pushes the index to a registry on
// 127.0.0.1, pulls it back by digest and checks what a node would get.
func TestImagesThroughRegistry(t *testing.T) {
	dir := t.TempDir()
	linuxBin := buildSluice(t, "linux", filepath.Join(dir, "sluice"))
	exe := buildSluice(t, "windows", filepath.Join(dir, "sluice.exe"))
	caPath := filepath.Join(dir, "ca.pem")
	ca := []byte("-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n")
	if err := os.WriteFile(caPath, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := Build(Options{LinuxBinary: filepath.Join(dir, "sluice"), WindowsBinary: filepath.Join(dir, "sluice.exe"), CAFile: caPath, Version: testVersion,
		GzipLevel: gzip.BestSpeed}) // -race makes compress/flate slow
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(dir, "image")
	if err := WriteLayout(layoutDir, idx); err != nil {
		t.Fatal(err)
	}
	fromDisk, err := ReadLayout(layoutDir)
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	if !strings.HasPrefix(host, "127.0.0.1:") {
		t.Fatalf("registry listens on %s, not the loopback address", host)
	}
	pushed, err := Push(host+"/sluice:"+testVersion, fromDisk, true)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := idx.Digest()
	if pushed.DigestStr() != want.String() {
		t.Fatalf("pushed %s, built index %s", pushed, want)
	}
	ref, err := name.NewDigest(pushed.String(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, err := pulled.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 {
		t.Fatalf("index holds %d manifests, want 2", len(im.Manifests))
	}
	for _, desc := range im.Manifests {
		p := desc.Platform
		if p == nil || p.Architecture != "amd64" || p.OSVersion != "" {
			t.Fatalf("manifest %s: platform %+v", desc.Digest, p)
		}
		img, err := remote.Image(ref.Context().Digest(desc.Digest.String()), remote.WithPlatform(*p))
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != p.OS || cf.Architecture != "amd64" || cf.OSVersion != "" {
			t.Errorf("%s config: os %q arch %q os.version %q", p.OS, cf.OS, cf.Architecture, cf.OSVersion)
		}
		if v := cf.Config.Labels["org.opencontainers.image.version"]; v != testVersion {
			t.Errorf("%s version label %q", p.OS, v)
		}
		hdrs, data := layerFiles(t, img)
		switch p.OS {
		case "linux":
			checkLinux(t, cf.Config, hdrs, data, linuxBin, ca)
		case "windows":
			checkWindowsImage(t, cf.Config, hdrs, data, exe)
		default:
			t.Errorf("unexpected platform %+v", p)
		}
	}
}

func checkLinux(t *testing.T, cfg v1.Config, hdrs map[string]*tar.Header, data map[string][]byte, bin, ca []byte) {
	t.Helper()
	if !reflect.DeepEqual(cfg.Entrypoint, []string{"/sluice"}) || !reflect.DeepEqual(cfg.Cmd, []string{"run", "-config", ConfigPath}) {
		t.Errorf("linux entrypoint %q cmd %q", cfg.Entrypoint, cfg.Cmd)
	}
	if cfg.User != "65532:65532" {
		t.Errorf("linux user %q, want a numeric non-root uid", cfg.User)
	}
	if h := hdrs["sluice"]; h == nil || h.Mode&0o111 == 0 || !bytes.Equal(data["sluice"], bin) {
		t.Errorf("/sluice: %+v", h)
	}
	if err := checkStatic(data["sluice"]); err != nil {
		t.Errorf("/sluice: %v", err)
	}
	if !bytes.Equal(data[LinuxCAPath], ca) {
		t.Errorf("/%s holds %q", LinuxCAPath, data[LinuxCAPath])
	}
}

func checkWindowsImage(t *testing.T, cfg v1.Config, hdrs map[string]*tar.Header, data map[string][]byte, exe []byte) {
	t.Helper()
	if !reflect.DeepEqual(cfg.Entrypoint, []string{"sluice.exe"}) || !reflect.DeepEqual(cfg.Cmd, []string{"run", "-config", ConfigPath}) {
		t.Errorf("windows entrypoint %q cmd %q", cfg.Entrypoint, cfg.Cmd)
	}
	for n, h := range hdrs {
		if n != "Files/" && n != "Hives/" && !strings.HasPrefix(n, "Files/") {
			t.Errorf("windows layer entry %q is outside Files/ and Hives/", n)
		}
		if h.Typeflag == tar.TypeReg && h.PAXRecords["MSWINDOWS.rawsd"] != usersOwnedSD {
			t.Errorf("%s has no security descriptor", n)
		}
	}
	for _, want := range []string{"Files/", "Hives/", "Files/Windows/System32/config/SYSTEM", "Files/Windows/System32/config/SOFTWARE"} {
		if hdrs[want] == nil {
			t.Errorf("windows layer lacks %s", want)
		}
	}
	got := data["Files/sluice.exe"]
	if !bytes.Equal(got, exe) {
		t.Fatalf("Files/sluice.exe is %d bytes, not the %d built", len(got), len(exe))
	}
	runUnderWine(t, got)
}

// runUnderWine runs the .exe pulled from the registry with `version`.
func runUnderWine(t *testing.T, exe []byte) {
	t.Helper()
	// The test tools' bin folder is on PATH only for the Windows test run;
	// the Linux run finds the wrapper where the install script puts it.
	wrapper, err := exec.LookPath("go_windows_amd64_exec")
	if err != nil {
		wrapper = filepath.Join(testtools.Dir(), "bin", "go_windows_amd64_exec")
		err = testtools.CheckExecutable(wrapper)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("go_windows_amd64_exec is not on PATH (scripts/install-test-tools.sh installs it)")
		}
		t.Skip("go_windows_amd64_exec is not on PATH: the pulled sluice.exe was not run under Wine")
	}
	path := filepath.Join(t.TempDir(), "sluice.exe")
	if err := os.WriteFile(path, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(wrapper, path, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "sluice "+testVersion {
		t.Fatalf("sluice.exe version under Wine: %v: %q", err, out)
	}
}

// TestBuildRefusesWrongBinaries checks that a binary the image could not
// run is refused when the image is built, not when a node starts it.
func TestBuildRefusesWrongBinaries(t *testing.T) {
	dir := t.TempDir()
	exePath := filepath.Join(dir, "sluice.exe")
	buildSluice(t, "windows", exePath)
	dynamic, err := exec.LookPath("ls") // linked against the C library
	if err != nil {
		t.Skip("no ls on PATH")
	}
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"dynamic linux binary", Options{LinuxBinary: dynamic, WindowsBinary: exePath, CAFile: dynamic}, "dynamically linked"},
		{"windows binary as the linux one", Options{LinuxBinary: exePath, WindowsBinary: exePath, CAFile: exePath}, "not a Linux executable"},
		{"linux binary as the windows one", Options{WindowsBinary: dynamic}, "not a Windows executable"},
		{"missing binary", Options{LinuxBinary: filepath.Join(dir, "missing")}, "read the linux binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.o.LinuxBinary != "" {
				_, err = Linux(tc.o)
			} else {
				_, err = Windows(tc.o)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

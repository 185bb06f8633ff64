package imagebuild

import (
	"bytes"
	"debug/elf"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Linux returns the linux/amd64 image: the static binary at /sluice, the CA
// bundle at /etc/ssl/certs/ca-certificates.crt (where Go's crypto/x509
// looks first on Linux), and nothing else. It runs as uid 65532 unless the
// pod says otherwise: reading /var/log/pods needs root on most nodes, which
// the chart asks for explicitly.
func Linux(o Options) (v1.Image, error) {
	bin, err := readBinary("linux binary", o.LinuxBinary, checkStatic)
	if err != nil {
		return nil, err
	}
	ca, err := readFile("CA bundle", o.CAFile)
	if err != nil {
		return nil, err
	}
	var t tarWriter
	t.init(o.created())
	for _, dir := range []string{"etc", "etc/ssl", "etc/ssl/certs", "etc/sluice"} {
		t.dir(dir, 0o755, nil)
	}
	t.file(LinuxCAPath, 0o644, ca, nil)
	t.file(LinuxBinPath, 0o755, bin, nil)
	layer, err := t.layer(o.gzipLevel())
	if err != nil {
		return nil, err
	}
	return image(o, nil, layer, v1.Platform{OS: "linux", Architecture: "amd64"}, v1.Config{
		Entrypoint: []string{"/" + LinuxBinPath},
		Cmd:        []string{"run", "-config", ConfigPath},
		User:       LinuxUser,
		WorkingDir: "/",
	})
}

// checkStatic refuses a binary that is not linux/amd64 or that needs a
// dynamic loader: the image has none, and the container would fail with a
// bare "no such file or directory".
func checkStatic(bin []byte) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("not a Linux executable: %w", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("built for %s, not amd64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("dynamically linked (build it with CGO_ENABLED=0)")
		}
	}
	return nil
}

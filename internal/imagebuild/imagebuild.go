// Package imagebuild makes sluice's container images without a container
// engine: a linux/amd64 image and a windows/amd64 HostProcess image, each a
// single layer on an empty base, joined in one OCI image index.
//
// Only the image tool links this package: the daemon must not carry a
// registry client. The images are reproducible: file times and the image's
// creation time are Options.Created (default the Unix epoch), so the same
// binaries give the same digests.
package imagebuild

import (
	"compress/gzip"
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options names what goes into the images.
type Options struct {
	LinuxBinary   string    // a static linux/amd64 sluice (CGO_ENABLED=0)
	WindowsBinary string    // a windows/amd64 sluice.exe
	CAFile        string    // the PEM bundle the Linux image trusts
	Version       string    // recorded as the org.opencontainers.image.version label
	Created       time.Time // zero: the Unix epoch
	// GzipLevel compresses the layers; 0 means gzip.BestCompression, as
	// each node pulls the image once per version and a build is rare.
	GzipLevel int
	// WindowsBase, when set, is the windows/amd64 image the Windows layer
	// goes on (a HostProcess base image); nil: an empty base.
	WindowsBase v1.Image
}

// What the images hold and run. ConfigPath is a rooted path without a
// drive, so the same argument works in both images (on Windows sluice finds
// it on the host or under $CONTAINER_SANDBOX_MOUNT_POINT).
const (
	ConfigPath   = "/etc/sluice/sluice.yaml"
	LinuxUser    = "65532:65532" // no name: the image has no /etc/passwd entry to trust
	LinuxCAPath  = "etc/ssl/certs/ca-certificates.crt"
	LinuxBinPath = "sluice"
	WindowsExe   = "sluice.exe"
)

// Build returns the index of both images, each with its platform.
func Build(o Options) (v1.ImageIndex, error) {
	lin, err := Linux(o)
	if err != nil {
		return nil, fmt.Errorf("linux image: %w", err)
	}
	win, err := Windows(o)
	if err != nil {
		return nil, fmt.Errorf("windows image: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	return mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: lin, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		// No os.version: containerd's Windows platform matcher accepts an
		// image without one on every Windows build, which is what a
		// HostProcess image (running on the host, not on a base layer of
		// its own) needs.
		mutate.IndexAddendum{Add: win, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64"}}},
	), nil
}

// image puts layer on base (nil: an empty OCI image) and sets its
// configuration; what base's configuration says is replaced.
func image(o Options, base v1.Image, layer v1.Layer, platform v1.Platform, cfg v1.Config) (v1.Image, error) {
	if base == nil {
		base = empty.Image
	}
	baseCF, err := base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base image configuration: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(base, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.OSVersion = platform.OS, platform.Architecture, platform.OSVersion
	cfg.Labels = map[string]string{
		"org.opencontainers.image.title":   "sluice",
		"org.opencontainers.image.version": o.Version,
	}
	cf.Config = cfg
	cf.Created = v1.Time{Time: o.created()}
	cf.History = append(baseCF.History, v1.History{Created: cf.Created, CreatedBy: "sluice-image", Comment: "sluice " + o.Version})
	return mutate.ConfigFile(img, cf)
}

func (o Options) gzipLevel() int {
	if o.GzipLevel == 0 {
		return gzip.BestCompression
	}
	return o.GzipLevel
}

func (o Options) created() time.Time {
	if o.Created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return o.Created.UTC()
}

// readFile reads a file the image needs, saying which one on failure.
func readFile(what, path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("no %s given", what)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the %s: %w", what, err)
	}
	return b, nil
}

// readBinary reads the program an image carries and refuses one the image
// could not run, when the image is built rather than when a node starts it.
func readBinary(what, path string, check func([]byte) error) ([]byte, error) {
	b, err := readFile(what, path)
	if err != nil {
		return nil, err
	}
	if err := check(b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

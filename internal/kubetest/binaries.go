package kubetest

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluicelog/sluice/internal/testtools"
)

// The releases these tests are written against; scripts/install-kube-apiserver.sh
// builds them.
const (
	KubeVersion = "v1.37.2"
	EtcdVersion = "v3.6.16"
)

const (
	// envAssets names a folder holding etcd and kube-apiserver, as for
	// envtest; it overrides the test tools folder.
	envAssets = "KUBEBUILDER_ASSETS"
	// assetsSubdir is the folder under testtools.EnvTools that
	// scripts/install-kube-apiserver.sh builds into.
	assetsSubdir = "kube-1.37.2"

	etcdName      = "etcd"
	apiServerName = "kube-apiserver"
	// The modules whose versions the binaries record.
	kubeModule = "k8s.io/kubernetes"
	etcdModule = "go.etcd.io/etcd/server/v3"
)

// errNotFound says the binaries are not where the install script puts
// them; Start turns it into a skip outside CI.
var errNotFound = errors.New("etcd and kube-apiserver not found")

// assets are the two binaries Start runs.
type assets struct {
	dir, etcd, apiServer string
}

// findAssets looks in $KUBEBUILDER_ASSETS, else in the test tools' folder.
// A $KUBEBUILDER_ASSETS without both binaries is an error of its own:
// someone asked for that folder, so skipping would hide the mistake.
func findAssets() (assets, error) {
	if dir := os.Getenv(envAssets); dir != "" {
		a, err := assetsIn(dir)
		if err != nil {
			return assets{}, fmt.Errorf("%s=%s: %w", envAssets, dir, err)
		}
		return a, nil
	}
	dir := testtools.Dir()
	if dir == "" {
		return assets{}, fmt.Errorf("%w: neither $%s nor a home folder is set", errNotFound, testtools.EnvTools)
	}
	a, err := assetsIn(filepath.Join(dir, assetsSubdir))
	if err != nil {
		return assets{}, fmt.Errorf("%w (%v)", errNotFound, err)
	}
	return a, nil
}

func assetsIn(dir string) (assets, error) {
	a := assets{
		dir:       dir,
		etcd:      filepath.Join(dir, etcdName),
		apiServer: filepath.Join(dir, apiServerName),
	}
	for _, p := range []string{a.etcd, a.apiServer} {
		if err := testtools.CheckExecutable(p); err != nil {
			return assets{}, err
		}
	}
	return a, nil
}

// depVersion is the version of module mod that the Go binary p was built
// with, which the install script's wrapper modules record; "unknown" for a
// binary built otherwise (an upstream release tarball, say).
func depVersion(p, mod string) string {
	info, err := buildinfo.ReadFile(p)
	if err != nil {
		return "unknown"
	}
	if info.Main.Path == mod {
		return info.Main.Version
	}
	for _, d := range info.Deps {
		if d.Path == mod {
			return d.Version
		}
	}
	return "unknown"
}

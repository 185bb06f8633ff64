// Package hostpath finds a configured file in a Windows HostProcess
// container, where containerd 1.6 puts the image and every volume under
// $CONTAINER_SANDBOX_MOUNT_POINT (c:\C\<id>\...) while containerd 1.7 and
// later bind-mount volumes at their real paths. One configuration must work
// on both, so a path is tried as given first, then under the sandbox root.
//
// Outside a HostProcess container (the variable unset) every path is used
// as given. Relative paths and UNC paths are always used as given: neither
// names a mount path.
package hostpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// SandboxEnv names the variable containerd sets in HostProcess containers.
const SandboxEnv = "CONTAINER_SANDBOX_MOUNT_POINT"

// Use is what the caller does with a path, which decides where a path that
// does not exist yet goes.
type Use int

const (
	// Read: the file must exist; when it exists in neither place the
	// path is used as given, so the error names the configured path.
	Read Use = iota
	// Create: the file or folder may be created. When it exists in neither
	// place it goes where its parent folder exists, as given first, then
	// under the sandbox root; with neither parent present it is used as
	// given (a folder is then created with its parents on the host).
	Create
)

// Where says which place a Resolved path came from.
type Where string

// The places a path can resolve to.
const (
	Given   Where = "as given"
	Sandbox Where = "under " + SandboxEnv
)

// Resolved is a configured path and the one sluice uses for it.
type Resolved struct {
	Given string
	Path  string
	Where Where
}

// Resolve returns where sluice finds path for use, looking under the
// sandbox root named by $CONTAINER_SANDBOX_MOUNT_POINT.
func Resolve(path string, use Use) Resolved {
	return ResolveIn(os.Getenv(SandboxEnv), path, use)
}

// ResolveIn is Resolve with the sandbox root given; an empty root means
// not in a HostProcess container.
func ResolveIn(root, path string, use Use) Resolved {
	given := Resolved{Given: path, Path: path, Where: Given}
	alt, ok := underRoot(root, path)
	if !ok {
		return given
	}
	sandbox := Resolved{Given: path, Path: alt, Where: Sandbox}
	switch {
	case exists(path):
		return given
	case exists(alt):
		return sandbox
	case use == Read:
		return given
	case exists(filepath.Dir(path)):
		return given
	case exists(filepath.Dir(alt)):
		return sandbox
	}
	return given
}

// underRoot is path under root, or false when path cannot be a mount path:
// no root, a relative path, or a UNC share.
func underRoot(root, path string) (string, bool) {
	if root == "" || path == "" {
		return "", false
	}
	vol := filepath.VolumeName(path)
	rest := path[len(vol):]
	if len(vol) > 2 || rest == "" || !os.IsPathSeparator(rest[0]) {
		return "", false
	}
	return filepath.Join(root, rest), true
}

// exists reports whether something is at path; an error other than "does
// not exist" (a permission, say) counts as existing, so the caller meets
// that error at the path it is about.
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

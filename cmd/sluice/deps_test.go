package main

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// notLinked are packages the daemon must not link: client-go's Clientset
// registers every API group (its scheme, discovery, OpenAPI models), about
// 23 MiB of the daemon's resident pages, while the pod cache needs core/v1
// pods and namespaces only (enrich/podcache's REST client). Of those it
// decodes only a few fields, into enrich/podcache/coreapi's types: even
// k8s.io/api/core/v1 alone costs 1.7 MB of generated code and 3 MiB of
// resident pages. metrics writes the Prometheus text format itself:
// client_golang brought client_model, expfmt, procfs and the protobuf
// runtime, 1.4 MB of the binary, all of it resident.
var notLinked = []string{
	"k8s.io/api",
	"k8s.io/client-go/kubernetes",
	"k8s.io/client-go/discovery",
	"k8s.io/client-go/applyconfigurations",
	"github.com/google/gnostic-models",
	"github.com/prometheus",
	"google.golang.org/protobuf",
}

// wireOnly is what outputs/loki takes of google.golang.org/protobuf: the
// wire encoding, with no descriptors, registry or reflection.
const wireOnly = "google.golang.org/protobuf/encoding/protowire"

// podTypes is the package of the pod cache that takes k8s.io/api's place.
const podTypes = "github.com/sluicelog/sluice/enrich/podcache/coreapi"

// TestNoClientsetPackages lists what the daemon links, for Linux and
// Windows.
func TestNoClientsetPackages(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Linux run lists the dependencies of both systems; the Windows test binary runs without the go command")
	}
	for _, goos := range []string{"linux", "windows"} {
		deps := listDeps(t, goos, ".")
		wire := listDeps(t, goos, wireOnly)
		if !slices.Contains(deps, "github.com/sluicelog/sluice/enrich/podcache") || !slices.Contains(deps, podTypes) {
			t.Fatalf("%s: the list lacks the pod cache's own packages: %q", goos, deps)
		}
		for _, d := range deps {
			if slices.Contains(wire, d) {
				continue
			}
			for _, bad := range notLinked {
				if d == bad || strings.HasPrefix(d, bad+"/") {
					t.Errorf("%s: the daemon links %s", goos, d)
				}
			}
		}
	}
}

// listDeps lists the packages pkg links when built for goos.
func listDeps(t *testing.T, goos, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s (%s): %v", pkg, goos, err)
	}
	return strings.Fields(string(out))
}

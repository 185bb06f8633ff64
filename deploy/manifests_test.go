package deploy

import (
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// manifestsHeader is the first line `make manifests` writes.
const manifestsHeader = "# Rendered by make manifests from deploy/helm/sluice with default values: do not edit.\n"

// TestManifestsUpToDate renders the chart with default values as `make
// manifests` does and wants deploy/manifests/sluice.yaml to be just that,
// so a chart change without `make manifests` fails here.
func TestManifestsUpToDate(t *testing.T) {
	want := manifestsHeader + string(render(t, nil))
	got, err := os.ReadFile("manifests/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("deploy/manifests/sluice.yaml is out of date with the chart: run make manifests (first difference at line %d)", firstDiffLine(string(got), want))
	}
}

// TestManifestsNamespace wants the namespace the plain manifests go into
// to enforce the privileged Pod Security level, which HostProcess needs.
func TestManifestsNamespace(t *testing.T) {
	objs := decodeAll(t, "manifests/namespace.yaml")
	if len(objs) != 1 {
		t.Fatalf("%d objects, want one Namespace", len(objs))
	}
	ns, ok := objs[0].(*corev1.Namespace)
	if !ok || ns.Name != namespace || ns.Labels["pod-security.kubernetes.io/enforce"] != "privileged" {
		t.Fatalf("%+v, want namespace %s enforcing privileged", objs[0], namespace)
	}
	k, err := os.ReadFile("manifests/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"namespace.yaml", "sluice.yaml"} {
		if !strings.Contains(string(k), "- "+f) {
			t.Errorf("kustomization.yaml does not list %s", f)
		}
	}
}

func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

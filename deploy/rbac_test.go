// Package deploy holds sluice's Kubernetes manifests; its tests decode them
// into the API types, strictly, and check what they grant.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

// decodeAll decodes every document of a manifest file into typed objects;
// an unknown field or kind is an error.
func decodeAll(t *testing.T, path string) []runtime.Object {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []runtime.Object
	for _, d := range decodeDocs(t, path, raw) {
		out = append(out, d.obj)
	}
	return out
}

// doc is one object of a manifest: its typed form, and its JSON as
// written, for the API server to check field by field.
type doc struct {
	obj  runtime.Object
	json []byte
}

// decodeDocs decodes every document of raw (named name in messages) into
// its k8s.io/api type; an unknown field or kind is an error. A
// ServiceMonitor, which k8s.io/api has no type for, decodes into
// serviceMonitor.
func decodeDocs(t *testing.T, name string, raw []byte) []doc {
	t.Helper()
	codecs := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)
	dec := codecs.UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	var out []doc
	for {
		text, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(bytes.TrimSpace(stripComments(text))) == 0 {
			continue
		}
		js, err := utilyaml.ToJSON(text)
		if err != nil {
			t.Fatalf("%s: document %d: %v", name, len(out)+1, err)
		}
		obj, err := decodeOne(dec, js)
		if err != nil {
			t.Fatalf("%s: document %d: %v", name, len(out)+1, err)
		}
		out = append(out, doc{obj: obj, json: js})
	}
}

// TestRBACGrantsExactlyPodReads holds the ClusterRoles to what the pod
// cache needs: get, list and watch on pods, and on namespaces for the
// optional namespace informer; nothing else, and the binding names the
// DaemonSet's service account.
func TestRBACGrantsExactlyPodReads(t *testing.T) {
	roles := map[string]*rbacv1.ClusterRole{}
	var binding *rbacv1.ClusterRoleBinding
	var sa *corev1.ServiceAccount
	for _, obj := range decodeAll(t, "rbac.yaml") {
		switch o := obj.(type) {
		case *rbacv1.ClusterRole:
			roles[o.Name] = o
		case *rbacv1.ClusterRoleBinding:
			binding = o
		case *corev1.ServiceAccount:
			sa = o
		default:
			t.Fatalf("unexpected object %T in rbac.yaml", obj)
		}
	}
	want := map[string]string{"sluice": "pods", "sluice-namespaces": "namespaces"}
	if len(roles) != len(want) {
		t.Fatalf("ClusterRoles %v, want %v", slices.Collect(maps.Keys(roles)), want)
	}
	for name, resource := range want {
		r := roles[name]
		if r == nil || len(r.Rules) != 1 {
			t.Fatalf("ClusterRole %s: %+v, want one rule", name, r)
		}
		rule := r.Rules[0]
		if !slices.Equal(rule.APIGroups, []string{""}) || !slices.Equal(rule.Resources, []string{resource}) ||
			!slices.Equal(rule.Verbs, []string{"get", "list", "watch"}) || len(rule.ResourceNames) != 0 || len(rule.NonResourceURLs) != 0 {
			t.Fatalf("ClusterRole %s rule = %+v, want get/list/watch on core %s only", name, rule, resource)
		}
	}
	if sa == nil || binding == nil {
		t.Fatalf("service account %v, binding %v", sa, binding)
	}
	if binding.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "sluice"}) ||
		len(binding.Subjects) != 1 || binding.Subjects[0].Kind != "ServiceAccount" ||
		binding.Subjects[0].Name != sa.Name || binding.Subjects[0].Namespace != sa.Namespace {
		t.Fatalf("binding %+v does not bind ClusterRole sluice to service account %s/%s", binding, sa.Namespace, sa.Name)
	}
}

// stripComments drops comment lines, so a document of comments only is
// seen as empty rather than as an object without a kind.
func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

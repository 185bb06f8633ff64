package deploy

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/sluicelog/sluice/internal/kubetest"
)

// warnings collects the API server's warning headers.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

// HandleWarningHeader records one warning.
func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

// take returns the warnings so far and forgets them.
func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.msgs
	w.msgs = nil
	return m
}

// cluster is a client of the test API server that applies manifests
// object by object, with strict server-side field validation.
type cluster struct {
	t      *testing.T
	client kubernetes.Interface
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	warn   *warnings
}

func newCluster(t *testing.T, s *kubetest.Server) *cluster {
	cfg := s.Config()
	w := &warnings{}
	cfg.WarningHandler = w
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{
		t:      t,
		client: kubernetes.NewForConfigOrDie(cfg),
		dyn:    dynamic.NewForConfigOrDie(cfg),
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
		warn:   w,
	}
}

var _ rest.WarningHandler = (*warnings)(nil)

// namespace creates a namespace enforcing the Pod Security level.
func (c *cluster) namespace(name, level string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": level},
	}}, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatalf("create namespace %s: %v", name, err)
	}
}

// create sends one object's JSON as it was rendered, so the server sees
// every field, and returns the server's error and warnings.
func (c *cluster) create(js []byte, dryRun bool) ([]string, error) {
	c.t.Helper()
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(js, &u.Object); err != nil {
		c.t.Fatal(err)
	}
	gvk := u.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		c.t.Fatalf("%s: %v", gvk, err)
	}
	opts := metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ri dynamic.ResourceInterface = c.dyn.Resource(m.Resource)
	if m.Scope.Name() == "namespace" {
		ri = c.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	c.warn.take()
	_, err = ri.Create(ctx, u, opts)
	return c.warn.take(), err
}

// podOf creates a pod from a DaemonSet's template, as the DaemonSet
// controller would (there is none here), bound to a node.
func (c *cluster) podOf(ds *appsv1.DaemonSet, ns string) error {
	c.t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name + "-node1", Namespace: ns, Labels: ds.Spec.Template.Labels, Annotations: ds.Spec.Template.Annotations},
		Spec:       *ds.Spec.Template.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = "node1"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
	return err
}

// TestChartAppliesToAPIServer applies every rendering of the chart to a
// real kube-apiserver with Pod Security admission and strict field
// validation: each object is accepted in a namespace enforcing the
// privileged level, and so is a pod made from each DaemonSet's template;
// in a namespace enforcing baseline, the HostProcess pod is refused.
func TestChartAppliesToAPIServer(t *testing.T) {
	helmBin(t) // skip (or fail under CI) before starting the servers
	s := kubetest.Start(t)
	c := newCluster(t, s)

	for _, cc := range chartCases {
		t.Run(cc.name, func(t *testing.T) {
			c.t = t
			ns := "priv-" + cc.name
			c.namespace(ns, "privileged")
			docs := decodeDocs(t, cc.name, renderAs(t, "sluice-"+cc.name, ns, cc.values))
			for _, d := range docs {
				if _, ok := d.obj.(*serviceMonitor); ok {
					// The API server serves no monitoring.coreos.com without
					// the Prometheus Operator's CRD; TestChart checks it.
					t.Logf("ServiceMonitor not applied: its CRD is not installed")
					continue
				}
				warns, err := c.create(d.json, false)
				if err != nil {
					t.Fatalf("create %T: %v", d.obj, err)
				}
				if len(warns) != 0 {
					t.Errorf("create %T: warnings %q", d.obj, warns)
				}
			}
			for _, d := range docs {
				if ds, ok := d.obj.(*appsv1.DaemonSet); ok {
					if err := c.podOf(ds, ns); err != nil {
						t.Errorf("a pod of %s in a privileged namespace: %v", ds.Name, err)
					}
				}
			}
		})
	}

	t.Run("manifests", func(t *testing.T) {
		c.t = t
		// What kubectl apply -k deploy/manifests sends: the namespace
		// first, then the rendered chart into it.
		var docs []doc
		for _, f := range []string{"manifests/namespace.yaml", "manifests/sluice.yaml"} {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, decodeDocs(t, f, raw)...)
		}
		for _, d := range docs {
			warns, err := c.create(d.json, false)
			if err != nil || len(warns) != 0 {
				t.Fatalf("create %T: %v, warnings %q", d.obj, err, warns)
			}
		}
		for _, d := range docs {
			if ds, ok := d.obj.(*appsv1.DaemonSet); ok {
				if err := c.podOf(ds, namespace); err != nil {
					t.Errorf("a pod of %s in namespace %s: %v", ds.Name, namespace, err)
				}
			}
		}
	})

	t.Run("baseline", func(t *testing.T) {
		c.t = t
		const ns = "baseline"
		c.namespace(ns, "baseline")
		for _, d := range decodeDocs(t, "default", renderAs(t, "sluice", ns, nil)) {
			ds, ok := d.obj.(*appsv1.DaemonSet)
			if !ok {
				continue
			}
			osName := ds.Spec.Template.Spec.OS.Name
			// Pod Security admission checks pods; a workload only warns.
			warns, err := c.create(d.json, false)
			if err != nil {
				t.Fatalf("create DaemonSet %s: %v", ds.Name, err)
			}
			want := map[corev1.OSName]string{corev1.Windows: "hostProcess", corev1.Linux: "hostPath"}[osName]
			if !containsAny(warns, want) {
				t.Errorf("DaemonSet %s in a baseline namespace: warnings %q, want one on %s", ds.Name, warns, want)
			}
			err = c.podOf(ds, ns)
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "baseline`) || !strings.Contains(err.Error(), want) {
				t.Errorf("a pod of %s in a baseline namespace: %v; want it refused by Pod Security for %s", ds.Name, err, want)
			} else {
				t.Logf("refused as wanted: %v", err)
			}
		}
	})

	t.Run("strict", func(t *testing.T) {
		c.t = t
		// A field the API does not know is refused, not dropped: the
		// objects above were checked field by field.
		for _, d := range decodeDocs(t, "default", renderAs(t, "sluice-default", "priv-default", nil)) {
			if _, ok := d.obj.(*appsv1.DaemonSet); !ok {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(d.json, &m); err != nil {
				t.Fatal(err)
			}
			m["metadata"].(map[string]any)["name"] = "misspelt"
			m["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["hostProces"] = true
			js, _ := json.Marshal(m)
			_, err := c.create(js, true)
			if err == nil || !strings.Contains(err.Error(), `unknown field "spec.template.spec.hostProces"`) {
				t.Errorf("a DaemonSet with a misspelt field: %v; want it refused as unknown", err)
			}
			break
		}
	})
}

func containsAny(msgs []string, sub string) bool {
	for _, m := range msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

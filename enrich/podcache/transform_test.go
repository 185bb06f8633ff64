package podcache

import (
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/sluicelog/sluice/enrich/podcache/podcachetest"
	"github.com/sluicelog/sluice/enrich/podmeta"
)

// TestTransformStripsPod checks what the informer stores for a realistic
// pod: the compact object, with only the metadata the informer needs and
// the fields sluice uses.
func TestTransformStripsPod(t *testing.T) {
	pod := realisticPod(7, testNode)
	c := start(t, fake.NewClientset(pod), Config{Annotations: []string{"prometheus.io/port"}})
	c.ev.syncedOnce(t)
	items := c.pods.GetStore().List()
	if len(items) != 1 {
		t.Fatalf("the informer stores %d objects, want 1", len(items))
	}
	o, ok := items[0].(*podObject)
	if !ok {
		t.Fatalf("the informer stores a %T, want the compact *podObject", items[0])
	}
	wantMeta := &metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, ResourceVersion: o.resourceVersion}
	if got := o.GetObjectMeta(); !reflect.DeepEqual(got, wantMeta) || o.resourceVersion == "" {
		t.Fatalf("stored metadata %+v, want only name, namespace, uid and resource version", got)
	}
	ids := map[string]string{}
	for _, st := range append(pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses...) {
		ids[st.Name] = st.ContainerID[len("containerd://"):]
	}
	want := &podmeta.Pod{
		Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID),
		Attrs: attrs("node", testNode, "pod_ip", pod.Status.PodIP,
			"owner_kind", "ReplicaSet", "owner_name", "checkout-"+templHash,
			"workload_kind", "Deployment", "workload_name", "checkout",
			"label.app", "checkout", "label.app.kubernetes.io/name", "checkout", "label.app.kubernetes.io/part-of", "shop",
			"label.app.kubernetes.io/version", "1.4.2", "label.pod-template-hash", templHash, "label.security.istio.io/tlsMode", "istio",
			"annotation.prometheus.io/port", "9090"),
		Containers: []podmeta.Container{
			{Name: "app", Image: "registry.example.com/shop/checkout:1.4.2", ID: ids["app"]},
			{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.24.1", ID: ids["istio-proxy"]},
			{Name: "istio-init", Image: "docker.io/istio/proxyv2:1.24.1", ID: ids["istio-init"]},
		},
	}
	if !reflect.DeepEqual(o.pod, want) {
		t.Fatalf("stored pod\n got %+v\nwant %+v", o.pod, want)
	}
	if cap(o.pod.Attrs) != len(o.pod.Attrs) {
		t.Fatalf("attrs cap %d > len %d", cap(o.pod.Attrs), len(o.pod.Attrs))
	}
	if p, _ := c.Pod(pod.Namespace, pod.Name); p != o.pod {
		t.Fatal("the lookup maps and the informer hold different values")
	}
}

// TestBuildPod covers the choices the builder makes, one field at a time.
func TestBuildPod(t *testing.T) {
	ctrl := metav1.OwnerReference{Kind: "StatefulSet", Name: "pg", Controller: ptr(true)}
	tests := []struct {
		name   string
		config Config
		pod    func(p *v1.Pod)
		want   func(p *podmeta.Pod) any
		expect any
	}{
		{"annotations: none by default", Config{},
			func(p *v1.Pod) { p.Annotations = map[string]string{"a": "1"} },
			func(p *podmeta.Pod) any { return p.Attrs }, attrs("node", testNode)},
		{"annotations: only the allowlisted, sorted", Config{Annotations: []string{"z", "a", "missing"}},
			func(p *v1.Pod) { p.Annotations = map[string]string{"a": "1", "b": "2", "z": "3"} },
			func(p *podmeta.Pod) any { return p.Attrs }, attrs("node", testNode, "annotation.a", "1", "annotation.z", "3")},
		{"labels keep empty values", Config{},
			func(p *v1.Pod) { p.Labels = map[string]string{"canary": ""} },
			func(p *podmeta.Pod) any { return p.Attrs }, attrs("node", testNode, "label.canary", "")},
		{"renamed keys", Config{Keys: mustKeys(t, map[string]string{"node": "host", "label.": "labels.", "owner_kind": "controller"})},
			func(p *v1.Pod) {
				p.Labels = map[string]string{"app": "x"}
				p.OwnerReferences = []metav1.OwnerReference{ctrl}
			},
			func(p *podmeta.Pod) any { return p.Attrs },
			attrs("host", testNode, "controller", "StatefulSet", "owner_name", "pg", "workload_kind", "StatefulSet", "workload_name", "pg", "labels.app", "x")},
		{"only the controller owner counts", Config{},
			func(p *v1.Pod) {
				p.OwnerReferences = []metav1.OwnerReference{{Kind: "Foo", Name: "bar"}, {Kind: "Node", Name: "n1", Controller: ptr(false)}}
			},
			func(p *podmeta.Pod) any { return p.Attrs }, attrs("node", testNode)},
		{"container ids without scheme, images from the spec", Config{},
			func(p *v1.Pod) {
				p.Spec.EphemeralContainers = []v1.EphemeralContainer{{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
				p.Status.ContainerStatuses = []v1.ContainerStatus{{Name: "main", Image: "docker.io/library/busybox:1.37", ContainerID: "docker://abc"}}
				p.Status.EphemeralContainerStatuses = []v1.ContainerStatus{{Name: "debug", ContainerID: "cri-o://def"}}
			},
			func(p *podmeta.Pod) any { return p.Containers },
			[]podmeta.Container{{Name: "main", Image: "busybox:1.37", ID: "abc"}, {Name: "debug", Image: "busybox", ID: "def"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.config.Node = testNode
			c := NewForClient(podcachetest.New(fake.NewClientset()), tt.config)
			p := simplePod("ns", "p", "u", nil)
			tt.pod(p)
			o, _ := c.transformPod(decoded(t, p))
			if got := tt.want(o.(*podObject).pod); !reflect.DeepEqual(got, tt.expect) {
				t.Fatalf("got  %v\nwant %v", got, tt.expect)
			}
		})
	}
}

func mustKeys(t *testing.T, rename map[string]string) podmeta.Keys {
	t.Helper()
	k, err := podmeta.NewKeys(rename)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWorkload(t *testing.T) {
	hash := map[string]string{"pod-template-hash": "7d9f8c6b5"}
	tests := []struct {
		kind, name string
		labels     map[string]string
		wantKind   string
		wantName   string
	}{
		{"ReplicaSet", "web-7d9f8c6b5", hash, "Deployment", "web"},
		{"ReplicaSet", "my-web-app-7d9f8c6b5", hash, "Deployment", "my-web-app"},
		{"ReplicaSet", "web-7d9f8c6b5", nil, "ReplicaSet", "web-7d9f8c6b5"},                                                     // no hash label: made by hand
		{"ReplicaSet", "web-abc", hash, "ReplicaSet", "web-abc"},                                                                // hash not in the name
		{"ReplicaSet", "7d9f8c6b5", hash, "ReplicaSet", "7d9f8c6b5"},                                                            // nothing before it
		{"ReplicaSet", "web7d9f8c6b5", hash, "ReplicaSet", "web7d9f8c6b5"},                                                      // no dash
		{"Job", "backup-29012345", nil, "CronJob", "backup"},                                                                    // 8 digits
		{"Job", "nightly-report-290123456", nil, "CronJob", "nightly-report"},                                                   // 9 digits
		{"Job", "migrate-1234567", nil, "Job", "migrate-1234567"},                                                               // 7 digits
		{"Job", "migrate-v2", nil, "Job", "migrate-v2"},                                                                         //
		{"Job", "-29012345", nil, "Job", "-29012345"},                                                                           // no name before it
		{"Job", "db-2901234a", nil, "Job", "db-2901234a"},                                                                       //
		{"StatefulSet", "pg", nil, "StatefulSet", "pg"},                                                                         //
		{"DaemonSet", "sluice", nil, "DaemonSet", "sluice"},                                                                     //
		{"Node", testNode, nil, "Node", testNode},                                                                               // a static pod's mirror
		{"ReplicationController", "legacy-1", map[string]string{"pod-template-hash": "1"}, "ReplicationController", "legacy-1"}, //
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			k, n := workload(tt.kind, tt.name, tt.labels)
			if k != tt.wantKind || n != tt.wantName {
				t.Fatalf("workload = %s %s, want %s %s", k, n, tt.wantKind, tt.wantName)
			}
		})
	}
}

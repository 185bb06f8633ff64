package coreapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
)

// decoder decodes as the daemon's REST client does: JSON, by the kind the
// data names, with coreapi's types registered alone.
func decoder() runtime.Decoder {
	s := runtime.NewScheme()
	utilruntime.Must(AddToScheme(s))
	return serializer.NewCodecFactory(s).UniversalDeserializer()
}

// fullPod is a pod as the API server sends it: every field sluice reads,
// and many it does not (managed fields, probes, volumes, conditions).
func fullPod(i int) v1.Pod {
	ts := metav1.Unix(1767225600, 0)
	name := fmt.Sprintf("web-7d9f8c6b5-%05d", i)
	return v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "shop", UID: types.UID("uid-" + name), ResourceVersion: "4242",
			CreationTimestamp: ts, GenerateName: "web-7d9f8c6b5-",
			Labels:      map[string]string{"app": "web", "pod-template-hash": "7d9f8c6b5"},
			Annotations: map[string]string{"prometheus.io/port": "9090", "kubectl.kubernetes.io/restartedAt": ts.String()},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "x"},
				{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8c6b5", UID: "rs", Controller: ptr(true), BlockOwnerDeletion: ptr(true)},
			},
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &ts, FieldsType: "FieldsV1",
				FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{}}}}}`)},
			}},
		},
		Spec: v1.PodSpec{
			NodeName:       "n1",
			InitContainers: []v1.Container{{Name: "init", Image: "busybox:1.37", Args: []string{"true"}}},
			Containers: []v1.Container{{
				Name: "app", Image: "registry.example.com/web:1.0",
				Env:            []v1.EnvVar{{Name: "A", Value: "1"}},
				ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"true"}}}},
			}},
			EphemeralContainers: []v1.EphemeralContainer{{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}},
			Volumes:             []v1.Volume{{Name: "tmp", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
		},
		Status: v1.PodStatus{
			Phase: v1.PodRunning, PodIP: "10.244.0.7", PodIPs: []v1.PodIP{{IP: "10.244.0.7"}},
			Conditions: []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: ts}},
			ContainerStatuses: []v1.ContainerStatus{{Name: "app", ContainerID: "containerd://abc", Image: "registry.example.com/web:1.0", ImageID: "sha256:1",
				State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: ts}}}},
			InitContainerStatuses:      []v1.ContainerStatus{{Name: "init", ContainerID: "containerd://def"}},
			EphemeralContainerStatuses: []v1.ContainerStatus{{Name: "debug", ContainerID: "containerd://ghi"}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// leanPod is what fullPod(i) decodes to.
func leanPod(i int) Pod {
	f := fullPod(i)
	return Pod{
		ObjectMeta: ObjectMeta{
			Name: f.Name, Namespace: f.Namespace, UID: f.UID, ResourceVersion: f.ResourceVersion,
			Labels: f.Labels, Annotations: f.Annotations,
			OwnerReferences: []OwnerReference{{Kind: "Node", Name: "n1"}, {Kind: "ReplicaSet", Name: "web-7d9f8c6b5", Controller: true}},
		},
		Spec: PodSpec{
			NodeName:            "n1",
			InitContainers:      []Container{{Name: "init", Image: "busybox:1.37"}},
			Containers:          []Container{{Name: "app", Image: "registry.example.com/web:1.0"}},
			EphemeralContainers: []Container{{Name: "debug", Image: "busybox"}},
		},
		Status: PodStatus{
			PodIP:                      "10.244.0.7",
			ContainerStatuses:          []ContainerStatus{{Name: "app", ContainerID: "containerd://abc", Image: "registry.example.com/web:1.0"}},
			InitContainerStatuses:      []ContainerStatus{{Name: "init", ContainerID: "containerd://def"}},
			EphemeralContainerStatuses: []ContainerStatus{{Name: "debug", ContainerID: "containerd://ghi"}},
		},
	}
}

func podListJSON(tb testing.TB, n int) []byte {
	tb.Helper()
	l := v1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "4243", Continue: "next"}}
	for i := range n {
		p := fullPod(i)
		p.TypeMeta = metav1.TypeMeta{} // as the API server lists them
		l.Items = append(l.Items, p)
	}
	b, err := json.Marshal(l)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestDecodePodList decodes a list as the API server sends it and hands it
// to what client-go's reflector uses on it.
func TestDecodePodList(t *testing.T) {
	obj, _, err := decoder().Decode(podListJSON(t, 2), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := obj.(*PodList)
	if !ok {
		t.Fatalf("decoded a %T, want *PodList", obj)
	}
	want := []Pod{leanPod(0), leanPod(1)}
	if !reflect.DeepEqual(l.Items, want) {
		t.Fatalf("items\n got %+v\nwant %+v", l.Items, want)
	}
	lm, err := meta.ListAccessor(l)
	if err != nil || lm.GetResourceVersion() != "4243" || lm.GetContinue() != "next" {
		t.Fatalf("list meta %v, %v", lm, err)
	}
	items, err := meta.ExtractListWithAlloc(l)
	if err != nil || len(items) != 2 {
		t.Fatalf("extracted %d items, %v", len(items), err)
	}
	m, err := meta.Accessor(items[1])
	if err != nil {
		t.Fatal(err)
	}
	if m.GetName() != want[1].Name || m.GetNamespace() != "shop" || m.GetUID() != want[1].UID || m.GetResourceVersion() != "4242" {
		t.Fatalf("accessor: %s/%s %s %s", m.GetNamespace(), m.GetName(), m.GetUID(), m.GetResourceVersion())
	}
}

// TestDecodeSparse checks that what the server leaves out is zero, that
// fields coreapi does not know are skipped, and that a bookmark's
// annotation reaches the reflector.
func TestDecodeSparse(t *testing.T) {
	tests := []struct {
		name, json string
		want       runtime.Object
	}{
		{"bookmark", `{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"7","annotations":{"k8s.io/initial-events-end":"true"}}}`,
			&Pod{ObjectMeta: ObjectMeta{ResourceVersion: "7", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}},
		{"null controller", `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","ownerReferences":[{"kind":"Job","name":"j","controller":null}]},"spec":null}`,
			&Pod{ObjectMeta: ObjectMeta{Name: "p", OwnerReferences: []OwnerReference{{Kind: "Job", Name: "j"}}}}},
		{"unknown fields", `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","x":[1,{"y":2}]},"spec":{"nodeName":"n","newField":{"a":"b"}},"status":{"hostIPs":[]}}`,
			&Pod{ObjectMeta: ObjectMeta{Name: "p"}, Spec: PodSpec{NodeName: "n"}}},
		{"namespace", `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"shop","resourceVersion":"3","labels":{"team":"a"}},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}`,
			&Namespace{ObjectMeta: ObjectMeta{Name: "shop", ResourceVersion: "3", Labels: map[string]string{"team": "a"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := decoder().Decode([]byte(tt.json), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got.GetObjectKind().SetGroupVersionKind(tt.want.GetObjectKind().GroupVersionKind())
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			m, err := meta.Accessor(got)
			if err != nil {
				t.Fatal(err)
			}
			if m.GetAnnotations()[metav1.InitialEventsAnnotationKey] != tt.want.(metav1.ObjectMetaAccessor).GetObjectMeta().GetAnnotations()[metav1.InitialEventsAnnotationKey] {
				t.Fatal("the bookmark annotation is lost")
			}
		})
	}
}

// TestDeepCopy checks that a copy shares nothing that can be modified.
func TestDeepCopy(t *testing.T) {
	l := &PodList{Items: []Pod{leanPod(0)}}
	c := l.DeepCopyObject().(*PodList)
	if !reflect.DeepEqual(c, l) {
		t.Fatalf("copy %+v differs", c)
	}
	p := &c.Items[0]
	p.Labels["app"] = "x"
	p.Annotations["prometheus.io/port"] = "x"
	p.OwnerReferences[0].Name = "x"
	p.Spec.Containers[0].Name = "x"
	p.Spec.InitContainers[0].Name = "x"
	p.Spec.EphemeralContainers[0].Name = "x"
	p.Status.ContainerStatuses[0].Name = "x"
	p.Status.InitContainerStatuses[0].Name = "x"
	p.Status.EphemeralContainerStatuses[0].Name = "x"
	if want := leanPod(0); !reflect.DeepEqual(l.Items[0], want) {
		t.Fatalf("changing the copy changed the original: %+v", l.Items[0])
	}
	nl := &NamespaceList{Items: []Namespace{{ObjectMeta: ObjectMeta{Name: "a", Labels: map[string]string{"k": "v"}}}}}
	nc := nl.DeepCopyObject().(*NamespaceList)
	nc.Items[0].Labels["k"] = "x"
	if nl.Items[0].Labels["k"] != "v" {
		t.Fatal("changing the namespace copy changed the original")
	}
}

// BenchmarkDecodePodList decodes a list of 100 realistic pods as the
// daemon's REST client does.
func BenchmarkDecodePodList(b *testing.B) {
	data := podListJSON(b, 100)
	d := decoder()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.Decode(data, nil, &PodList{}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecode checks that no input panics the decoder, and that what
// decodes copies whole.
func FuzzDecode(f *testing.F) {
	f.Add(podListJSON(f, 1))
	f.Add([]byte(`{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"a"}}`))
	d := decoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, _, err := d.Decode(data, nil, nil)
		if err != nil {
			return
		}
		if c := obj.DeepCopyObject(); !reflect.DeepEqual(c, obj) {
			t.Fatalf("copy %+v differs from %+v", c, obj)
		}
	})
}

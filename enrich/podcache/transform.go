package podcache

import (
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluicelog/sluice/enrich/podcache/coreapi"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// podObject is what the pod informer stores in place of a *coreapi.Pod: the
// resource version that tells a resync from an update, and the pod as
// enrichment uses it. This keeps the informer's copy and the lookup maps'
// copy one and the same, and lets the decoded pod go.
type podObject struct {
	resourceVersion string
	pod             *podmeta.Pod
}

// GetObjectMeta gives the informer what it keys and compares objects by.
// It is built on each call, which happens a few times per pod event, so
// that no ObjectMeta is stored per pod.
func (o *podObject) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Name: o.pod.Name, Namespace: o.pod.Namespace, UID: types.UID(o.pod.UID), ResourceVersion: o.resourceVersion}
}

// GetObjectKind satisfies runtime.Object; the informer never asks.
func (o *podObject) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject satisfies runtime.Object; the pod is immutable, so sharing
// it is a deep copy.
func (o *podObject) DeepCopyObject() runtime.Object {
	c := *o
	return &c
}

// transformPod is the pod informer's TransformFunc. It runs before an
// object is queued, so a full pod (managed fields, most of spec and status)
// is never stored. It is idempotent, as client-go asks: a podObject passes
// through unchanged.
func (c *Cache) transformPod(obj any) (any, error) {
	p, ok := obj.(*coreapi.Pod)
	if !ok {
		return obj, nil
	}
	pm := c.build.pod(p)
	// A status update that changes nothing sluice uses (a probe, a
	// condition) keeps the old value, so that readers see the same pointer
	// and the Stage rebuilds nothing.
	if old, ok := c.store.base(pm.UID); ok && samePod(old, pm) {
		pm = old
	}
	return &podObject{resourceVersion: p.ResourceVersion, pod: pm}, nil
}

// builder turns a coreapi.Pod into a podmeta.Pod.
type builder struct {
	keys        podmeta.Keys
	annotations map[string]bool // the allowlist
	strs        interner
}

func newBuilder(keys podmeta.Keys, annotations []string) *builder {
	allow := make(map[string]bool, len(annotations))
	for _, a := range annotations {
		allow[a] = true
	}
	return &builder{keys: keys, annotations: allow, strs: interner{m: map[string]string{}, prefixed: map[[2]string]string{}}}
}

func (b *builder) pod(p *coreapi.Pod) *podmeta.Pod {
	return &podmeta.Pod{
		Namespace:  b.strs.get(p.Namespace),
		Name:       p.Name,
		UID:        string(p.UID),
		Attrs:      b.podAttrs(p),
		Containers: b.containers(p),
		Multiline:  b.strs.get(p.Annotations[podmeta.MultilineAnnotation]),
		Parse:      b.strs.get(p.Annotations[podmeta.ParseAnnotation]),
	}
}

// podAttrs builds the pod-level attributes in podmeta.Pod.Attrs' order.
func (b *builder) podAttrs(p *coreapi.Pod) []record.Attr {
	k := b.keys
	a := make([]record.Attr, 0, 6+len(p.Labels)+min(len(b.annotations), len(p.Annotations)))
	a = podmeta.AppendAttr(a, k.Node, b.strs.get(p.Spec.NodeName))
	a = podmeta.AppendAttr(a, k.PodIP, p.Status.PodIP)
	if o := controllerOf(p.OwnerReferences); o != nil {
		kind, name := workload(o.Kind, b.strs.get(o.Name), p.Labels)
		a = podmeta.AppendAttr(a, k.OwnerKind, b.strs.get(o.Kind))
		a = podmeta.AppendAttr(a, k.OwnerName, b.strs.get(o.Name))
		a = podmeta.AppendAttr(a, k.WorkloadKind, b.strs.get(kind))
		a = podmeta.AppendAttr(a, k.WorkloadName, name)
	}
	a = b.appendMap(a, k.LabelPrefix, p.Labels, nil)
	if len(b.annotations) > 0 {
		a = b.appendMap(a, k.AnnotationPrefix, p.Annotations, b.annotations)
	}
	return a[:len(a):len(a)]
}

// appendMap appends m's entries sorted by key, each key behind prefix, only
// those in allow when allow is not nil. Empty values are kept: a label's
// presence can be its meaning.
func (b *builder) appendMap(a []record.Attr, prefix string, m map[string]string, allow map[string]bool) []record.Attr {
	start := len(a)
	for key, v := range m {
		if allow == nil || allow[key] {
			a = append(a, record.Attr{Key: key, Value: b.strs.get(v)})
		}
	}
	added := a[start:]
	slices.SortFunc(added, func(x, y record.Attr) int { return strings.Compare(x.Key, y.Key) })
	for i := range added {
		added[i].Key = b.strs.prefix(prefix, added[i].Key)
	}
	return a
}

// containers lists the pod's containers with their images from the spec
// and their ids from the status, matched by name.
func (b *builder) containers(p *coreapi.Pod) []podmeta.Container {
	s := &p.Spec
	cs := make([]podmeta.Container, 0, len(s.Containers)+len(s.InitContainers)+len(s.EphemeralContainers))
	for _, c := range s.Containers {
		cs = append(cs, podmeta.Container{Name: b.strs.get(c.Name), Image: b.strs.get(c.Image)})
	}
	for _, c := range s.InitContainers {
		cs = append(cs, podmeta.Container{Name: b.strs.get(c.Name), Image: b.strs.get(c.Image)})
	}
	for _, c := range s.EphemeralContainers {
		cs = append(cs, podmeta.Container{Name: b.strs.get(c.Name), Image: b.strs.get(c.Image)})
	}
	for _, list := range [][]coreapi.ContainerStatus{p.Status.ContainerStatuses, p.Status.InitContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for _, st := range list {
			i := slices.IndexFunc(cs, func(c podmeta.Container) bool { return c.Name == st.Name })
			if i < 0 {
				continue
			}
			cs[i].ID = stripScheme(st.ContainerID)
			if cs[i].Image == "" {
				cs[i].Image = b.strs.get(st.Image)
			}
		}
	}
	return cs
}

// controllerOf returns the owner reference marked as the pod's controller.
func controllerOf(refs []coreapi.OwnerReference) *coreapi.OwnerReference {
	for i := range refs {
		if refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}

// stripScheme drops the runtime's "containerd://" or "docker://" so that
// the id reads as the path layouts and the runtimes' CLIs print it.
func stripScheme(id string) string {
	if _, after, ok := strings.Cut(id, "://"); ok {
		return after
	}
	return id
}

// samePod reports whether a and b would enrich records alike.
func samePod(a, b *podmeta.Pod) bool {
	return a.Namespace == b.Namespace && a.Name == b.Name && a.UID == b.UID &&
		slices.Equal(a.Attrs, b.Attrs) && slices.Equal(a.Containers, b.Containers)
}

// maxInterned bounds the interner; when full it starts over, which costs
// only sharing.
const maxInterned = 8192

// interner shares the strings that repeat across pods (namespaces, images,
// label keys and values) so that a thousand replicas keep one copy. Only
// short strings are kept: long ones rarely repeat.
type interner struct {
	mu       sync.Mutex // the pod and namespace informers transform concurrently
	m        map[string]string
	prefixed map[[2]string]string // {prefix, key} → prefix+key
}

func (in *interner) get(s string) string {
	if s == "" || len(s) > 128 {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.m[s]; ok {
		return v
	}
	if len(in.m) >= maxInterned {
		clear(in.m)
	}
	in.m[s] = s
	return s
}

// prefix returns prefix+key, shared across pods.
func (in *interner) prefix(prefix, key string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.prefixed[[2]string{prefix, key}]; ok {
		return v
	}
	if len(in.prefixed) >= maxInterned {
		clear(in.prefixed)
	}
	v := prefix + key
	in.prefixed[[2]string{prefix, key}] = v
	return v
}

// Package coreapi holds the part of Kubernetes' core/v1 Pod and Namespace
// that sluice reads, decoded from the API server's JSON. The daemon links
// this instead of k8s.io/api/core/v1, whose generated protobuf, deep-copy
// and scheme code cost some 1.7 MB of binary and 3 MiB of resident pages
// for two resources (cmd/sluice's TestNoClientsetPackages keeps it out).
//
// Guarantees: every field is spelled as the Kubernetes API spells it, so a
// field sluice does not read is skipped when decoding, and one the server
// leaves out decodes to its zero value. The types are runtime.Objects that
// client-go's reflector and informers accept: objects give their metadata
// through GetObjectMeta, lists theirs through the embedded ListMeta and
// their items through the Items field.
//
// Not supported: protobuf, which needs the generated code; a client of
// these types must ask for JSON.
package coreapi

import (
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// ObjectMeta is the part of metav1.ObjectMeta that sluice reads, plus the
// annotations, which also carry the reflector's end-of-initial-events
// bookmark. Managed fields, the largest part of most objects, are skipped.
type ObjectMeta struct {
	Name            string            `json:"name,omitempty"`
	Namespace       string            `json:"namespace,omitempty"`
	UID             types.UID         `json:"uid,omitempty"`
	ResourceVersion string            `json:"resourceVersion,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	OwnerReferences []OwnerReference  `json:"ownerReferences,omitempty"`
}

// GetObjectMeta gives client-go (meta.Accessor) what it keys, compares and
// recognises bookmarks by; it is built on each call, as nothing stores it.
func (m *ObjectMeta) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Labels: m.Labels, Annotations: m.Annotations,
	}
}

func (m *ObjectMeta) deepCopy() ObjectMeta {
	c := *m
	c.Labels = maps.Clone(m.Labels)
	c.Annotations = maps.Clone(m.Annotations)
	c.OwnerReferences = slices.Clone(m.OwnerReferences)
	return c
}

// OwnerReference is the part of metav1.OwnerReference that names a pod's
// controller; a missing or null controller field reads as false.
type OwnerReference struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Controller bool   `json:"controller,omitempty"`
}

// Pod is the part of a core/v1 Pod that enrichment uses.
type Pod struct {
	metav1.TypeMeta `json:",inline"`
	ObjectMeta      `json:"metadata"`
	Spec            PodSpec   `json:"spec"`
	Status          PodStatus `json:"status"`
}

// PodSpec is the part of a core/v1 PodSpec that enrichment uses.
type PodSpec struct {
	NodeName            string      `json:"nodeName,omitempty"`
	Containers          []Container `json:"containers,omitempty"`
	InitContainers      []Container `json:"initContainers,omitempty"`
	EphemeralContainers []Container `json:"ephemeralContainers,omitempty"`
}

// Container is a container of a PodSpec, of any of its three lists.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image,omitempty"`
}

// PodStatus is the part of a core/v1 PodStatus that enrichment uses.
type PodStatus struct {
	PodIP                      string            `json:"podIP,omitempty"`
	ContainerStatuses          []ContainerStatus `json:"containerStatuses,omitempty"`
	InitContainerStatuses      []ContainerStatus `json:"initContainerStatuses,omitempty"`
	EphemeralContainerStatuses []ContainerStatus `json:"ephemeralContainerStatuses,omitempty"`
}

// ContainerStatus is the part of a core/v1 ContainerStatus that names the
// running container.
type ContainerStatus struct {
	Name        string `json:"name"`
	ContainerID string `json:"containerID,omitempty"`
	Image       string `json:"image,omitempty"`
}

// DeepCopyObject satisfies runtime.Object.
func (p *Pod) DeepCopyObject() runtime.Object { return deepCopyObject(p) }

// DeepCopy returns a copy of p that shares nothing mutable with it.
func (p *Pod) DeepCopy() *Pod {
	c := *p
	c.ObjectMeta = p.ObjectMeta.deepCopy()
	s, cs := &c.Spec, &c.Status
	s.Containers = slices.Clone(s.Containers)
	s.InitContainers = slices.Clone(s.InitContainers)
	s.EphemeralContainers = slices.Clone(s.EphemeralContainers)
	cs.ContainerStatuses = slices.Clone(cs.ContainerStatuses)
	cs.InitContainerStatuses = slices.Clone(cs.InitContainerStatuses)
	cs.EphemeralContainerStatuses = slices.Clone(cs.EphemeralContainerStatuses)
	return &c
}

// PodList is a list of pods, as the API server answers a list.
type PodList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []Pod `json:"items"`
}

// DeepCopyObject satisfies runtime.Object.
func (l *PodList) DeepCopyObject() runtime.Object { return deepCopyObject(l) }

// DeepCopy returns a copy of l that shares nothing mutable with it.
func (l *PodList) DeepCopy() *PodList {
	return &PodList{TypeMeta: l.TypeMeta, ListMeta: *l.ListMeta.DeepCopy(), Items: copyItems(l.Items)}
}

// Namespace is the part of a core/v1 Namespace that enrichment uses: its
// labels.
type Namespace struct {
	metav1.TypeMeta `json:",inline"`
	ObjectMeta      `json:"metadata"`
}

// DeepCopyObject satisfies runtime.Object.
func (n *Namespace) DeepCopyObject() runtime.Object { return deepCopyObject(n) }

// DeepCopy returns a copy of n that shares nothing mutable with it.
func (n *Namespace) DeepCopy() *Namespace {
	c := *n
	c.ObjectMeta = n.ObjectMeta.deepCopy()
	return &c
}

// NamespaceList is a list of namespaces, as the API server answers a list.
type NamespaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []Namespace `json:"items"`
}

// DeepCopyObject satisfies runtime.Object.
func (l *NamespaceList) DeepCopyObject() runtime.Object { return deepCopyObject(l) }

// DeepCopy returns a copy of l that shares nothing mutable with it.
func (l *NamespaceList) DeepCopy() *NamespaceList {
	return &NamespaceList{TypeMeta: l.TypeMeta, ListMeta: *l.ListMeta.DeepCopy(), Items: copyItems(l.Items)}
}

// deepCopyObject is DeepCopyObject for any of the four types: a typed nil
// copies to nil, as generated code does.
func deepCopyObject[T any, P interface {
	*T
	DeepCopy() *T
	runtime.Object
}](p P) runtime.Object {
	if p == nil {
		return nil
	}
	return P(p.DeepCopy())
}

// copyItems deep-copies a list's items; nil stays nil, empty stays empty.
func copyItems[T any, P interface {
	*T
	DeepCopy() *T
}](items []T) []T {
	c := slices.Clone(items)
	for i := range items {
		c[i] = *P(&items[i]).DeepCopy()
	}
	return c
}

// SchemeGroupVersion is core's group version, which has no group name.
var SchemeGroupVersion = schema.GroupVersion{Version: "v1"}

// AddToScheme registers the four types as kinds Pod, PodList, Namespace
// and NamespaceList of v1, with meta/v1's list options, watch events and
// Status, which requests and responses of v1 carry.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(SchemeGroupVersion, &Pod{}, &PodList{}, &Namespace{}, &NamespaceList{})
	metav1.AddToGroupVersion(s, SchemeGroupVersion)
	return nil
}

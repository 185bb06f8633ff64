package podcache

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/sluicelog/sluice/enrich/podcache/coreapi"
	"github.com/sluicelog/sluice/record"
)

// nsObject is what the namespace informer stores in place of a
// *coreapi.Namespace: its name, its resource version and its labels as
// attributes.
type nsObject struct {
	name, resourceVersion string
	attrs                 []record.Attr
}

// GetObjectMeta gives the informer what it keys and compares objects by.
func (o *nsObject) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Name: o.name, ResourceVersion: o.resourceVersion}
}

// GetObjectKind satisfies runtime.Object; the informer never asks.
func (o *nsObject) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject satisfies runtime.Object; attrs is never modified, so
// sharing it is a deep copy.
func (o *nsObject) DeepCopyObject() runtime.Object {
	c := *o
	return &c
}

// transformNamespace is the namespace informer's TransformFunc; idempotent.
func (c *Cache) transformNamespace(obj any) (any, error) {
	ns, ok := obj.(*coreapi.Namespace)
	if !ok {
		return obj, nil
	}
	a := c.build.appendMap(nil, c.build.keys.NamespaceLabelPrefix, ns.Labels, nil)
	if len(a) == 0 {
		a = nil
	}
	return &nsObject{name: ns.Name, resourceVersion: ns.ResourceVersion, attrs: a[:len(a):len(a)]}, nil
}

// newNamespaceInformer watches every namespace: their labels are not on the
// pods, and a namespace cannot be selected by the pods on a node.
func (c *Cache) newNamespaceInformer(cl Client, resync time.Duration) cache.SharedIndexInformer {
	return c.newInformer(listWatch(c, cl, namespacesResource, cl.ListNamespaces, cl.WatchNamespaces, nil), &coreapi.Namespace{}, namespacesResource,
		resync, c.transformNamespace, c.onNamespace, c.onNamespaceDelete)
}

func (c *Cache) onNamespace(obj any) {
	if o, ok := obj.(*nsObject); ok {
		c.store.setNamespace(o.name, o.attrs)
	}
}

func (c *Cache) onNamespaceDelete(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if o, ok := obj.(*nsObject); ok {
		c.store.setNamespace(o.name, nil)
	}
}

// Package podcachetest runs a pod cache on a client-go clientset, such as
// the fake one of k8s.io/client-go/kubernetes/fake, for tests and
// benchmarks. The daemon does not link it: a Clientset registers every API
// group, and the cache needs core/v1 only.
package podcachetest

import (
	"context"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/watchlist"
)

// Clientset is a podcache.Client over the core/v1 client of a clientset.
type Clientset struct {
	cs kubernetes.Interface
}

// New returns the podcache.Client of cs.
func New(cs kubernetes.Interface) *Clientset { return &Clientset{cs: cs} }

// ListPods lists the pods of all namespaces.
func (c *Clientset) ListPods(ctx context.Context, o metav1.ListOptions) (*v1.PodList, error) {
	return c.cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, o)
}

// WatchPods watches the pods of all namespaces.
func (c *Clientset) WatchPods(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return c.cs.CoreV1().Pods(metav1.NamespaceAll).Watch(ctx, o)
}

// ListNamespaces lists the namespaces.
func (c *Clientset) ListNamespaces(ctx context.Context, o metav1.ListOptions) (*v1.NamespaceList, error) {
	return c.cs.CoreV1().Namespaces().List(ctx, o)
}

// WatchNamespaces watches the namespaces.
func (c *Clientset) WatchNamespaces(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return c.cs.CoreV1().Namespaces().Watch(ctx, o)
}

// IsWatchListSemanticsUnSupported passes on what the clientset says: the
// fake one cannot stream lists, so the reflector must list and watch.
func (c *Clientset) IsWatchListSemanticsUnSupported() bool {
	return watchlist.DoesClientNotSupportWatchListSemantics(c.cs)
}

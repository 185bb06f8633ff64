// Package podcachetest runs a pod cache on a client-go clientset, such as
// the fake one of k8s.io/client-go/kubernetes/fake, for tests and
// benchmarks. The daemon does not link it: a Clientset registers every API
// group, and the cache needs core/v1's pods and namespaces only, which it
// reads as package coreapi has them.
package podcachetest

import (
	"context"
	"encoding/json"
	"fmt"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/watchlist"

	"github.com/sluicelog/sluice/enrich/podcache/coreapi"
)

// Clientset is a podcache.Client over the core/v1 client of a clientset.
// It hands on what the clientset answers converted to coreapi's types
// through JSON, as the API server's answer would be decoded.
type Clientset struct {
	cs kubernetes.Interface
}

// New returns the podcache.Client of cs.
func New(cs kubernetes.Interface) *Clientset { return &Clientset{cs: cs} }

// ListPods lists the pods of all namespaces.
func (c *Clientset) ListPods(ctx context.Context, o metav1.ListOptions) (*coreapi.PodList, error) {
	l, err := c.cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, o)
	if err != nil {
		return nil, err
	}
	return convert[coreapi.PodList](l)
}

// WatchPods watches the pods of all namespaces.
func (c *Clientset) WatchPods(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return convertWatch(c.cs.CoreV1().Pods(metav1.NamespaceAll).Watch(ctx, o))
}

// ListNamespaces lists the namespaces.
func (c *Clientset) ListNamespaces(ctx context.Context, o metav1.ListOptions) (*coreapi.NamespaceList, error) {
	l, err := c.cs.CoreV1().Namespaces().List(ctx, o)
	if err != nil {
		return nil, err
	}
	return convert[coreapi.NamespaceList](l)
}

// WatchNamespaces watches the namespaces.
func (c *Clientset) WatchNamespaces(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return convertWatch(c.cs.CoreV1().Namespaces().Watch(ctx, o))
}

// IsWatchListSemanticsUnSupported passes on what the clientset says: the
// fake one cannot stream lists, so the reflector must list and watch.
func (c *Clientset) IsWatchListSemanticsUnSupported() bool {
	return watchlist.DoesClientNotSupportWatchListSemantics(c.cs)
}

// Pod returns p as the cache reads it, for tests that hand pods to the
// cache's functions directly.
func Pod(p *v1.Pod) (*coreapi.Pod, error) { return convert[coreapi.Pod](p) }

// convertWatch passes w's events on with their pods and namespaces
// converted; other objects (a Status with an error) pass as they are.
func convertWatch(w watch.Interface, err error) (watch.Interface, error) {
	if err != nil {
		return nil, err
	}
	return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
		var (
			o   runtime.Object
			err error
		)
		switch obj := e.Object.(type) {
		case *v1.Pod:
			o, err = convert[coreapi.Pod](obj)
		case *v1.Namespace:
			o, err = convert[coreapi.Namespace](obj)
		default:
			return e, true
		}
		if err != nil {
			return watch.Event{Type: watch.Error, Object: &apierrors.NewInternalError(err).ErrStatus}, true
		}
		return watch.Event{Type: e.Type, Object: o}, true
	}), nil
}

// convert converts in to a T through JSON, which the two share.
func convert[T any](in any) (*T, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", in, err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("decode %T into %T: %w", in, out, err)
	}
	return out, nil
}

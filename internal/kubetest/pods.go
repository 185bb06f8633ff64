package kubetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// requestTimeout bounds each admin request the helpers below make.
const requestTimeout = 30 * time.Second

// CreatePod creates, as the admin, a pod named name in namespace ns (made
// first if missing) bound to node: spec.nodeName is set, so no scheduler is
// needed, and it stays Pending since no kubelet runs. It has one container,
// "app", with image "example/app:1". Each mutate function may change the
// pod before it is created. It returns the pod as the API server stored it.
func (s *Server) CreatePod(t testing.TB, ns, name, node string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if err := s.ensureNamespace(ctx, ns); err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "app", Image: "example/app:1"}},
		},
	}
	for _, m := range mutate {
		m(pod)
	}
	got, err := s.client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}
	return got
}

// DeletePod deletes, as the admin, the pod ns/name at once (grace period
// 0: with no kubelet to confirm it, a graceful delete would leave the pod
// Terminating for good). It returns once the pod is gone.
func (s *Server) DeletePod(t testing.TB, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	pods := s.client.CoreV1().Pods(ns)
	if err := pods.Delete(ctx, name, *metav1.NewDeleteOptions(0)); err != nil {
		t.Fatalf("delete pod %s/%s: %v", ns, name, err)
	}
	for {
		_, err := pods.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("delete pod %s/%s: still there after %v (last get: %v)", ns, name, requestTimeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ensureNamespace creates namespace ns unless it exists.
func (s *Server) ensureNamespace(ctx context.Context, ns string) error {
	_, err := s.client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

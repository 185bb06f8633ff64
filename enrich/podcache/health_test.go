package podcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

const rbacMsg = `User "system:serviceaccount:logging:sluice" cannot list resource "pods" in API group "" at the cluster scope`

func forbidden(res, msg string) error {
	return apierrors.NewForbidden(schema.GroupResource{Resource: res}, "", errors.New(msg))
}

// TestForbiddenThenGranted runs the informer against an API server that
// refuses the first list with a 403 and accepts the next: the error is
// logged at ERROR with what to grant, counted, shown by Status, and cleared
// once the list works.
func TestForbiddenThenGranted(t *testing.T) {
	cs := fake.NewClientset(simplePod("a", "p", "u", nil))
	var refused atomic.Bool
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if refused.CompareAndSwap(false, true) {
			return true, nil, forbidden("pods", rbacMsg)
		}
		return false, nil, nil
	})
	c := start(t, cs, Config{})
	c.ev.waitFor(t, "a watch error", func() bool { return c.ev.watchErrs[ReasonForbidden] == 1 })
	synced, err, since := c.Status()
	if synced || !apierrors.IsForbidden(err) || !since.Equal(c.clock.Now()) {
		t.Fatalf("Status = %v, %v, %v; want not synced, the 403, now", synced, err, since)
	}
	want := "level=ERROR msg=\"kubernetes: the service account may not list pods on node " + testNode +
		": grant get, list and watch on pods (ClusterRole) — pods is forbidden: " + strings.ReplaceAll(rbacMsg, `"`, `\"`) + "\""
	if !strings.Contains(c.log.String(), want) {
		t.Fatalf("log:\n%s\nwant a line with:\n%s", c.log, want)
	}

	// The reflector retries after its backoff (about a second).
	c.ev.syncedOnce(t)
	if synced, err, _ := c.Status(); !synced || err != nil {
		t.Fatalf("Status after the retry = %v, %v", synced, err)
	}
	if _, ok := c.Pod("a", "p"); !ok {
		t.Fatal("pod missing after the retry")
	}
	if !strings.Contains(c.log.String(), "level=INFO msg=\"kubernetes: the API server answers again: can list pods on node "+testNode) {
		t.Fatalf("no recovery logged:\n%s", c.log)
	}
}

// TestWatchErrorReporting drives the error handler directly: what is
// counted, what is logged at which level, and how often.
func TestWatchErrorReporting(t *testing.T) {
	c := build(fake.NewClientset(), Config{NamespaceLabels: true})
	refused := &url.Error{Op: "Get", URL: "https://10.0.0.1:443/api/v1/pods", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	steps := []struct {
		r   resource
		err error
	}{
		{podsResource, forbidden("pods", rbacMsg)},
		{podsResource, fmt.Errorf("failed to list *v1.Pod: %w", forbidden("pods", rbacMsg))}, // same message
		{podsResource, forbidden("pods", "another reason")},
		{namespacesResource, forbidden("namespaces", "no namespaces for you")},
		{podsResource, refused},
		{podsResource, refused},
		{podsResource, io.EOF},                           // a watch closed: not an error
		{podsResource, apierrors.NewResourceExpired("")}, // too old: relist, not an error
	}
	handlers := [numResources]func(context.Context, error){}
	for r := range numResources {
		h := c.watchErrorHandler(r)
		handlers[r] = func(ctx context.Context, err error) { h(ctx, nil, err) }
	}
	for _, s := range steps {
		handlers[s.r](context.Background(), s.err)
	}
	c.ev.mu.Lock()
	got := maps.Clone(c.ev.watchErrs)
	c.ev.mu.Unlock()
	if got[ReasonForbidden] != 4 || got[ReasonUnreachable] != 2 || len(got) != 2 {
		t.Fatalf("watch errors %v, want 4 forbidden and 2 unreachable", got)
	}
	log := c.log.String()
	for _, want := range []struct {
		line  string
		count int
	}{
		{"level=ERROR msg=\"kubernetes: the service account may not list pods on node " + testNode + ": grant get, list and watch on pods (ClusterRole) — pods is forbidden: " + strings.ReplaceAll(rbacMsg, `"`, `\"`), 1},
		{"pods is forbidden: another reason", 1},
		{"level=ERROR msg=\"kubernetes: the service account may not list namespaces: grant get, list and watch on namespaces (ClusterRole), or turn namespace labels off — namespaces is forbidden: no namespaces for you", 1},
		{"level=WARN msg=\"kubernetes: cannot reach the API server to list pods on node " + testNode, 1},
		{"level=DEBUG msg=\"kubernetes: cannot reach the API server", 1},
	} {
		if n := strings.Count(log, want.line); n != want.count {
			t.Errorf("%d lines with %q, want %d; log:\n%s", n, want.line, want.count, log)
		}
	}
	_, err, _ := c.Status()
	if !errors.Is(err, refused) {
		t.Fatalf("Status error %v, want the last one", err)
	}
	c.succeeded(podsResource)
	if _, err, _ := c.Status(); !apierrors.IsForbidden(err) {
		t.Fatalf("Status error %v, want the namespaces' 403, still unresolved", err)
	}
	c.succeeded(namespacesResource)
	if _, err, _ := c.Status(); err != nil {
		t.Fatalf("Status error %v after both recovered", err)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{forbidden("pods", "x"), ReasonForbidden},
		{fmt.Errorf("list: %w", forbidden("pods", "x")), ReasonForbidden},
		{apierrors.NewUnauthorized("token expired"), ReasonUnauthorized},
		{&url.Error{Op: "Get", URL: "https://x", Err: errors.New("dial tcp: lookup x: no such host")}, ReasonUnreachable},
		{&net.OpError{Op: "dial", Err: errors.New("i/o timeout")}, ReasonUnreachable},
		{fmt.Errorf("list: %w", io.ErrUnexpectedEOF), ReasonUnreachable},
		{apierrors.NewServiceUnavailable("etcd"), ReasonUnreachable},
		{apierrors.NewTimeoutError("slow", 1), ReasonUnreachable},
		{apierrors.NewInternalError(errors.New("boom")), ReasonOther},
		{apierrors.NewTooManyRequests("slow down", 1), ReasonOther},
		{errors.New("weird"), ReasonOther},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestNew(t *testing.T) {
	dir := testdir.New(t)
	good := filepath.Join(dir, "kubeconfig")
	err := os.WriteFile(good, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	tests := []struct {
		name    string
		c       Config
		wantErr string
		is      error
	}{
		{"no node", Config{Kubeconfig: good}, "the node name is empty", nil},
		{"neither in cluster nor kubeconfig", Config{Node: testNode}, "not running in a pod", rest.ErrNotInCluster},
		{"missing kubeconfig", Config{Node: testNode, Kubeconfig: filepath.Join(dir, "nope")}, "load kubeconfig " + filepath.Join(dir, "nope"), nil},
		{"kubeconfig", Config{Node: testNode, Kubeconfig: good}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.c)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New = %v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err %v is not %v", err, tt.is)
			}
		})
	}
}

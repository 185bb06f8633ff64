package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/internal/testtools"
)

const (
	// startTimeout bounds each process's start, up to its health check;
	// a loaded CI machine running the race tests in parallel is slow.
	startTimeout = 90 * time.Second
	// stopTimeout is how long a SIGTERM gets before the process is killed.
	stopTimeout = 30 * time.Second
	// readyTimeout bounds the wait for /readyz after the health check.
	readyTimeout = 60 * time.Second
	// tailLines is how much of each server's output a failed test shows.
	tailLines = 40
)

// Server is one control plane, etcd and kube-apiserver, owned by one test
// and stopped when it ends. It keeps its data and certificates in a folder
// of the test's own, so parallel tests never share state. Its methods call
// t.Fatal, so call them from the test's goroutine; the rest.Configs and
// clients they return may be used from any goroutine.
type Server struct {
	cp     *controlPlane
	dir    string
	admin  *rest.Config
	client kubernetes.Interface

	mu         sync.Mutex
	apiStopped bool
}

// Start runs etcd and kube-apiserver for the duration of the test and
// returns once the API server is ready and the admin user can use it.
// When the binaries cannot be found the test is skipped, or fails under
// CI=true, where a missing server must not pass silently.
func Start(t testing.TB) *Server {
	t.Helper()
	if platformSkip != "" {
		t.Skip(platformSkip)
	}
	a, err := findAssets()
	if errors.Is(err, errNotFound) {
		msg := fmt.Sprintf("%v; run scripts/install-kube-apiserver.sh (it builds etcd %s and kube-apiserver %s, about 12 minutes the first time) or set %s to a folder holding both",
			err, EtcdVersion, KubeVersion, envAssets)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing server is a failure)")
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatal(err)
	}
	if v := depVersion(a.apiServer, kubeModule); v != KubeVersion {
		t.Logf("%s is Kubernetes %q, not %s: results may differ", a.apiServer, v, KubeVersion)
	}
	if v := depVersion(a.etcd, etcdModule); v != EtcdVersion {
		t.Logf("%s is etcd %q, not %s: results may differ", a.etcd, v, EtcdVersion)
	}

	s := &Server{dir: testdir.New(t)}
	cp, err := newControlPlane(a, s.dir)
	if err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	s.cp = cp
	// Registered after testdir.New, so it runs first: the servers stop and
	// their output is read before the folder holding it is removed.
	t.Cleanup(func() { s.cleanup(t) })
	if s.admin, err = cp.start(); err != nil {
		t.Fatalf("start control plane (etcd and kube-apiserver from %s): %v", a.dir, err)
	}
	if s.client, err = kubernetes.NewForConfig(s.admin); err != nil {
		t.Fatalf("admin client: %v", err)
	}
	if err := s.waitReady(); err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	return s
}

// Config is a rest.Config for the admin user (group system:masters), a
// fresh copy on each call.
func (s *Server) Config() *rest.Config { return rest.CopyConfig(s.admin) }

// Client is a clientset for the admin user.
func (s *Server) Client() kubernetes.Interface { return s.client }

// AddUser makes a user authenticated by a client certificate, with the
// given groups, and returns its rest.Config (with client-go's default rate
// limits). The user may do nothing until a binding grants it something:
// see Grant.
func (s *Server) AddUser(t testing.TB, name string, groups ...string) *rest.Config {
	t.Helper()
	cfg, err := s.cp.addUser(name, groups)
	if err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	return cfg
}

// Kubeconfig writes a kubeconfig file for cfg (the admin's when nil), with
// the certificates inline, and returns its path. The file is removed with
// the server.
func (s *Server) Kubeconfig(t testing.TB, cfg *rest.Config) string {
	t.Helper()
	if cfg == nil {
		cfg = s.admin
	}
	const name = "kubetest"
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
	}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
	}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	kc.CurrentContext = name
	f, err := os.CreateTemp(s.dir, "kubeconfig-*.yaml")
	if err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	path := f.Name()
	f.Close()
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatalf("write kubeconfig %s: %v", path, err)
	}
	return path
}

// StopAPIServer stops the kube-apiserver process, leaving etcd running, so
// that a test can see what its client does while the API server is gone.
// Requests fail with connection refused until StartAPIServer. Stopping a
// stopped API server does nothing.
func (s *Server) StopAPIServer(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiStopped {
		return
	}
	if err := s.cp.stopAPIServer(); err != nil {
		t.Fatalf("stop kube-apiserver: %v", err)
	}
	s.apiStopped = true
}

// StartAPIServer starts the kube-apiserver again after StopAPIServer, on
// the same address and with the same certificates and data, and returns
// once it is ready. Every rest.Config, client and kubeconfig made before
// keeps working. Starting a running API server does nothing.
func (s *Server) StartAPIServer(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.apiStopped {
		return
	}
	if err := s.cp.startAPIServer(); err != nil {
		t.Fatalf("start kube-apiserver again on %s: %v", s.admin.Host, err)
	}
	s.apiStopped = false
	if err := s.waitReady(); err != nil {
		t.Fatalf("start kube-apiserver again: %v", err)
	}
}

// waitReady polls /readyz as the admin until it answers ok. envtest waits
// only for /healthz, which can pass before the RBAC authorizer's caches
// have synced, when a user's allowed request could still be refused.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	var last error
	for {
		body, err := s.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && strings.TrimSpace(string(body)) == "ok" {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("/readyz: %q", body)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", readyTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cleanup stops both servers and, when the test failed, shows the end of
// their output.
func (s *Server) cleanup(t testing.TB) {
	if err := s.cp.stop(); err != nil {
		t.Errorf("stop control plane: %v", err)
	}
	if t.Failed() {
		for _, p := range s.cp.logs() {
			t.Logf("last lines of %s:\n%s", p, testtools.Tail(p, tailLines))
		}
	}
}

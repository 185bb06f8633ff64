package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/internal/testtools"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// podNames lists the pods on node, in every namespace, as "ns/name".
func podNames(ctx context.Context, c kubernetes.Interface, node string) ([]string, error) {
	list, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range list.Items {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	slices.Sort(names)
	return names, nil
}

func newClient(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client for %s: %v", cfg.Host, err)
	}
	return c
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestServer(t *testing.T) {
	began := time.Now()
	s := Start(t)
	t.Logf("Start took %v", time.Since(began).Round(time.Millisecond))

	web := s.CreatePod(t, "team-a", "web", "n1", func(p *corev1.Pod) {
		p.Labels = map[string]string{"app": "web"}
	})
	s.CreatePod(t, "team-a", "db", "n2")
	s.CreatePod(t, "team-b", "worker", "n1") // a second namespace, made on the way
	if web.Spec.NodeName != "n1" || len(web.Spec.Containers) != 1 ||
		web.Spec.Containers[0].Name != "app" || web.Spec.Containers[0].Image != "example/app:1" ||
		web.Labels["app"] != "web" || web.UID == "" {
		t.Errorf("created pod = %+v, want node n1, one container app with image example/app:1, label app=web and a UID", web)
	}

	ctx := ctxTimeout(t, 2*time.Minute)
	want := []string{"team-a/web", "team-b/worker"}
	got, err := podNames(ctx, s.Client(), "n1")
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("admin: pods on n1 = %v, %v; want %v", got, err, want)
	}
	p, err := s.Client().CoreV1().Pods("team-a").Get(ctx, "web", metav1.GetOptions{})
	if err != nil || p.Status.Phase != corev1.PodPending {
		t.Errorf("pod team-a/web: phase %q, %v; want Pending: no kubelet runs", phaseOf(p), err)
	}

	// A user with no bindings is refused.
	userCfg := s.AddUser(t, "sluice", "sluice-agents")
	user := newClient(t, userCfg)
	if _, err := podNames(ctx, user, "n1"); !apierrors.IsForbidden(err) {
		t.Fatalf("user without permissions: list pods: %v, want Forbidden", err)
	}

	s.Grant(t, "sluice", []string{"get", "list", "watch"}, "pods")
	if got, err := podNames(ctx, user, "n1"); err != nil || !slices.Equal(got, want) {
		t.Fatalf("user after Grant: pods on n1 = %v, %v; want %v", got, err, want)
	}
	if _, err := user.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("user granted pods only: list namespaces: %v, want Forbidden", err)
	}

	// A watch with the node's field selector sees a new pod on n1 and
	// nothing of one on n2.
	list, err := user.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=n1"})
	if err != nil {
		t.Fatalf("user: list pods on n1: %v", err)
	}
	w, err := user.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{
		FieldSelector:   "spec.nodeName=n1",
		ResourceVersion: list.ResourceVersion,
	})
	if err != nil {
		t.Fatalf("user: watch pods on n1: %v", err)
	}
	s.CreatePod(t, "team-a", "other-node", "n2")
	s.CreatePod(t, "team-a", "late", "n1")
	select {
	case ev := <-w.ResultChan():
		pod, _ := ev.Object.(*corev1.Pod)
		if ev.Type != watch.Added || pod == nil || pod.Namespace+"/"+pod.Name != "team-a/late" {
			t.Errorf("watch event = %s %s, want ADDED team-a/late", ev.Type, describe(ev.Object))
		}
	case <-ctx.Done():
		t.Errorf("no watch event for team-a/late")
	}
	w.Stop()
	want = []string{"team-a/late", "team-a/web", "team-b/worker"}

	// The kubeconfig sluice would be given works the same.
	kcCfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig(t, userCfg))
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	fromFile := newClient(t, kcCfg)
	if got, err := podNames(ctx, fromFile, "n1"); err != nil || !slices.Equal(got, want) {
		t.Fatalf("user through kubeconfig: pods on n1 = %v, %v; want %v", got, err, want)
	}

	// The API server goes away: requests fail, and not as Forbidden.
	began = time.Now()
	s.StopAPIServer(t)
	t.Logf("StopAPIServer took %v", time.Since(began).Round(time.Millisecond))
	short := ctxTimeout(t, 5*time.Second)
	if got, err := podNames(short, user, "n1"); err == nil {
		t.Fatalf("API server stopped: list pods succeeded: %v", got)
	} else if apierrors.IsForbidden(err) {
		t.Fatalf("API server stopped: list pods: %v, want a connection error", err)
	} else {
		t.Logf("API server stopped: list pods: %v", err)
	}
	s.StopAPIServer(t) // a second stop does nothing

	// It comes back on the same address, with every pod still there, and
	// old configs, grants and kubeconfigs still good.
	began = time.Now()
	s.StartAPIServer(t)
	t.Logf("StartAPIServer took %v", time.Since(began).Round(time.Millisecond))
	s.StartAPIServer(t) // a second start does nothing
	if got := s.Config().Host; got != userCfg.Host {
		t.Errorf("address after restart = %s, want %s", got, userCfg.Host)
	}
	for name, c := range map[string]kubernetes.Interface{"admin": s.Client(), "user": user, "user through kubeconfig": fromFile} {
		if got, err := podNames(ctx, c, "n1"); err != nil || !slices.Equal(got, want) {
			t.Errorf("%s after restart: pods on n1 = %v, %v; want %v", name, got, err, want)
		}
	}
	p2, err := s.Client().CoreV1().Pods("team-a").Get(ctx, "web", metav1.GetOptions{})
	if err != nil || p2.UID != web.UID {
		t.Errorf("team-a/web after restart: %v, UID %s; want UID %s", err, uidOf(p2), web.UID)
	}

	s.DeletePod(t, "team-a", "web")
	if got, err := podNames(ctx, user, "n1"); err != nil || slices.Contains(got, "team-a/web") {
		t.Errorf("after DeletePod: pods on n1 = %v, %v; want no team-a/web", got, err)
	}
}

// describe names a watch event's object briefly.
func describe(o kruntime.Object) string {
	if p, ok := o.(*corev1.Pod); ok {
		return "pod " + p.Namespace + "/" + p.Name
	}
	return fmt.Sprintf("%T", o)
}

func phaseOf(p *corev1.Pod) corev1.PodPhase {
	if p == nil {
		return ""
	}
	return p.Status.Phase
}

func uidOf(p *corev1.Pod) string {
	if p == nil {
		return ""
	}
	return string(p.UID)
}

func TestFindAssets(t *testing.T) {
	empty := testdir.New(t)
	full := testdir.New(t)
	for _, name := range []string{etcdName, apiServerName} {
		if err := os.WriteFile(filepath.Join(full, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	noExec := testdir.New(t)
	for _, name := range []string{etcdName, apiServerName} {
		if err := os.WriteFile(filepath.Join(noExec, name), []byte("#!/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tools := testdir.New(t)
	if err := os.Mkdir(filepath.Join(tools, assetsSubdir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{etcdName, apiServerName} {
		if err := os.WriteFile(filepath.Join(tools, assetsSubdir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name         string
		assets       string // $KUBEBUILDER_ASSETS
		tools        string // $SLUICE_TEST_TOOLS
		wantDir      string
		wantNotFound bool // errNotFound: Start skips, or fails under CI
		wantErr      bool // another error: Start fails
		unixOnly     bool // Windows has no execute bits
	}{
		{name: "nothing installed", tools: empty, wantNotFound: true},
		{name: "installed in tools", tools: tools, wantDir: filepath.Join(tools, assetsSubdir)},
		{name: "KUBEBUILDER_ASSETS wins", assets: full, tools: tools, wantDir: full},
		{name: "KUBEBUILDER_ASSETS without binaries", assets: empty, tools: tools, wantErr: true},
		{name: "KUBEBUILDER_ASSETS not executable", assets: noExec, tools: tools, wantErr: true, unixOnly: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unixOnly && runtime.GOOS == "windows" {
				t.Skip("Windows has no execute bits: any file can be run")
			}
			t.Setenv(envAssets, tt.assets)
			t.Setenv(testtools.EnvTools, tt.tools)
			a, err := findAssets()
			switch {
			case tt.wantNotFound:
				if !errors.Is(err, errNotFound) {
					t.Errorf("findAssets() = %+v, %v; want errNotFound", a, err)
				}
			case tt.wantErr:
				if err == nil || errors.Is(err, errNotFound) {
					t.Errorf("findAssets() = %+v, %v; want an error other than errNotFound", a, err)
				}
			default:
				if err != nil || a.dir != tt.wantDir ||
					a.etcd != filepath.Join(tt.wantDir, etcdName) || a.apiServer != filepath.Join(tt.wantDir, apiServerName) {
					t.Errorf("findAssets() = %+v, %v; want the binaries in %s", a, err, tt.wantDir)
				}
			}
		})
	}
}

func TestStartSkipsWithoutBinaries(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(envAssets, "")
	t.Setenv(testtools.EnvTools, testdir.New(t))
	var sub *testing.T
	t.Run("start", func(t *testing.T) {
		sub = t
		Start(t)
		t.Error("Start returned without the binaries")
	})
	if !sub.Skipped() {
		t.Errorf("Start did not skip without the binaries (CI unset)")
	}
}

package podcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/enrich/podcache/coreapi"
	"github.com/sluicelog/sluice/enrich/podcache/podcachetest"
	"github.com/sluicelog/sluice/enrich/podmeta"
)

var _ Client = (*podcachetest.Clientset)(nil)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testNode  = "akswin000001"
	patience  = 10 * time.Second // reached only when a test fails
	templHash = "7d9f8c6b5"
)

// recorder is an Events that keeps what it is told and wakes waiters.
type recorder struct {
	mu         sync.Mutex
	watchErrs  map[string]int
	cached     int
	synced     int
	changed    chan struct{}
	cachedSeen int // PodsCached calls
}

func newRecorder() *recorder {
	return &recorder{watchErrs: map[string]int{}, changed: make(chan struct{})}
}

func (r *recorder) update(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) WatchError(reason string) { r.update(func() { r.watchErrs[reason]++ }) }
func (r *recorder) PodsCached(n int)         { r.update(func() { r.cached = n; r.cachedSeen++ }) }
func (r *recorder) Synced()                  { r.update(func() { r.synced++ }) }

// waitFor waits until cond, checked under the recorder's lock, holds.
func (r *recorder) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(patience)
	for {
		r.mu.Lock()
		ok, ch := cond(), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// syncedOnce waits for Events.Synced.
func (r *recorder) syncedOnce(t testing.TB) {
	t.Helper()
	r.waitFor(t, "sync", func() bool { return r.synced == 1 })
}

// waitCache waits until cond holds, checking it at each change of the cache.
func waitCache(t *testing.T, c *Cache, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(patience)
	for {
		ch := c.Changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitPod waits until the cache's answer for ns/name satisfies cond.
func waitPod(t *testing.T, c *Cache, ns, name string, cond func(p *podmeta.Pod, ok bool) bool) {
	t.Helper()
	waitCache(t, c, "pod "+ns+"/"+name, func() bool { return cond(c.Pod(ns, name)) })
}

// clock is a settable time source for the cache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuf collects log output from several goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// started is a Cache running in the background for one test.
type started struct {
	*Cache
	ev    *recorder
	log   *logBuf
	clock *clock
	tick  chan time.Time
	// watches close when the cache's watch of a resource exists.
	watches map[string]chan struct{}
}

// start builds a Cache on cs with a test clock, janitor tick, log and
// recorder, runs it, and stops it when the test ends.
func start(t *testing.T, cs kubernetes.Interface, c Config) *started {
	t.Helper()
	if c.Node == "" {
		c.Node = testNode
	}
	s := newStarted(&c)
	if f, ok := cs.(*fake.Clientset); ok {
		s.watches = watchSignals(f)
	}
	s.run(t, NewForClient(podcachetest.New(cs), c))
	return s
}

// build makes a Cache on cs as start does, without running it: a test that
// drives its handlers directly then races no informer (a running one's
// successful watch could clear an error the test had just reported).
func build(cs kubernetes.Interface, c Config) *started {
	if c.Node == "" {
		c.Node = testNode
	}
	s := newStarted(&c)
	s.use(NewForClient(podcachetest.New(cs), c))
	return s
}

// watchSignals makes f's watches report when they exist. The fake tracker
// does not replay what changed before a watch started, so a test that
// changes objects after the initial list first waits for the watch, or the
// change can be missed (seen under load).
func watchSignals(f *fake.Clientset) map[string]chan struct{} {
	sig := map[string]chan struct{}{"pods": make(chan struct{}), "namespaces": make(chan struct{})}
	var once sync.Map
	f.PrependWatchReactor("*", func(action k8stesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if wa, ok := action.(k8stesting.WatchActionImpl); ok {
			opts = wa.ListOptions
		}
		gvr := action.GetResource()
		w, err := f.Tracker().Watch(gvr, action.GetNamespace(), opts)
		if err != nil {
			return false, nil, err
		}
		if ch, ok := sig[gvr.Resource]; ok {
			if _, done := once.LoadOrStore(gvr.Resource, true); !done {
				close(ch)
			}
		}
		return true, w, nil
	})
	return sig
}

// watching waits until the cache watches resource (fake clientsets only).
func (s *started) watching(t testing.TB, resource string) {
	t.Helper()
	select {
	case <-s.watches[resource]:
	case <-time.After(patience):
		t.Fatalf("the cache did not start watching %s", resource)
	}
}

func hexID(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(h[:])
}

func ptr[T any](v T) *T { return &v }

// decoded returns p as the informer hands it to the transform: decoded
// from the API server's JSON into a coreapi.Pod.
func decoded(tb testing.TB, p *v1.Pod) *coreapi.Pod {
	tb.Helper()
	d, err := podcachetest.Pod(p)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// realisticPod is pod i of a Deployment "checkout" on node, shaped like
// what a real API server returns: managed fields, env, probes, volumes,
// conditions and an istio-like sidecar.
func realisticPod(i int, node string) *v1.Pod {
	name := fmt.Sprintf("checkout-%s-%05x", templHash, i)
	ns := fmt.Sprintf("team-%d", i%5)
	uid := fmt.Sprintf("7f5b3c1e-2d4a-4b6c-8e9f-%012x", i)
	fields := `{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"x\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{},"f:resources":{},"f:terminationMessagePath":{}}}}}`
	env := make([]v1.EnvVar, 12)
	for j := range env {
		env[j] = v1.EnvVar{Name: fmt.Sprintf("CHECKOUT_SETTING_%d", j), Value: fmt.Sprintf("value-%d-%s", j, strings.Repeat("x", 16))}
	}
	probe := &v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 10}
	res := v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: kresource.MustParse("100m"), v1.ResourceMemory: kresource.MustParse("128Mi")},
		Limits:   v1.ResourceList{v1.ResourceMemory: kresource.MustParse("512Mi")},
	}
	mounts := []v1.VolumeMount{{Name: "config", MountPath: "/etc/checkout"}, {Name: "kube-api-access-abcde", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}}
	started := metav1.NewTime(time.Unix(1_790_000_000+int64(i), 0))
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: types.UID(uid), ResourceVersion: fmt.Sprint(1000 + i),
			GenerateName: "checkout-" + templHash + "-", CreationTimestamp: started,
			Labels: map[string]string{
				"app": "checkout", "app.kubernetes.io/name": "checkout", "app.kubernetes.io/part-of": "shop",
				"app.kubernetes.io/version": "1.4.2", "pod-template-hash": templHash, "security.istio.io/tlsMode": "istio",
			},
			Annotations: map[string]string{
				"kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z", "prometheus.io/scrape": "true",
				"prometheus.io/port": "9090", "checksum/config": hexID(ns),
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "checkout-" + templHash,
				UID: "rs-uid", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "kube-controller-manager", Operation: "Update", APIVersion: "v1", Time: &started, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}},
				{Manager: "kubelet", Operation: "Update", APIVersion: "v1", Time: &started, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}, Subresource: "status"},
			},
		},
		Spec: v1.PodSpec{
			NodeName: node, ServiceAccountName: "checkout", RestartPolicy: v1.RestartPolicyAlways,
			InitContainers: []v1.Container{{Name: "istio-init", Image: "docker.io/istio/proxyv2:1.24.1", Args: []string{"istio-iptables", "-p", "15001"}}},
			Containers: []v1.Container{
				{Name: "app", Image: "registry.example.com/shop/checkout:1.4.2", Env: env, Resources: res, VolumeMounts: mounts,
					Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: v1.ProtocolTCP}}, LivenessProbe: probe, ReadinessProbe: probe},
				{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.24.1", Args: []string{"proxy", "sidecar"}, Resources: res, VolumeMounts: mounts},
			},
			Volumes: []v1.Volume{
				{Name: "config", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "checkout"}}}},
				{Name: "kube-api-access-abcde", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{{ServiceAccountToken: &v1.ServiceAccountTokenProjection{Path: "token"}}}}}},
			},
			Tolerations: []v1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))}},
		},
		Status: v1.PodStatus{
			Phase: v1.PodRunning, PodIP: fmt.Sprintf("10.244.%d.%d", i/250, i%250+2), HostIP: "10.240.0.4", StartTime: &started,
			Conditions: []v1.PodCondition{
				{Type: v1.PodInitialized, Status: v1.ConditionTrue, LastTransitionTime: started},
				{Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: started},
				{Type: v1.ContainersReady, Status: v1.ConditionTrue, LastTransitionTime: started},
				{Type: v1.PodScheduled, Status: v1.ConditionTrue, LastTransitionTime: started},
			},
			InitContainerStatuses: []v1.ContainerStatus{{Name: "istio-init", Image: "docker.io/istio/proxyv2:1.24.1", ImageID: "docker.io/istio/proxyv2@sha256:" + hexID("init"),
				ContainerID: "containerd://" + hexID(name+"init"), State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}}},
			ContainerStatuses: []v1.ContainerStatus{
				{Name: "app", Ready: true, Image: "registry.example.com/shop/checkout:1.4.2", ImageID: "registry.example.com/shop/checkout@sha256:" + hexID("app"),
					ContainerID: "containerd://" + hexID(name+"app"), State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: started}}},
				{Name: "istio-proxy", Ready: true, Image: "docker.io/istio/proxyv2:1.24.1", ImageID: "docker.io/istio/proxyv2@sha256:" + hexID("init"),
					ContainerID: "containerd://" + hexID(name+"proxy"), State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: started}}},
			},
		},
	}
}

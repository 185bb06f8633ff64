package podcache

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/internal/kubetest"
	"github.com/sluicelog/sluice/record"
)

// These tests run the cache against a real kube-apiserver and etcd (see
// package kubetest): they skip without the binaries, fail without them
// under CI=true, and always skip on Windows. They do not run in parallel:
// two kubetest.Start calls at once race on controller-runtime's global
// logger (log.SetLogger), which -race reports.

const (
	apiNode   = "n1"
	otherNode = "n2"
	// apiPatience bounds waits that include the reflector's backoff, which
	// doubles from 0.8 s (with up to 100% jitter) after each failure.
	apiPatience = 45 * time.Second
	rbacYAML    = "../../deploy/rbac.yaml"
)

// startFromKubeconfig builds a Cache with New, as the daemon does, from a
// kubeconfig file, and runs it with the test clock, janitor tick, log and
// recorder of start.
func startFromKubeconfig(t *testing.T, kubeconfig string, c Config) *started {
	t.Helper()
	c.Kubeconfig = kubeconfig
	s := newStarted(&c)
	k, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.run(t, k)
	return s
}

// startOnConfig builds a Cache on the REST client New would make for rc
// and runs it like startFromKubeconfig.
func startOnConfig(t *testing.T, rc *rest.Config, c Config) *started {
	t.Helper()
	cl, err := newCoreClient(rc)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	s := newStarted(&c)
	s.run(t, NewForClient(cl, c))
	return s
}

// use makes k the Cache under test, on the test clock and janitor tick.
func (s *started) use(k *Cache) {
	s.Cache = k
	s.now = s.clock.Now
	s.Cache.tick = s.tick
}

func newStarted(c *Config) *started {
	s := &started{ev: newRecorder(), log: &logBuf{}, clock: &clock{now: time.Unix(1_800_000_000, 0)}, tick: make(chan time.Time)}
	c.Events = s.ev
	c.Logger = slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return s
}

func (s *started) run(t *testing.T, k *Cache) {
	t.Helper()
	s.use(k)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(patience):
			t.Error("Run did not return after cancel")
		}
	})
}

// requestLog records the field selector of every pod list and watch a
// client sends, and how it was sent and answered.
type requestLog struct {
	mu   sync.Mutex
	seen []string // "list spec.nodeName=n1", "watch spec.nodeName=n1", "watch-list spec.nodeName=n1"
	// wire holds each answered request's user agent and the media type of
	// the answer: "sluice application/json;stream=watch".
	wire []string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/pods") {
			q := r.URL.Query()
			verb := "list"
			switch {
			case q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
				verb = "watch-list"
			case q.Get("watch") == "true":
				verb = "watch"
			}
			l.mu.Lock()
			l.seen = append(l.seen, verb+" "+q.Get("fieldSelector"))
			l.mu.Unlock()
		}
		resp, err := rt.RoundTrip(r)
		if err == nil {
			l.mu.Lock()
			l.wire = append(l.wire, r.UserAgent()+" "+resp.Header.Get("Content-Type"))
			l.mu.Unlock()
		}
		return resp, err
	})
}

func (l *requestLog) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen)
}

func (l *requestLog) answers() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.wire)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ownedByReplicaSet makes a pod one of Deployment web's: owned by its
// ReplicaSet, with the template hash label the Deployment controller sets.
func ownedByReplicaSet(rs, hash string) func(*v1.Pod) {
	return func(p *v1.Pod) {
		p.Labels = map[string]string{"app": "web", "pod-template-hash": hash}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs,
			UID: "6f1a2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
	}
}

// setRunning writes the status a kubelet would: a pod IP and the app
// container's id, so the cache has one to give.
func setRunning(t *testing.T, cs kubernetes.Interface, p *v1.Pod, ip, containerID string) *v1.Pod {
	t.Helper()
	p = p.DeepCopy()
	now := metav1.Now()
	p.Status.Phase = v1.PodRunning
	p.Status.PodIP = ip
	p.Status.PodIPs = []v1.PodIP{{IP: ip}}
	p.Status.ContainerStatuses = []v1.ContainerStatus{{
		Name: "app", Image: "example/app:1", ImageID: "docker.io/example/app@sha256:" + hexID("image"),
		ContainerID: "containerd://" + containerID, Ready: true, Started: ptr(true),
		State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: now}},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	got, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status of %s/%s: %v", p.Namespace, p.Name, err)
	}
	return got
}

// attrString renders attributes as "k=v k=v", in order.
func attrString(a []record.Attr) string {
	parts := make([]string, len(a))
	for i, kv := range a {
		parts[i] = kv.Key + "=" + kv.Value
	}
	return strings.Join(parts, " ")
}

// TestAPIServerNodePods runs the cache, as the daemon configures its
// client, against a real API server holding pods on two nodes: pods of
// node n1 made before and after it starts are found by name and uid with
// everything sluice keeps (labels, owner and workload, image, container id
// once the status names one); pods of n2 never enter it, because every
// list and watch carries the field selector (a cache with no node, given
// the same API server, does see them); and a deleted pod stays for its
// grace period, then is purged.
func TestAPIServerNodePods(t *testing.T) {
	s := kubetest.Start(t)
	const (
		rs   = "web-7d9f8c6b5"
		hash = "7d9f8c6b5"
	)
	ctrID := hexID("web-app")
	web := s.CreatePod(t, "team-a", rs+"-x2x7q", apiNode, ownedByReplicaSet(rs, hash))
	web = setRunning(t, s.Client(), web, "10.244.1.7", ctrID)
	elsewhere := s.CreatePod(t, "team-a", "db-0", otherNode, func(p *v1.Pod) { p.Labels = map[string]string{"app": "db"} })

	// The client as New makes it (JSON, user agent), with a recorder of
	// what it asks the API server for.
	rc, err := restConfig(s.Kubeconfig(t, nil), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var reqs requestLog
	rc.Wrap(reqs.wrap)
	c := startOnConfig(t, rc, Config{Node: apiNode, Grace: time.Minute})
	c.ev.syncedOnce(t)
	if synced, err, _ := c.Status(); !synced || err != nil {
		t.Fatalf("Status = %v, %v; want synced and no error", synced, err)
	}
	select {
	case <-c.FirstSync():
	default:
		t.Fatal("synced, but FirstSync is not closed")
	}
	c.ev.mu.Lock()
	cachedAtSync := c.ev.cached
	c.ev.mu.Unlock()
	if cachedAtSync != 1 {
		t.Errorf("PodsCached at sync = %d, want 1 (the pod on %s; the one on %s is not counted)", cachedAtSync, apiNode, otherNode)
	}

	// Made before the cache started: found by name and by uid, in full.
	p, ok := c.Pod("team-a", web.Name)
	if !ok {
		t.Fatalf("pod team-a/%s made before the start is not cached", web.Name)
	}
	if byUID, ok := c.PodByUID(string(web.UID)); !ok || byUID != p {
		t.Errorf("PodByUID(%s) = %v, %v; want the pod found by name", web.UID, byUID, ok)
	}
	keys := podmeta.DefaultKeys()
	want := fmt.Sprintf("namespace=team-a pod=%s pod_uid=%s container=app container_id=%s container_image=example/app:1 "+
		"node=%s pod_ip=10.244.1.7 owner_kind=ReplicaSet owner_name=%s workload_kind=Deployment workload_name=web "+
		"label.app=web label.pod-template-hash=%s", web.Name, web.UID, ctrID, apiNode, rs, hash)
	if got := attrString(p.RecordAttrs(keys, "app", "")); got != want {
		t.Errorf("record attributes of %s:\n got %s\nwant %s", web.Name, got, want)
	}

	// Made after it started: on n1 it comes in through the watch; on n2
	// not, though it was made first (the watch keeps the API server's
	// order, so once the n1 pod is in, the n2 pod had its chance).
	late2 := s.CreatePod(t, "team-b", "batch-28", otherNode)
	late := s.CreatePod(t, "team-b", "late", apiNode, func(p *v1.Pod) { p.Labels = map[string]string{"app": "late"} })
	waitPod(t, c.Cache, "team-b", "late", func(_ *podmeta.Pod, ok bool) bool { return ok })
	p, _ = c.Pod("team-b", "late")
	want = fmt.Sprintf("namespace=team-b pod=late pod_uid=%s container=app container_image=example/app:1 node=%s label.app=late", late.UID, apiNode)
	if got := attrString(p.RecordAttrs(keys, "app", "")); got != want {
		t.Errorf("record attributes of late (no status yet, so no container id):\n got %s\nwant %s", got, want)
	}
	for _, o := range []*v1.Pod{elsewhere, late2} {
		if q, ok := c.Pod(o.Namespace, o.Name); ok {
			t.Errorf("pod %s/%s of %s is cached: %+v", o.Namespace, o.Name, otherNode, q)
		}
		if q, ok := c.PodByUID(string(o.UID)); ok {
			t.Errorf("pod %s of %s is cached by uid: %+v", o.UID, otherNode, q)
		}
	}
	// onPod reports the count just after the store has the pod.
	c.ev.waitFor(t, "PodsCached 2", func() bool { return c.ev.cached >= 2 })
	c.ev.mu.Lock()
	cached := c.ev.cached
	c.ev.mu.Unlock()
	if cached != 2 || c.store.len() != 2 {
		t.Errorf("PodsCached = %d, store holds %d; want 2, the pods of %s", cached, c.store.len(), apiNode)
	}
	for _, o := range c.pods.GetStore().List() {
		if po, ok := o.(*podObject); !ok || (po.pod.UID != string(web.UID) && po.pod.UID != string(late.UID)) {
			t.Errorf("the informer's store holds %+v", o)
		}
	}

	// What kept them out: the field selector on every list and watch.
	// (client-go lists by a watch that streams the initial pods first.)
	got := reqs.requests()
	for _, r := range got {
		if _, sel, _ := strings.Cut(r, " "); sel != "spec.nodeName="+apiNode {
			t.Errorf("pods request %q: field selector %q, want spec.nodeName=%s", r, sel, apiNode)
		}
	}
	if len(got) == 0 {
		t.Error("no request for pods recorded")
	}
	t.Logf("pod requests of the node's cache: %v", got)
	// As New configures it: sluice's user agent, answers in JSON, which
	// is all that coreapi's types decode from.
	for _, a := range reqs.answers() {
		if !strings.HasPrefix(a, "sluice application/json") {
			t.Errorf("request answered as %q, want user agent sluice and JSON", a)
		}
	}
	// And without it the same API server hands them out: nothing else in
	// the cache would filter them.
	all := startOnConfig(t, s.Config(), Config{})
	all.ev.syncedOnce(t)
	for _, o := range []*v1.Pod{elsewhere, late2} {
		if _, ok := all.PodByUID(string(o.UID)); !ok {
			t.Errorf("a cache with no node selector does not have %s/%s either: the test shows nothing", o.Namespace, o.Name)
		}
	}

	// Deleted: still there, by name and uid, until the grace period ends.
	before, _ := c.Pod("team-b", "late")
	s.DeletePod(t, "team-b", "late")
	waitDeleted(t, c, string(late.UID))
	if q, ok := c.Pod("team-b", "late"); !ok || q != before {
		t.Errorf("deleted pod within its grace period: Pod = %v, %v; want the same *Pod", q, ok)
	}
	c.clock.add(59 * time.Second)
	c.tick <- time.Time{}
	c.tick <- time.Time{} // the first purge is done once the janitor takes a second tick
	if _, ok := c.PodByUID(string(late.UID)); !ok {
		t.Fatal("purged before the grace period ended")
	}
	c.clock.add(time.Second)
	c.tick <- time.Time{}
	waitCache(t, c.Cache, "purge", func() bool { _, ok := c.PodByUID(string(late.UID)); return !ok })
	c.ev.waitFor(t, "PodsCached 1 after the purge", func() bool { return c.ev.cached == 1 })
	if _, ok := c.Pod("team-a", web.Name); !ok {
		t.Error("the purge took a pod that was not deleted")
	}
}

// TestAPIServerForbidden gives the cache a user the API server knows but
// RBAC grants nothing: the list is a 403, Status says so, the ERROR log
// names what to grant (once, however often the reflector retries). Then
// the ClusterRole "sluice" of deploy/rbac.yaml, exactly as written, is
// bound to that user and the same cache syncs: that grant is enough. With
// namespace labels on, pods alone are not: the cache needs the second role
// of the file, "sluice-namespaces", and syncs once it is bound too.
func TestAPIServerForbidden(t *testing.T) {
	s := kubetest.Start(t)
	ctx := t.Context()
	web := s.CreatePod(t, "team-a", "web", apiNode, func(p *v1.Pod) { p.Labels = map[string]string{"app": "web"} })
	if _, err := s.Client().CoreV1().Namespaces().Patch(ctx, "team-a", "application/merge-patch+json",
		[]byte(`{"metadata":{"labels":{"team":"payments"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	const user = "sluice-agent"
	kc := s.Kubeconfig(t, s.AddUser(t, user))

	c := startFromKubeconfig(t, kc, Config{Node: apiNode})
	c.ev.waitFor(t, "two forbidden lists", func() bool { return c.ev.watchErrs[ReasonForbidden] >= 2 })
	synced, err, _ := c.Status()
	if synced || !apierrors.IsForbidden(err) {
		t.Fatalf("Status = %v, %v; want not synced and a 403", synced, err)
	}
	if _, ok := c.Pod("team-a", "web"); ok {
		t.Error("a pod is cached though the list was refused")
	}
	wantLog := `level=ERROR msg="kubernetes: the service account may not list pods on node n1: grant get, list and watch on pods (ClusterRole) — ` +
		`pods is forbidden: User \"` + user + `\" cannot list resource \"pods\" in API group \"\" at the cluster scope"`
	log := c.log.String()
	if !strings.Contains(log, wantLog) {
		t.Fatalf("log:\n%s\nwant a line with:\n%s", log, wantLog)
	}
	if n := strings.Count(log, "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines after %d refusals, want 1 (once per message):\n%s", n, c.ev.watchErrs[ReasonForbidden], log)
	}
	c.ev.mu.Lock()
	t.Logf("refused: watch errors %v; Status error: %v", c.ev.watchErrs, err)
	c.ev.mu.Unlock()

	roles := rbacRoles(t)
	began := time.Now()
	bind(t, s, roles["sluice"], user)
	waitSynced(t, c, "the pod cache after binding ClusterRole sluice")
	t.Logf("synced %v after ClusterRole sluice of %s was bound", time.Since(began).Round(time.Millisecond), rbacYAML)
	if synced, err, _ := c.Status(); !synced || err != nil {
		t.Errorf("Status after the grant = %v, %v; want synced, no error", synced, err)
	}
	if p, ok := c.PodByUID(string(web.UID)); !ok || p.Name != "web" {
		t.Errorf("pod team-a/web after the grant: %v, %v", p, ok)
	}
	if !strings.Contains(c.log.String(), `level=INFO msg="kubernetes: the API server answers again: can list pods on node n1"`) {
		t.Errorf("no recovery logged:\n%s", c.log)
	}

	// Namespace labels need the second role.
	nc := startFromKubeconfig(t, kc, Config{Node: apiNode, NamespaceLabels: true})
	nc.ev.waitFor(t, "a forbidden namespace list", func() bool { return nc.ev.watchErrs[ReasonForbidden] >= 1 })
	if synced, err, _ := nc.Status(); synced || !apierrors.IsForbidden(err) {
		t.Fatalf("with namespace labels and pods granted: Status = %v, %v; want not synced and a 403", synced, err)
	}
	select {
	case <-nc.FirstSync():
		t.Fatal("not synced, but FirstSync is closed")
	default:
	}
	wantLog = `level=ERROR msg="kubernetes: the service account may not list namespaces: grant get, list and watch on namespaces (ClusterRole), or turn namespace labels off — ` +
		`namespaces is forbidden: User \"` + user + `\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"`
	if log := nc.log.String(); !strings.Contains(log, wantLog) {
		t.Fatalf("log:\n%s\nwant a line with:\n%s", log, wantLog)
	}
	bind(t, s, roles["sluice-namespaces"], user)
	waitSynced(t, nc, "the namespace-labelled cache after binding ClusterRole sluice-namespaces")
	p, _ := nc.Pod("team-a", "web")
	if got, want := attrString(p.Attrs), "node=n1 label.app=web namespace_label.kubernetes.io/metadata.name=team-a namespace_label.team=payments"; got != want {
		t.Errorf("attrs with namespace labels:\n got %s\nwant %s", got, want)
	}
}

// waitSynced waits, past the reflector's backoff, for c's first sync.
func waitSynced(t *testing.T, c *started, what string) {
	t.Helper()
	deadline := time.After(apiPatience)
	for {
		c.ev.mu.Lock()
		ok, ch := c.ev.synced == 1, c.ev.changed
		c.ev.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			_, err, _ := c.Status()
			t.Fatalf("%s did not sync within %v; Status error: %v; log:\n%s", what, apiPatience, err, c.log)
		}
	}
}

// rbacRoles reads the ClusterRoles of deploy/rbac.yaml, by name.
func rbacRoles(t *testing.T) map[string]*rbacv1.ClusterRole {
	t.Helper()
	b, err := os.ReadFile(rbacYAML)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]*rbacv1.ClusterRole{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", rbacYAML, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: decode %q: %v", rbacYAML, doc, err)
		}
		if role, ok := obj.(*rbacv1.ClusterRole); ok {
			roles[role.Name] = role
		}
	}
	for _, name := range []string{"sluice", "sluice-namespaces"} {
		if roles[name] == nil {
			t.Fatalf("%s has no ClusterRole %s", rbacYAML, name)
		}
	}
	return roles
}

// bind creates role as it is written and binds it to user. The
// authorizer may take a moment to see the binding; the cache retries.
func bind(t *testing.T, s *kubetest.Server, role *rbacv1.ClusterRole, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), apiPatience)
	defer cancel()
	rbac := s.Client().RbacV1()
	if _, err := rbac.ClusterRoles().Create(ctx, role.DeepCopy(), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRole %s: %v", role.Name, err)
	}
	_, err := rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name + "-" + user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("bind ClusterRole %s to %s: %v", role.Name, user, err)
	}
}

// TestAPIServerRestart stops the API server under a synced cache and
// starts it again: meanwhile lookups answer from what was cached, each
// failed list or watch is counted as unreachable and Status reports it;
// afterwards Status clears and a pod made then is cached (catch-up).
func TestAPIServerRestart(t *testing.T) {
	s := kubetest.Start(t)
	before := s.CreatePod(t, "team-a", "steady", apiNode)
	c := startFromKubeconfig(t, s.Kubeconfig(t, nil), Config{Node: apiNode})
	c.ev.syncedOnce(t)

	began := time.Now()
	s.StopAPIServer(t)
	t.Logf("StopAPIServer took %v", time.Since(began).Round(time.Millisecond))
	// The reflector retries within 1.6 s of the watch ending: the deadline
	// only bounds the wait.
	noticed := waitRecorder(c.ev, patience, func() bool { return c.ev.watchErrs[ReasonUnreachable] >= 1 })
	synced, err, _ := c.Status()
	c.ev.mu.Lock()
	errs := maps.Clone(c.ev.watchErrs)
	c.ev.mu.Unlock()
	t.Logf("%v after the stop: watch errors %v; Status: synced %v, error %v", time.Since(began).Round(time.Millisecond), errs, synced, err)
	if !noticed {
		t.Errorf("no unreachable list or watch reported within %v of the stop (watch errors %v); the cache's log:\n%s", patience, errs, c.log)
	}
	if !synced || err == nil || classify(err) != ReasonUnreachable {
		t.Errorf("Status while the API server is down = %v, %v; want synced and an unreachable error", synced, err)
	}
	if p, ok := c.PodByUID(string(before.UID)); !ok || p.Name != "steady" {
		t.Errorf("a cached pod while the API server is down: %v, %v; want it still found", p, ok)
	}

	began = time.Now()
	s.StartAPIServer(t)
	t.Logf("StartAPIServer took %v", time.Since(began).Round(time.Millisecond))
	after := s.CreatePod(t, "team-a", "after", apiNode)
	deadline := time.After(apiPatience)
	for {
		ch := c.Changed()
		if p, ok := c.Pod("team-a", "after"); ok && p.UID == string(after.UID) {
			break
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("pod made after the restart not cached within %v; log:\n%s", apiPatience, c.log)
		}
	}
	t.Logf("pod made after the restart cached %v after the API server was started", time.Since(began).Round(time.Millisecond))
	if _, err, _ := c.Status(); err != nil {
		t.Errorf("Status after the catch-up: %v, want no error", err)
	}
	log := c.log.String()
	if noticed {
		for _, want := range []string{
			`level=WARN msg="kubernetes: cannot reach the API server to list pods on node n1; retrying, records get what is cached meanwhile`,
			`level=INFO msg="kubernetes: the API server answers again: can list pods on node n1"`,
		} {
			if !strings.Contains(log, want) {
				t.Errorf("log:\n%s\nwant a line with:\n%s", log, want)
			}
		}
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("an unreachable API server was logged at ERROR:\n%s", log)
	}
}

// waitRecorder waits until cond, checked under the recorder's lock, holds,
// and reports whether it did within timeout.
func waitRecorder(r *recorder, timeout time.Duration, cond func() bool) bool {
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ok, ch := cond(), r.changed
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sluicelog/sluice/internal/kubetest"
)

// The tests in this file run the sluice binary against a real
// kube-apiserver and etcd (package kubetest): they skip without those
// binaries outside CI and fail without them under CI=true.

const (
	kubeNode  = "n1" // the node sluice runs on
	otherNode = "n2"
	kubeWait  = 45 * time.Second // bounds waits that may include the reflector's backoff

	kubeSynced       = "sluice_kubernetes_synced"
	kubePodsCached   = "sluice_kubernetes_pods_cached"
	kubeLinesRead    = "sluice_input_lines_total"
	degradedNote     = "kubernetes (degraded): "
	failingNote      = degradedNote + "API server failing since"
	forbiddenLogText = "kubernetes: the service account may not list pods on node " + kubeNode
)

func missSeries(reason string) string { return `sluice_enrich_misses_total{reason="` + reason + `"}` }

func watchErrSeries(reason string) string {
	return `sluice_kubernetes_watch_errors_total{reason="` + reason + `"}`
}

// watchErrors sums sluice_kubernetes_watch_errors_total over its reasons.
func watchErrors(m map[string]float64) float64 {
	n := 0.0
	for _, r := range []string{"forbidden", "unauthorized", "unreachable", "other"} {
		n += m[watchErrSeries(r)]
	}
	return n
}

// configureKube turns on pod metadata from the API server named by
// kubeconfig, for node n1, and adds the containers layout
// (containers/<pod>_<ns>_<container>-<id>.log) to the files read.
func (e *env) configureKube(kubeconfig string, wait, grace time.Duration) {
	e.t.Helper()
	b, err := os.ReadFile(e.cfgPath)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := string(b)
	include := fmt.Sprintf("    include: [%q]\n", filepath.Join(e.pods, "*", "*", "*.log"))
	if !strings.Contains(cfg, include) {
		e.t.Fatalf("configuration has no %q to extend:\n%s", include, cfg)
	}
	cfg = strings.Replace(cfg, include, fmt.Sprintf("    include: [%q, %q]\n",
		filepath.Join(e.pods, "*", "*", "*.log"), filepath.Join(e.containersDir(), "*.log")), 1)
	cfg += fmt.Sprintf("kubernetes:\n  enabled: \"true\"\n  kubeconfig: %q\n  node_name: %s\n  wait_for_pod: %s\n  delete_grace: %s\n",
		kubeconfig, kubeNode, wait, grace)
	if err := os.WriteFile(e.cfgPath, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.MkdirAll(e.containersDir(), 0o755); err != nil {
		e.t.Fatal(err)
	}
}

// containersDir is kubelet's containers folder, beside pods.
func (e *env) containersDir() string { return filepath.Join(e.root, "containers") }

// podLog returns the 0.log of a pod's container in the pods layout, under
// the pod's real uid, which is what kubelet names the folder after.
func (e *env) podLog(p *corev1.Pod, container string) string {
	e.t.Helper()
	return filepath.Join(e.kubeContainer(p.Namespace, p.Name, string(p.UID), container).dir, "0.log")
}

// containersLog returns a log path in the containers layout; the name
// carries the container id, and no pod uid.
func (e *env) containersLog(ns, pod, container, id string) string {
	return filepath.Join(e.containersDir(), pod+"_"+ns+"_"+container+"-"+id+".log")
}

// containerID is a runtime-style container id (64 hex digits) made from seed.
func containerID(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(h[:])
}

// kubeRecord is what a test here looks at in an output record.
type kubeRecord struct {
	Message string
	Path    string
	Attrs   string // "k=v k=v", in the order written
}

// decodeKubeRecord decodes one stdout sink line, keeping the attributes'
// order (and any duplicate key, which a map would hide).
func decodeKubeRecord(line []byte) (kubeRecord, error) {
	var raw struct {
		Message string          `json:"message"`
		Path    string          `json:"path"`
		Attrs   json.RawMessage `json:"attrs"`
	}
	if err := json.Unmarshal(line, &raw); err != nil {
		return kubeRecord{}, err
	}
	r := kubeRecord{Message: raw.Message, Path: raw.Path}
	if len(raw.Attrs) == 0 {
		return r, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Attrs))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return kubeRecord{}, fmt.Errorf("attrs: %s is not an object", raw.Attrs)
	}
	var parts []string
	for dec.More() {
		k, err1 := dec.Token()
		v, err2 := dec.Token()
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if err := errors.Join(err1, err2); err != nil || !ok1 || !ok2 {
			return kubeRecord{}, fmt.Errorf("attrs %s: not an object of strings (%v)", raw.Attrs, err)
		}
		parts = append(parts, ks+"="+vs)
	}
	r.Attrs = strings.Join(parts, " ")
	return r, nil
}

// kubeOutput reads the stdout sink's file as it grows and keeps, per
// writer tag, every arrival and the attributes of each line.
type kubeOutput struct {
	path    string
	off     int64
	pending []byte
	seqs    map[string]*pathSeqs
	attrs   map[string]map[int][]string // tag → seq → attributes of each arrival
	paths   map[string]string           // tag → the path its records came from
	records int
}

func newKubeOutput(path string) *kubeOutput {
	return &kubeOutput{path: path, seqs: map[string]*pathSeqs{}, attrs: map[string]map[int][]string{}, paths: map[string]string{}}
}

// poll decodes what was appended since the last call.
func (o *kubeOutput) poll(t *testing.T) {
	t.Helper()
	f, err := os.Open(o.path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(o.off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	o.off += int64(len(b))
	data := append(o.pending, b...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		o.add(t, data[:i])
		data = data[i+1:]
	}
	o.pending = append([]byte(nil), data...)
}

func (o *kubeOutput) add(t *testing.T, line []byte) {
	t.Helper()
	r, err := decodeKubeRecord(line)
	if err != nil {
		t.Fatalf("output line %q: %v", clip(line, 300), err)
	}
	tag, seq, ok := parseMessage(r.Message)
	if !ok {
		t.Errorf("output record %q is not a writer line", r.Message)
		return
	}
	o.records++
	ps := o.seqs[tag]
	if ps == nil {
		ps = &pathSeqs{pod: tag}
		o.seqs[tag], o.attrs[tag] = ps, map[int][]string{}
	}
	for seq >= len(ps.seen) {
		ps.seen = append(ps.seen, make([]bool, max(1024, len(ps.seen)))...)
	}
	if !ps.seen[seq] {
		ps.seen[seq] = true
		ps.distinct++
	}
	ps.order = append(ps.order, int32(seq))
	o.attrs[tag][seq] = append(o.attrs[tag][seq], r.Attrs)
	if prev, ok := o.paths[tag]; ok && prev != r.Path {
		t.Errorf("%s lines came from %s and from %s", tag, prev, r.Path)
	}
	o.paths[tag] = r.Path
}

func (o *kubeOutput) distinct(tag string) int {
	if ps := o.seqs[tag]; ps != nil {
		return ps.distinct
	}
	return 0
}

// wait waits until n distinct lines tagged tag have arrived.
func (o *kubeOutput) wait(t *testing.T, s *sluice, tag string, n int) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d %s lines", n, tag), func() (bool, error) {
		o.poll(t)
		return o.distinct(tag) >= n, nil
	}, func() string { return fmt.Sprintf("%d arrived; sluice log:\n%s", o.distinct(tag), s.logTail(30)) })
}

// expectAttrs checks the attributes of lines from..to-1 of tag.
func (o *kubeOutput) expectAttrs(t *testing.T, tag string, from, to int, want string) {
	t.Helper()
	bad := 0
	for seq := from; seq < to; seq++ {
		for _, got := range o.attrs[tag][seq] {
			if got != want {
				if bad < 3 {
					t.Errorf("%s line %d attributes:\n got %s\nwant %s", tag, seq, got, want)
				}
				bad++
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s lines %d..%d: %d records with other attributes in all", tag, from, to-1, bad)
	}
}

// exactlyOnce checks that every tag's lines arrived once each, in order.
func (o *kubeOutput) exactlyOnce(t *testing.T, written map[string]int) {
	t.Helper()
	o.poll(t)
	total := 0
	for tag, n := range written {
		total += n
		ps := o.seqs[tag]
		if ps == nil {
			ps = &pathSeqs{pod: tag}
		}
		if r := ps.report(n); !r.exactlyOnceInOrder() {
			t.Errorf("%s: %v", tag, r)
		}
	}
	if o.records != total {
		t.Errorf("output holds %d records, want the %d lines written", o.records, total)
	}
	t.Logf("%d lines written, %d records out, per file: %v", total, o.records, written)
}

// pathOnlyAttrs are the attributes a pods-layout path gives.
func pathOnlyAttrs(p *corev1.Pod, container string) string {
	return fmt.Sprintf("namespace=%s pod=%s pod_uid=%s container=%s node=%s", p.Namespace, p.Name, p.UID, container, kubeNode)
}

// setRunning writes the status a kubelet would: a pod IP and the app
// container's id.
func setRunning(t *testing.T, cs kubernetes.Interface, p *corev1.Pod, ip, id string) *corev1.Pod {
	t.Helper()
	p = p.DeepCopy()
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP = ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	started := true
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "app", Image: "example/app:1", ImageID: "docker.io/example/app@sha256:" + containerID("image"),
		ContainerID: "containerd://" + id, Ready: true, Started: &started,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
	}}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	got, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status of %s/%s: %v", p.Namespace, p.Name, err)
	}
	return got
}

func labelled(kv ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

// metric scrapes one series, failing the test if /metrics does not answer.
func (s *sluice) metric(series string) float64 {
	s.t.Helper()
	m, err := s.metrics()
	if err != nil {
		s.t.Fatal(err)
	}
	return m[series]
}

// readyWatch polls /readyz in the background, keeping every answer that
// was not a 200 and whether the degraded note for kubernetes showed.
type readyWatch struct {
	stopCh chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	checks   int
	failures []string
	degraded int    // answers with a kubernetes note that the API server is failing
	lastNote string // the last such note
}

func watchReady(s *sluice, every time.Duration) *readyWatch {
	w := &readyWatch{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-w.stopCh:
				return
			case <-tick.C:
			}
			code, body, err := s.get("/readyz")
			w.mu.Lock()
			w.checks++
			switch {
			case err != nil:
				w.failures = append(w.failures, fmt.Sprintf("%s: %v", time.Now().Format(time.StampMilli), err))
			case code != http.StatusOK:
				w.failures = append(w.failures, fmt.Sprintf("%s: status %d: %s", time.Now().Format(time.StampMilli), code, body))
			}
			if i := bytes.Index(body, []byte(failingNote)); i >= 0 {
				w.degraded++
				line, _, _ := bytes.Cut(body[i:], []byte("\n"))
				w.lastNote = string(line)
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// state returns how many answers said the API server is failing, and the
// last such note.
func (w *readyWatch) state() (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.degraded, w.lastNote
}

func (w *readyWatch) stop() (checks int, failures []string) {
	close(w.stopCh)
	<-w.done
	return w.checks, w.failures
}

// TestKubeEnrich runs sluice against a real API server and checks what
// the records carry: a pod made before sluice started (owned by a
// ReplicaSet, so its workload is the Deployment) and one made after are
// enriched in full; the file of a pod made 2 s after the file appeared is
// held, not shipped bare, then enriched, and no miss is counted; a pod
// deleted while its file is read keeps its metadata for the grace period;
// pods of another node are never counted in the cache. Every line arrives
// exactly once, in order.
func TestKubeEnrich(t *testing.T) {
	requireSluice(t)
	api := kubetest.Start(t)
	const (
		rs   = "web-7d9f8c6b5"
		hash = "7d9f8c6b5"
	)
	webID := containerID("web-app")
	web := api.CreatePod(t, "team-a", rs+"-x2x7q", kubeNode, labelled("app", "web", "pod-template-hash", hash), func(p *corev1.Pod) {
		controller := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs,
			UID: "6f1a2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b", Controller: &controller}}
	})
	web = setRunning(t, api.Client(), web, "10.244.1.7", webID)
	api.CreatePod(t, "team-a", "db-0", otherNode, labelled("app", "db"))

	e := newEnv(t, envOptions{})
	e.configureKube(api.Kubeconfig(t, nil), 10*time.Second, time.Minute)
	webLog := e.podLog(web, "app")
	appendLines(t, webLog, "web", 0, 20, 0)

	s := e.start(false)
	s.waitReady(30 * time.Second)
	out := newKubeOutput(e.outPath)
	out.wait(t, s, "web", 20)
	s.waitMetric(kubeSynced, 1, kubeWait)
	webAttrs := fmt.Sprintf("namespace=team-a pod=%s pod_uid=%s container=app container_id=%s container_image=example/app:1 "+
		"node=%s pod_ip=10.244.1.7 owner_kind=ReplicaSet owner_name=%s workload_kind=Deployment workload_name=web "+
		"label.app=web label.pod-template-hash=%s", web.Name, web.UID, webID, kubeNode, rs, hash)
	out.expectAttrs(t, "web", 0, 20, webAttrs)

	// A pod made after sluice started; its status names no container yet,
	// so there is no container id, but the image comes from the spec.
	api.CreatePod(t, "team-b", "elsewhere", otherNode, labelled("app", "elsewhere"))
	late := api.CreatePod(t, "team-a", "late-0", kubeNode, labelled("app", "late"))
	appendLines(t, e.podLog(late, "app"), "late", 0, 20, 0)
	out.wait(t, s, "late", 20)
	out.expectAttrs(t, "late", 0, 20, fmt.Sprintf("namespace=team-a pod=late-0 pod_uid=%s container=app container_image=example/app:1 node=%s label.app=late", late.UID, kubeNode))

	// The wait path: the file comes first, the pod 2 s later.
	slowID := containerID("slow-app")
	slowLog := e.containersLog("team-a", "slow-0", "app", slowID)
	read := s.metric(kubeLinesRead)
	appendLines(t, slowLog, "slow", 0, 10, 0)
	fileAt := time.Now()
	s.waitMetric(kubeLinesRead, read+10, 30*time.Second) // read by the tailer, so held if not out
	time.Sleep(time.Until(fileAt.Add(2 * time.Second)))
	out.poll(t)
	if n := out.distinct("slow"); n > 0 {
		t.Errorf("%d lines of slow-0 went out before its pod existed: %v", n, out.attrs["slow"])
	}
	slow := api.CreatePod(t, "team-a", "slow-0", kubeNode, labelled("app", "slow"))
	podAt := time.Now()
	appendLines(t, slowLog, "slow", 10, 10, 0)
	out.wait(t, s, "slow", 20)
	t.Logf("slow-0: pod made %v after its file; its 20 lines were out %v after the pod",
		podAt.Sub(fileAt).Round(time.Millisecond), time.Since(podAt).Round(time.Millisecond))
	out.expectAttrs(t, "slow", 0, 20, fmt.Sprintf("namespace=team-a pod=slow-0 pod_uid=%s container=app container_id=%s container_image=example/app:1 node=%s label.app=slow",
		slow.UID, slowID, kubeNode))

	// Deleted while its file is read: the pod's metadata stays for the
	// grace period. The marker pod, made after the delete, comes through
	// the same watch after it, so once it is counted the delete has been
	// handled.
	appendLines(t, webLog, "web", 20, 10, 0)
	out.wait(t, s, "web", 30)
	api.DeletePod(t, "team-a", web.Name)
	api.CreatePod(t, "team-a", "marker-0", kubeNode)
	s.waitMetric(kubePodsCached, 4, kubeWait) // web (deleted, in its grace period), late-0, slow-0, marker-0
	appendLines(t, webLog, "web", 30, 10, 0)
	out.wait(t, s, "web", 40)
	out.expectAttrs(t, "web", 20, 40, webAttrs)

	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	if got := m[kubePodsCached]; got != 4 {
		t.Errorf("%s = %g, want 4: the pods of %s, the deleted one included, and none of %s", kubePodsCached, got, kubeNode, otherNode)
	}
	for _, reason := range []string{"pod_not_found", "hold_full", "path_unparsed"} {
		if got := m[missSeries(reason)]; got != 0 {
			t.Errorf("%s = %g, want 0", missSeries(reason), got)
		}
	}
	if got := watchErrors(m); got != 0 {
		t.Errorf("watch errors = %g with the API server up all along", got)
	}
	if code := s.stop(20 * time.Second); code != 0 {
		t.Fatalf("sluice exited %d; log:\n%s", code, s.logTail(30))
	}
	out.exactlyOnce(t, map[string]int{"web": 40, "late": 20, "slow": 20})
}

// TestKubeAPIServerRestart stops the API server under a running sluice and
// starts it again. Meanwhile sluice ships on: lines of a cached pod come
// out in full, lines of a file whose pod is unknown come out with what
// their path says after the wait; /readyz stays 200 with a degraded note
// for kubernetes, and the watch errors are counted. After the restart a
// pod made then is enriched again, and so are the later lines of the file
// that went out bare, once its pod exists. Every line arrives exactly once.
func TestKubeAPIServerRestart(t *testing.T) {
	requireSluice(t)
	api := kubetest.Start(t)
	steady := api.CreatePod(t, "team-a", "steady-0", kubeNode, labelled("app", "steady"))
	e := newEnv(t, envOptions{})
	e.configureKube(api.Kubeconfig(t, nil), 2*time.Second, time.Minute)
	steadyLog := e.podLog(steady, "app")
	appendLines(t, steadyLog, "steady", 0, 20, 0)
	steadyAttrs := fmt.Sprintf("namespace=team-a pod=steady-0 pod_uid=%s container=app container_image=example/app:1 node=%s label.app=steady", steady.UID, kubeNode)

	s := e.start(false)
	s.waitReady(30 * time.Second)
	out := newKubeOutput(e.outPath)
	out.wait(t, s, "steady", 20)
	s.waitMetric(kubeSynced, 1, kubeWait)
	ready := watchReady(s, 100*time.Millisecond)

	began := time.Now()
	api.StopAPIServer(t)
	t.Logf("API server stopped in %v", time.Since(began).Round(time.Millisecond))

	// Lines written during the outage: a cached pod's are enriched in full;
	// a new file whose pod is unknown goes out with its path's fields.
	appendLines(t, steadyLog, "steady", 20, 20, 0)
	ghostID := containerID("ghost-app")
	ghostLog := e.containersLog("team-a", "ghost-0", "app", ghostID)
	appendLines(t, ghostLog, "ghost", 0, 10, 0)
	out.wait(t, s, "steady", 40)
	out.wait(t, s, "ghost", 10)
	out.expectAttrs(t, "steady", 20, 40, steadyAttrs)
	out.expectAttrs(t, "ghost", 0, 10, fmt.Sprintf("namespace=team-a pod=ghost-0 container=app container_id=%s node=%s", ghostID, kubeNode))

	// What sluice says about the outage. The reflector's first retry comes
	// within 1.6 s of the watch ending and the note is refreshed every
	// second, so these deadlines only bound the wait.
	var errsDown float64
	noticed := pollUntil(10*time.Second, func() bool {
		errsDown = watchErrors(mustMetrics(t, s))
		n, _ := ready.state()
		return errsDown > 0 && n > 0
	})
	notes, note := ready.state()
	m := mustMetrics(t, s)
	t.Logf("%v into the outage: watch errors %g (unreachable %g, other %g), /readyz answers saying the API server fails: %d, last %q",
		time.Since(began).Round(time.Millisecond), errsDown, m[watchErrSeries("unreachable")], m[watchErrSeries("other")], notes, note)
	if !noticed {
		if errsDown == 0 {
			t.Errorf("sluice_kubernetes_watch_errors_total did not grow while the API server was down (%v)", time.Since(began).Round(time.Millisecond))
		}
		if notes == 0 {
			t.Errorf("/readyz showed no %q note while the API server was down", failingNote)
		}
	}

	began = time.Now()
	api.StartAPIServer(t)
	t.Logf("API server started again in %v", time.Since(began).Round(time.Millisecond))

	// Catch-up: a pod made now reaches the cache (after the reflector's
	// backoff), and its file is enriched in full.
	fresh := api.CreatePod(t, "team-a", "fresh-0", kubeNode, labelled("app", "fresh"))
	s.waitMetric(kubePodsCached, 2, kubeWait)
	t.Logf("pod made after the restart cached %v after the API server was started", time.Since(began).Round(time.Millisecond))
	appendLines(t, e.podLog(fresh, "app"), "fresh", 0, 10, 0)
	out.wait(t, s, "fresh", 10)
	out.expectAttrs(t, "fresh", 0, 10, fmt.Sprintf("namespace=team-a pod=fresh-0 pod_uid=%s container=app container_image=example/app:1 node=%s label.app=fresh", fresh.UID, kubeNode))

	// The file that went out bare gets its pod's metadata once the pod
	// exists and is cached.
	ghost := api.CreatePod(t, "team-a", "ghost-0", kubeNode, labelled("app", "ghost"))
	s.waitMetric(kubePodsCached, 3, kubeWait)
	appendLines(t, ghostLog, "ghost", 10, 10, 0)
	appendLines(t, steadyLog, "steady", 40, 10, 0)
	out.wait(t, s, "ghost", 20)
	out.wait(t, s, "steady", 50)
	out.expectAttrs(t, "ghost", 10, 20, fmt.Sprintf("namespace=team-a pod=ghost-0 pod_uid=%s container=app container_id=%s container_image=example/app:1 node=%s label.app=ghost",
		ghost.UID, ghostID, kubeNode))
	out.expectAttrs(t, "steady", 40, 50, steadyAttrs)

	if noticed {
		cleared := pollUntil(5*time.Second, func() bool {
			_, body, err := s.get("/readyz")
			return err == nil && !bytes.Contains(body, []byte(degradedNote))
		})
		if !cleared {
			t.Errorf("/readyz still shows the kubernetes note after the cache caught up")
		}
	}
	checks, failures := ready.stop()
	if len(failures) > 0 {
		t.Errorf("/readyz failed %d of %d checks across the outage; first: %v", len(failures), checks, failures[:min(3, len(failures))])
	}
	m = mustMetrics(t, s)
	if got := m[missSeries("pod_not_found")]; got != 1 {
		t.Errorf("%s = %g, want 1 (ghost-0's file, once)", missSeries("pod_not_found"), got)
	}
	if got := watchErrors(m); got < errsDown {
		t.Errorf("watch errors went down from %g to %g", errsDown, got)
	}
	t.Logf("/readyz: %d checks, %d failed; watch errors at the end %g", checks, len(failures), watchErrors(m))
	if code := s.stop(20 * time.Second); code != 0 {
		t.Fatalf("sluice exited %d; log:\n%s", code, s.logTail(30))
	}
	out.exactlyOnce(t, map[string]int{"steady": 50, "ghost": 20, "fresh": 10})
}

// TestKubeForbidden gives sluice a kubeconfig whose user RBAC grants
// nothing: sluice logs the 403 at ERROR (once), saying what to grant,
// counts it as forbidden, keeps /readyz at 200 with a degraded note, and
// ships every line with the fields its path gives.
func TestKubeForbidden(t *testing.T) {
	requireSluice(t)
	api := kubetest.Start(t)
	web := api.CreatePod(t, "team-a", "web-0", kubeNode, labelled("app", "web"))
	const user = "sluice-agent"
	e := newEnv(t, envOptions{})
	e.configureKube(api.Kubeconfig(t, api.AddUser(t, user)), time.Second, time.Minute)
	webLog := e.podLog(web, "app")
	appendLines(t, webLog, "web", 0, 10, 0)

	s := e.start(false)
	s.allowErrors = []string{forbiddenLogText}
	s.waitReady(30 * time.Second)
	out := newKubeOutput(e.outPath)
	out.wait(t, s, "web", 10)
	out.expectAttrs(t, "web", 0, 10, pathOnlyAttrs(web, "app"))
	s.waitMetric(watchErrSeries("forbidden"), 2, kubeWait) // a retry too, to see the message is logged once

	code, body, err := s.get("/readyz")
	if err != nil || code != http.StatusOK || !bytes.Contains(body, []byte(failingNote)) ||
		!bytes.Contains(body, []byte("forbidden")) {
		t.Errorf("/readyz = %d, %v:\n%s\nwant 200 with a kubernetes note about the 403", code, err, body)
	}
	log, err := os.ReadFile(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	want := `level=ERROR msg="` + forbiddenLogText + `: grant get, list and watch on pods (ClusterRole) — pods is forbidden: User \"` + user +
		`\" cannot list resource \"pods\" in API group \"\" at the cluster scope"`
	if !bytes.Contains(log, []byte(want)) {
		t.Errorf("sluice log:\n%s\nwant a line with:\n%s", log, want)
	}
	if n := bytes.Count(log, []byte("level=ERROR")); n != 1 {
		t.Errorf("%d ERROR lines, want 1 (the 403, once):\n%s", n, log)
	}

	// Not held again: later lines go out at once, with the path's fields.
	appendLines(t, webLog, "web", 10, 10, 0)
	out.wait(t, s, "web", 20)
	out.expectAttrs(t, "web", 10, 20, pathOnlyAttrs(web, "app"))
	m := mustMetrics(t, s)
	if got := m[missSeries("pod_not_found")]; got != 1 {
		t.Errorf("%s = %g, want 1", missSeries("pod_not_found"), got)
	}
	if m[kubeSynced] != 0 || m[kubePodsCached] != 0 {
		t.Errorf("synced %g, pods cached %g; want 0 and 0 with every list refused", m[kubeSynced], m[kubePodsCached])
	}
	t.Logf("forbidden errors %g, misses %g", m[watchErrSeries("forbidden")], m[missSeries("pod_not_found")])
	if code := s.stop(20 * time.Second); code != 0 {
		t.Fatalf("sluice exited %d; log:\n%s", code, s.logTail(30))
	}
	out.exactlyOnce(t, map[string]int{"web": 20})
}

func mustMetrics(t *testing.T, s *sluice) map[string]float64 {
	t.Helper()
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pollUntil checks cond every 50 ms until it holds or timeout passes, and
// reports whether it held; the caller decides what a timeout means.
func pollUntil(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

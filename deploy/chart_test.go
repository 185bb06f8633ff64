package deploy

import (
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/sluicelog/sluice/config"
)

// chartCase is one set of values the chart is rendered with, and what the
// rendered objects must then hold.
type chartCase struct {
	name           string
	values         []string // files under testdata
	oses           []string // the DaemonSets, by kubernetes.io/os
	loki, es       bool     // the outputs configured
	namespaces     bool     // kubernetes.namespace_labels, so RBAC on namespaces
	serviceMonitor bool
}

var chartCases = []chartCase{
	{name: "default", oses: []string{"windows", "linux"}, loki: true},
	{name: "windows-only", values: []string{"testdata/windows-only.yaml"}, oses: []string{"windows"}, loki: true},
	{name: "linux-only", values: []string{"testdata/linux-only.yaml"}, oses: []string{"linux"}, loki: true},
	{name: "elasticsearch", values: []string{"testdata/elasticsearch.yaml"}, oses: []string{"windows", "linux"}, es: true, namespaces: true},
	{name: "both-sinks", values: []string{"testdata/both-sinks.yaml"}, oses: []string{"windows", "linux"}, loki: true, es: true, serviceMonitor: true},
}

// chart is one rendering's objects, by role.
type chart struct {
	docs       []doc
	daemonSets map[string]*appsv1.DaemonSet // by kubernetes.io/os
	configMap  *corev1.ConfigMap
	account    *corev1.ServiceAccount
	role       *rbacv1.ClusterRole
	binding    *rbacv1.ClusterRoleBinding
	service    *corev1.Service
	monitor    *serviceMonitor
}

// renderChart renders the chart with the case's values and sorts the
// objects by role; an object of another kind, or a second one of a kind,
// fails the test.
func renderChart(t *testing.T, c chartCase) chart {
	t.Helper()
	out := chart{docs: decodeDocs(t, c.name, render(t, c.values)), daemonSets: map[string]*appsv1.DaemonSet{}}
	for _, d := range out.docs {
		switch o := d.obj.(type) {
		case *appsv1.DaemonSet:
			os := o.Spec.Template.Spec.NodeSelector["kubernetes.io/os"]
			if out.daemonSets[os] != nil {
				t.Fatalf("%s: a second DaemonSet for %s", c.name, os)
			}
			out.daemonSets[os] = o
		case *corev1.ConfigMap:
			setOnce(t, &out.configMap, o)
		case *corev1.ServiceAccount:
			setOnce(t, &out.account, o)
		case *rbacv1.ClusterRole:
			setOnce(t, &out.role, o)
		case *rbacv1.ClusterRoleBinding:
			setOnce(t, &out.binding, o)
		case *corev1.Service:
			setOnce(t, &out.service, o)
		case *serviceMonitor:
			setOnce(t, &out.monitor, o)
		default:
			t.Fatalf("%s: unexpected object %T", c.name, d.obj)
		}
		if ns := d.obj.(interface{ GetNamespace() string }).GetNamespace(); ns != "" && ns != namespace {
			t.Errorf("%s: %T in namespace %q, want %q", c.name, d.obj, ns, namespace)
		}
	}
	return out
}

// setOnce sets *dst to o, failing the test when it was set already: the
// chart renders one object of each of these kinds.
func setOnce[T any](t *testing.T, dst **T, o *T) {
	t.Helper()
	if *dst != nil {
		t.Fatalf("a second %T", o)
	}
	*dst = o
}

// TestChart renders the chart with each case's values through the helm CLI,
// decodes every object strictly into its API type and holds the objects to
// the policies a node agent on Windows and Linux nodes needs.
func TestChart(t *testing.T) {
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			ch := renderChart(t, c)
			if got := slices.Sorted(maps.Keys(ch.daemonSets)); !slices.Equal(got, slices.Sorted(slices.Values(c.oses))) {
				t.Fatalf("DaemonSets for %v, want %v", got, c.oses)
			}
			if ch.configMap == nil || ch.account == nil {
				t.Fatalf("ConfigMap %v, ServiceAccount %v", ch.configMap, ch.account)
			}
			for os, ds := range ch.daemonSets {
				cfg := checkDaemonSet(t, os, ds, ch)
				if (cfg.Outputs.Loki != nil) != c.loki || (cfg.Outputs.Elasticsearch != nil) != c.es {
					t.Errorf("%s: outputs loki %v, elasticsearch %v; want %v, %v", os, cfg.Outputs.Loki != nil, cfg.Outputs.Elasticsearch != nil, c.loki, c.es)
				}
				if cfg.Kubernetes.NamespaceLabels != c.namespaces {
					t.Errorf("%s: namespace_labels %v, want %v", os, cfg.Kubernetes.NamespaceLabels, c.namespaces)
				}
			}
			checkRBAC(t, ch, c.namespaces)
			checkMonitor(t, ch, c.serviceMonitor)
		})
	}
}

// checkRBAC holds the ClusterRole to get, list and watch on pods, and on
// namespaces only when the configuration reads them, bound to the
// DaemonSets' service account.
func checkRBAC(t *testing.T, ch chart, namespaces bool) {
	t.Helper()
	if ch.role == nil || ch.binding == nil {
		t.Fatalf("ClusterRole %v, binding %v", ch.role, ch.binding)
	}
	want := []string{"pods"}
	if namespaces {
		want = append(want, "namespaces")
	}
	if len(ch.role.Rules) != 1 {
		t.Fatalf("ClusterRole rules %+v, want one", ch.role.Rules)
	}
	rule := ch.role.Rules[0]
	if !slices.Equal(rule.APIGroups, []string{""}) || !slices.Equal(rule.Resources, want) ||
		!slices.Equal(rule.Verbs, []string{"get", "list", "watch"}) || len(rule.ResourceNames) != 0 || len(rule.NonResourceURLs) != 0 {
		t.Errorf("ClusterRole rule %+v, want get/list/watch on core %v only", rule, want)
	}
	b := ch.binding
	if b.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ch.role.Name}) ||
		len(b.Subjects) != 1 || b.Subjects[0].Kind != "ServiceAccount" ||
		b.Subjects[0].Name != ch.account.Name || b.Subjects[0].Namespace != ch.account.Namespace {
		t.Errorf("binding %+v does not bind ClusterRole %s to service account %s/%s", b, ch.role.Name, ch.account.Namespace, ch.account.Name)
	}
	for os, ds := range ch.daemonSets {
		if sa := ds.Spec.Template.Spec.ServiceAccountName; sa != ch.account.Name {
			t.Errorf("%s: service account %q, want %q", os, sa, ch.account.Name)
		}
	}
}

// checkMonitor checks that the ServiceMonitor, when there is one, scrapes
// the named metrics port of every DaemonSet's pods through the Service.
func checkMonitor(t *testing.T, ch chart, want bool) {
	t.Helper()
	if (ch.monitor != nil) != want || (ch.service != nil) != want {
		t.Fatalf("ServiceMonitor %v, Service %v; want them: %v", ch.monitor != nil, ch.service != nil, want)
	}
	if !want {
		return
	}
	m := ch.monitor
	if m.Kind != "ServiceMonitor" || len(m.Spec.Endpoints) != 1 || m.Spec.Endpoints[0].Port != "metrics" || m.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor %+v, want one endpoint on port metrics, /metrics", m.Spec)
	}
	if !slices.Equal(m.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
		t.Errorf("ServiceMonitor namespaces %v", m.Spec.NamespaceSelector.MatchNames)
	}
	if !labels.SelectorFromSet(m.Spec.Selector.MatchLabels).Matches(labels.Set(ch.service.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select Service labels %v", m.Spec.Selector.MatchLabels, ch.service.Labels)
	}
	svc := ch.service.Spec
	if len(svc.Ports) != 1 || svc.Ports[0].Name != "metrics" || svc.Ports[0].TargetPort != intstr.FromString("metrics") {
		t.Errorf("Service ports %+v, want metrics to the pods' metrics port", svc.Ports)
	}
	for os, ds := range ch.daemonSets {
		if !labels.SelectorFromSet(svc.Selector).Matches(labels.Set(ds.Spec.Template.Labels)) {
			t.Errorf("Service selector %v does not select the %s pods %v", svc.Selector, os, ds.Spec.Template.Labels)
		}
	}
}

// checkDaemonSet checks one DaemonSet and returns the configuration its
// pods run, as sluice validate loads it.
func checkDaemonSet(t *testing.T, os string, ds *appsv1.DaemonSet, ch chart) config.Config {
	t.Helper()
	spec := ds.Spec.Template.Spec
	if spec.OS == nil || string(spec.OS.Name) != os {
		t.Errorf("%s: spec.os %v", os, spec.OS)
	}
	if !labels.SelectorFromSet(ds.Spec.Selector.MatchLabels).Matches(labels.Set(ds.Spec.Template.Labels)) {
		t.Errorf("%s: selector %v does not select the template's labels", os, ds.Spec.Selector.MatchLabels)
	}
	for other, o := range ch.daemonSets {
		if other != os && labels.SelectorFromSet(ds.Spec.Selector.MatchLabels).Matches(labels.Set(o.Spec.Template.Labels)) {
			t.Errorf("%s: selector also selects the %s pods", os, other)
		}
	}
	u := ds.Spec.UpdateStrategy
	if u.Type != appsv1.RollingUpdateDaemonSetStrategyType || u.RollingUpdate == nil || u.RollingUpdate.MaxUnavailable == nil {
		t.Errorf("%s: update strategy %+v, want RollingUpdate with maxUnavailable", os, u)
	}
	if spec.PriorityClassName != "system-node-critical" {
		t.Errorf("%s: priorityClassName %q", os, spec.PriorityClassName)
	}
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("%s: %d containers, %d init containers; want one container", os, len(spec.Containers), len(spec.InitContainers))
	}
	ctr := spec.Containers[0]
	checkHostProcess(t, os, spec)
	checkMemory(t, os, ctr)
	checkEnv(t, os, ctr)
	cfg := checkConfig(t, os, spec, ch.configMap)
	if g := spec.TerminationGracePeriodSeconds; g == nil || float64(*g) <= cfg.ShutdownTimeout.Seconds() {
		t.Errorf("%s: terminationGracePeriodSeconds %v, want above shutdown_timeout %v", os, g, cfg.ShutdownTimeout)
	}
	checkProbes(t, os, ctr, cfg)
	if os == "windows" {
		checkWindows(t, spec, cfg)
	} else {
		checkLinux(t, spec, cfg)
	}
	return cfg
}

// checkHostProcess allows HostProcess on the Windows DaemonSet only, where
// the pod and its container must have it.
func checkHostProcess(t *testing.T, os string, spec corev1.PodSpec) {
	t.Helper()
	pod := spec.SecurityContext != nil && spec.SecurityContext.WindowsOptions != nil &&
		spec.SecurityContext.WindowsOptions.HostProcess != nil && *spec.SecurityContext.WindowsOptions.HostProcess
	ctr := false
	for _, c := range spec.Containers {
		if sc := c.SecurityContext; sc != nil && sc.WindowsOptions != nil && sc.WindowsOptions.HostProcess != nil {
			ctr = ctr || *sc.WindowsOptions.HostProcess
			if *sc.WindowsOptions.HostProcess != pod {
				t.Errorf("%s: container hostProcess %v differs from the pod's %v", os, *sc.WindowsOptions.HostProcess, pod)
			}
		}
	}
	if os != "windows" {
		if pod || ctr || spec.HostNetwork {
			t.Errorf("%s: hostProcess %v/%v, hostNetwork %v: HostProcess is for the Windows DaemonSet only", os, pod, ctr, spec.HostNetwork)
		}
		return
	}
	if !pod || !spec.HostNetwork {
		t.Errorf("windows: pod hostProcess %v, hostNetwork %v; HostProcess needs both", pod, spec.HostNetwork)
	}
	if w := spec.SecurityContext.WindowsOptions; w == nil || w.RunAsUserName == nil || *w.RunAsUserName != `NT AUTHORITY\SYSTEM` {
		t.Errorf("windows: runAsUserName %+v, want NT AUTHORITY\\SYSTEM", w)
	}
	if spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("windows: dnsPolicy %q, want ClusterFirstWithHostNet (cluster DNS with the host network)", spec.DNSPolicy)
	}
	tolerated := slices.ContainsFunc(spec.Tolerations, func(tl corev1.Toleration) bool {
		return tl.Key == "os" && (tl.Effect == "" || tl.Effect == corev1.TaintEffectNoSchedule) &&
			(tl.Operator == corev1.TolerationOpExists || (tl.Operator == corev1.TolerationOpEqual && tl.Value == "windows"))
	})
	if !tolerated {
		t.Errorf("windows: tolerations %+v do not tolerate os=windows:NoSchedule", spec.Tolerations)
	}
}

// checkMemory wants memory requests and limits, and GOMEMLIMIT below the
// limit: on Windows the job object's limit fails an allocation, which
// crashes a Go program, so the GC must work before it is reached.
func checkMemory(t *testing.T, os string, c corev1.Container) {
	t.Helper()
	req, lim := c.Resources.Requests.Memory(), c.Resources.Limits.Memory()
	if req.IsZero() || lim.IsZero() {
		t.Fatalf("%s: memory request %v, limit %v; want both", os, req, lim)
	}
	if c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("%s: no CPU request", os)
	}
	v, ok := envValue(c, "GOMEMLIMIT")
	if !ok {
		t.Fatalf("%s: no GOMEMLIMIT", os)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n >= lim.Value() {
		t.Errorf("%s: GOMEMLIMIT %q (%v), want bytes below the limit %d", os, v, err, lim.Value())
	}
	if n < lim.Value()/2 {
		t.Errorf("%s: GOMEMLIMIT %d wastes most of the limit %d", os, n, lim.Value())
	}
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, e.ValueFrom == nil
		}
	}
	return "", false
}

// checkEnv wants NODE_NAME from the downward API (the pod cache watches the
// node's pods) and no variable set twice.
func checkEnv(t *testing.T, os string, c corev1.Container) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range c.Env {
		if seen[e.Name] {
			t.Errorf("%s: env %s set twice", os, e.Name)
		}
		seen[e.Name] = true
		if e.Name == "NODE_NAME" && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName") {
			t.Errorf("%s: NODE_NAME %+v, want the downward API's spec.nodeName", os, e)
		}
	}
	if !seen["NODE_NAME"] {
		t.Errorf("%s: no NODE_NAME", os)
	}
}

// checkProbes wants liveness on /healthz and readiness on /readyz, on the
// named metrics port, which is where the configuration listens.
func checkProbes(t *testing.T, os string, c corev1.Container, cfg config.Config) {
	t.Helper()
	var port int32
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			port = p.ContainerPort
		}
	}
	if !strings.HasSuffix(cfg.Metrics.Address, ":"+strconv.Itoa(int(port))) || port == 0 {
		t.Errorf("%s: metrics port %d, config metrics.address %q", os, port, cfg.Metrics.Address)
	}
	if host, _, _ := strings.Cut(cfg.Metrics.Address, ":"); host != "" && host != "0.0.0.0" {
		t.Errorf("%s: metrics.address %q: kubelet's probes and Prometheus need it on the pod's address", os, cfg.Metrics.Address)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != intstr.FromString("metrics") {
			t.Errorf("%s: %s probe %+v, want GET %s on port metrics", os, p.name, p.probe, p.path)
		}
	}
}

// checkWindows: kubelet's Windows logs are read where they are, and
// data_dir is a folder on the host, not a volume, so that sluice creates it
// with its own ACL and it outlives the pod.
func checkWindows(t *testing.T, spec corev1.PodSpec, cfg config.Config) {
	t.Helper()
	if !slices.Contains(cfg.Inputs.Files.Include, `C:\var\log\containers\*.log`) {
		t.Errorf(`windows: include %v, want C:\var\log\containers\*.log`, cfg.Inputs.Files.Include)
	}
	if !regexp.MustCompile(`^[A-Za-z]:\\.`).MatchString(cfg.DataDir) {
		t.Errorf("windows: data_dir %q, want a host folder with a drive letter", cfg.DataDir)
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			t.Errorf("windows: hostPath volume %s (%s): a HostProcess container sees the host, and kubelet would create the folder with inherited ACLs", v.Name, v.HostPath.Path)
		}
	}
}

// checkLinux: the logs are read-only hostPath volumes (both folders: the
// symlinks in containers point into pods), data_dir a writable hostPath
// created if missing, and the container is root for the logs but nothing
// more.
func checkLinux(t *testing.T, spec corev1.PodSpec, cfg config.Config) {
	t.Helper()
	if !slices.Contains(cfg.Inputs.Files.Include, "/var/log/containers/*.log") {
		t.Errorf("linux: include %v, want /var/log/containers/*.log", cfg.Inputs.Files.Include)
	}
	c := spec.Containers[0]
	for _, dir := range []string{"/var/log/containers", "/var/log/pods"} {
		m, v := mountOf(spec, c, dir)
		if m == nil || v.HostPath == nil || v.HostPath.Path != dir || !m.ReadOnly {
			t.Errorf("linux: %s is not a read-only hostPath mount of itself: %+v %+v", dir, m, v)
		}
	}
	m, v := mountOf(spec, c, cfg.DataDir)
	if m == nil || v.HostPath == nil || m.ReadOnly || v.HostPath.Type == nil || *v.HostPath.Type != corev1.HostPathDirectoryOrCreate || v.HostPath.Path != m.MountPath {
		t.Errorf("linux: data_dir %s is not on a writable DirectoryOrCreate hostPath of the same path: %+v %+v", cfg.DataDir, m, v)
	}
	sc := c.SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("linux: securityContext %+v, want unprivileged, no escalation, read-only root, all capabilities dropped, seccomp RuntimeDefault", sc)
	}
}

// mountOf finds the container's mount holding path (the deepest one) and
// its volume.
func mountOf(spec corev1.PodSpec, c corev1.Container, p string) (*corev1.VolumeMount, *corev1.Volume) {
	var best *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if under(hostForm(string(spec.OS.Name), p), hostForm(string(spec.OS.Name), m.MountPath)) &&
			(best == nil || len(m.MountPath) > len(best.MountPath)) {
			best = &c.VolumeMounts[i]
		}
	}
	if best == nil {
		return nil, &corev1.Volume{}
	}
	for i, v := range spec.Volumes {
		if v.Name == best.Name {
			return best, &spec.Volumes[i]
		}
	}
	return best, &corev1.Volume{}
}

// hostForm writes a path as the node sees it, slash-separated: on Windows
// lower case, with kubelet's C: for a path without a drive letter.
func hostForm(os, p string) string {
	if os != "windows" {
		return path.Clean(p)
	}
	p = strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	if strings.HasPrefix(p, "/") {
		p = "c:" + p
	}
	return path.Clean(p)
}

func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// envRef is a ${NAME} reference that config expands (not $${, a literal).
var envRef = regexp.MustCompile(`(^|[^$])\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// checkConfig finds the configuration the container runs (its -config
// argument, in the ConfigMap's mounted key) and checks it as sluice
// validate does: config.Load, strict, then every file it names, tried as
// sluice uses it. The pod's file system is made under a temporary folder
// from its mounts: a secret key the config reads exists there only under
// a Secret or ConfigMap mount, a folder it writes only under a writable
// hostPath (Linux) or on the host itself (Windows HostProcess).
func checkConfig(t *testing.T, os string, spec corev1.PodSpec, cm *corev1.ConfigMap) config.Config {
	t.Helper()
	c := spec.Containers[0]
	if len(c.Args) != 3 || c.Args[0] != "run" || c.Args[1] != "-config" {
		t.Fatalf("%s: args %q, want run -config FILE", os, c.Args)
	}
	m, v := mountOf(spec, c, c.Args[2])
	if m == nil || v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
		t.Fatalf("%s: -config %s is not in ConfigMap %s's mount", os, c.Args[2], cm.Name)
	}
	var text string
	for _, it := range v.ConfigMap.Items {
		if configMapHas(os, &corev1.ConfigMapVolumeSource{Items: []corev1.KeyToPath{it}}, m.MountPath, c.Args[2]) {
			text = cm.Data[it.Key]
		}
	}
	if text == "" {
		t.Fatalf("%s: -config %s names no key of ConfigMap %s (items %+v)", os, c.Args[2], cm.Name, v.ConfigMap.Items)
	}
	for _, ref := range envRef.FindAllStringSubmatch(text, -1) {
		name := ref[2]
		if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name }) {
			t.Errorf("%s: the config uses ${%s}, which the container does not set", os, name)
		}
		t.Setenv(name, "from-the-pod")
	}
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := writeFile(file, text); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("%s: sluice validate: %v\n%s", os, err, text)
	}
	root := t.TempDir()
	for _, r := range cfg.Files() {
		hp := hostForm(os, r.Path)
		m, v := mountOf(spec, c, r.Path)
		local := filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(hp, ":", "")))
		switch {
		case r.Use == config.ReadFile:
			if m == nil || (v.Secret == nil && !configMapHas(os, v.ConfigMap, m.MountPath, r.Path)) {
				t.Errorf("%s: %s %s is in no Secret mount, nor a key of a ConfigMap mount", os, r.Key, r.Path)
				continue
			}
			if err := writeFile(local, "x"); err != nil {
				t.Fatal(err)
			}
		case os == "windows":
			if m != nil {
				t.Errorf("windows: %s %s is in volume %s, not on the host", r.Key, r.Path, m.Name)
				continue
			}
		default:
			if m == nil || v.HostPath == nil || m.ReadOnly {
				t.Errorf("linux: %s %s is in no writable hostPath mount", r.Key, r.Path)
				continue
			}
			mountDir := filepath.Join(root, filepath.FromSlash(hostForm(os, m.MountPath)))
			if err := mkdirAll(mountDir); err != nil {
				t.Fatal(err)
			}
		}
		r.Path = local
		if note, err := r.Check(); err != nil {
			t.Errorf("%s: sluice validate: %s: %v", os, r.Key, err)
		} else {
			t.Logf("%s: %s %s: %s", os, r.Key, hp, note)
		}
	}
	return cfg
}

// configMapHas says whether the ConfigMap volume src, mounted at mount,
// puts a file at p: the chart always lists the items it mounts.
func configMapHas(os string, src *corev1.ConfigMapVolumeSource, mount, p string) bool {
	if src == nil {
		return false
	}
	for _, it := range src.Items {
		if hostForm(os, mount)+"/"+it.Path == hostForm(os, p) {
			return true
		}
	}
	return false
}

func writeFile(p, text string) error {
	if err := mkdirAll(filepath.Dir(p)); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(text), 0o600)
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o700) }

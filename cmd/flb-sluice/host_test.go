//go:build linux

package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/cmd/flb-sluice/internal/chunk/chunktest"
	"github.com/sluicelog/sluice/internal/testtools"
	"github.com/sluicelog/sluice/internal/vlogs"
)

// These tests load the plugin library into testdata/host.c, a C program
// that calls it as Fluent Bit's Go proxy does, and check what reaches a
// real VictoriaLogs (Loki push API and Elasticsearch bulk API). The library
// is built here without -race: a c-shared library is loaded by a C
// program, outside the race detector's reach.

// buildFlags are make plugin's, so the test and the Makefile share the
// build cache.
var buildFlags = []string{"-buildmode=c-shared", "-trimpath", "-ldflags=-s -w"}

// needTool returns the path of a program the test cannot do without: a
// skip when it is missing, a failure under CI=true.
func needTool(t *testing.T, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not found (%s); scripts/install-test-tools.sh installs it", name, why)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing tool is a failure)")
		}
		t.Skip(msg)
	}
	return p
}

// run runs a command in dir and fails the test with its output when it
// fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildLibrary builds the plugin for goos with the C compiler cc into out.
func buildLibrary(t *testing.T, goos, cc, out string) {
	t.Helper()
	start := time.Now()
	pkg, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	run(t, pkg, []string{"CGO_ENABLED=1", "GOOS=" + goos, "GOARCH=amd64", "CC=" + cc},
		"go", append(append([]string{"build"}, buildFlags...), "-o", out, ".")...)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s: %d bytes in %v", filepath.Base(out), fi.Size(), time.Since(start).Round(time.Millisecond))
}

// pod is the kubernetes map Fluent Bit's kubernetes filter adds.
var pod = map[string]any{
	"namespace_name": "shop", "pod_name": "web-1", "container_name": "app",
	"pod_id": "8b0c5a2e-3f1d", "docker_id": "4f1e9c2b7a3d", "container_image": "shop/web:1.2",
	"host": "node-7", "labels": map[string]any{"app": "web", "app.kubernetes.io/part-of": "shop"},
	"annotations": map[string]any{"prometheus.io/scrape": "true"},
}

// base is a time with nine non-zero fraction digits, a minute ago.
func base() time.Time {
	return time.Now().Truncate(time.Second).Add(-time.Minute + 123456789*time.Nanosecond)
}

// writeChunk writes one chunk of four records named id-r0..id-r3, as
// Fluent Bit 3.1+ writes them: in a group, in both event formats, with
// EventTime, integer and float timestamps, bin strings, and an event of a
// shape no decoder knows among them. It returns the records' times.
func writeChunk(t *testing.T, path, id string, t0 time.Time) []time.Time {
	t.Helper()
	var w chunktest.Writer
	w.GroupStart(map[string]any{"schema": "otlp"})
	times := []time.Time{t0, t0.Add(time.Second).Truncate(time.Second), t0.Add(2*time.Second + 250*time.Millisecond).Truncate(time.Millisecond), t0.Add(3 * time.Second)}
	w.Event(times[0], map[string]any{"log": id + "-r0 hello", "stream": "stdout", "level": "info", "junk": "x", "kubernetes": pod})
	w.Legacy(times[1].Unix(), map[string]any{"log": chunktest.Bin(id + "-r1 from bin"), "stream": chunktest.Bin("stderr"), "kubernetes": pod})
	w.Legacy("not a time", map[string]any{"log": id + " never sent"})
	w.Legacy(float64(times[2].UnixMilli())/1000, map[string]any{"message": id + "-r2 message key", "kubernetes": pod})
	w.Event(times[3], map[string]any{"log": id + "-r3 nested", "http": map[string]any{"status": int64(200)}, "kubernetes": pod})
	w.GroupEnd()
	if err := os.WriteFile(path, w.B, 0o644); err != nil {
		t.Fatal(err)
	}
	return times
}

// hostRun is what the host printed, by line kind.
type hostRun struct {
	inits, flushes, exits map[string][]string // name → codes
	stderr                string
}

// runHost runs the host (exe, under wine when set) on lib and spec in dir.
func runHost(t *testing.T, dir string, wine []string, exe, lib, spec string) hostRun {
	t.Helper()
	args := append(append(slices.Clone(wine[1:]), exe), lib, spec)
	cmd := exec.Command(wine[0], args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("host output:\n%s\nhost stderr (the plugin's logs):\n%s", out, stderr.String())
	if err != nil {
		t.Fatalf("host: %v", err)
	}
	r := hostRun{inits: map[string][]string{}, flushes: map[string][]string{}, exits: map[string][]string{}, stderr: stderr.String()}
	done := false
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 3 && f[0] == "init":
			r.inits[f[1]] = append(r.inits[f[1]], f[2])
		case len(f) == 4 && f[0] == "flush":
			r.flushes[f[1]] = append(r.flushes[f[1]], f[3])
		case len(f) == 3 && f[0] == "exit":
			r.exits[f[1]] = append(r.exits[f[1]], f[2])
		case len(f) == 1 && f[0] == "done":
			done = true
		}
	}
	if !done {
		t.Fatal("the host did not finish")
	}
	return r
}

// sinkKeys are the [OUTPUT] keys of the two instances under test, plus keys
// Fluent Bit keeps for itself (the host drops them as Fluent Bit does).
func sinkKeys(srv *vlogs.Server, lokiTenant string) (lokiKeys, esKeys string) {
	engine := "Match *\nWorkers 2\nRetry_Limit 5\ntls off\ntls.verify on\n"
	lokiKeys = engine + "sink loki\nurl " + srv.PushURL() + "\ntenant_id " + lokiTenant + "\n" +
		"label_keys $kubernetes['namespace_name'], $kubernetes['pod_name'], $kubernetes['container_name']\n" +
		"auto_kubernetes_labels on\nstatic_labels job=fluent-bit\nremove_keys junk\n"
	esKeys = engine + "sink elasticsearch\nurl " + srv.URL() + "/insert/elasticsearch\n" +
		"headers VL-Msg-Field=message, VL-Time-Field=@timestamp, VL-Stream-Fields=kubernetes.pod.name\n" +
		"logstash_format on\nlogstash_prefix k8s\ncompression gzip\nremove_keys junk\n"
	return lokiKeys, esKeys
}

// TestHostLoadsPlugin loads out_sluice.so into the C host: a Loki and an
// Elasticsearch instance each get four chunks from two threads at once,
// an instance with an invalid key fails to start naming the key, and one
// whose server is down answers FLB_RETRY. Every record arrives exactly
// once, with its labels, metadata and fields.
func TestHostLoadsPlugin(t *testing.T) {
	gcc := needTool(t, "gcc", "it compiles the C host and the plugin's cgo part")
	srv := vlogs.Start(t)
	dir := t.TempDir()
	buildLibrary(t, "linux", gcc, filepath.Join(dir, "out_sluice.so"))
	run(t, dir, nil, gcc, "-O1", "-Wall", "-o", "host", mustAbs(t, "testdata/host.c"), "-ldl", "-lpthread")

	lokiKeys, esKeys := sinkKeys(srv, "7")
	spec := "instance loki\n" + lokiKeys + "instance es\n" + esKeys +
		"instance bad\nsink loki\nurl " + srv.PushURL() + "\nbatch_size lots\n" +
		"instance down\nsink loki\nurl http://127.0.0.1:1/loki/api/v1/push\ntimeout 2s\n"
	t0 := base()
	times := map[string][]time.Time{}
	for _, sink := range []string{"loki", "es"} {
		for th := range 2 {
			for c := range 2 {
				id := fmt.Sprintf("%s-t%d-c%d", sink, th, c)
				times[id] = writeChunk(t, filepath.Join(dir, id+".mp"), id, t0.Add(time.Duration(th*10+c*5)*time.Second))
				spec += fmt.Sprintf("flush %d %s kube.var.log.containers.web-1_shop_app.log %s.mp\n", th, sink, id)
			}
		}
	}
	spec += "flush 1 down kube.x loki-t0-c0.mp\n"
	writeFile(t, filepath.Join(dir, "spec"), spec)
	r := runHost(t, dir, []string{"env"}, "./host", "./out_sluice.so", "spec")

	wantCodes(t, r.inits, map[string][]string{"loki": {"1"}, "es": {"1"}, "bad": {"0"}, "down": {"1"}}, "init")
	wantCodes(t, r.flushes, map[string][]string{"loki": {"1", "1", "1", "1"}, "es": {"1", "1", "1", "1"}, "down": {"2"}}, "flush")
	wantCodes(t, r.exits, map[string][]string{"loki": {"1"}, "es": {"1"}, "down": {"1"}}, "exit")
	if !strings.Contains(r.stderr, "batch_size: ") {
		t.Errorf("the instance with batch_size lots did not say which key was wrong")
	}
	if n := strings.Count(r.stderr, "event of unknown shape skipped"); n != 9 {
		t.Errorf("%d events of unknown shape logged, want 9 (one per chunk)", n)
	}
	checkLoki(t, srv, "7", times)
	checkElasticsearch(t, srv, times)
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func wantCodes(t *testing.T, got, want map[string][]string, what string) {
	t.Helper()
	for name, codes := range want {
		if !slices.Equal(got[name], codes) {
			t.Errorf("%s %s: codes %q, want %q", what, name, got[name], codes)
		}
	}
}

// rowsByLine queries every row of tenant whose line starts with prefix and
// checks that each expected line arrived exactly once.
func rowsByLine(t *testing.T, srv *vlogs.Server, tenant, msgField, prefix string, times map[string][]time.Time) map[string]vlogs.Row {
	t.Helper()
	ctx := context.Background()
	if err := srv.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := srv.Query(ctx, "*", tenant)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]vlogs.Row{}
	for _, row := range rows {
		id, _, _ := strings.Cut(row[msgField], " ")
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		if _, dup := byID[id]; dup {
			t.Errorf("%s arrived twice", id)
		}
		byID[id] = row
	}
	want := 0
	for id := range times {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		for i := range 4 {
			want++
			if _, ok := byID[fmt.Sprintf("%s-r%d", id, i)]; !ok {
				t.Errorf("%s-r%d did not arrive", id, i)
			}
		}
	}
	if len(byID) != want {
		t.Errorf("%d records with prefix %s arrived, want %d", len(byID), prefix, want)
	}
	return byID
}

// checkRows checks every stored record of one sink: the fields all of them
// share, those of record i of a chunk (extra), and that the removed key
// junk is not there.
func checkRows(t *testing.T, srv *vlogs.Server, tenant, prefix, junk string, times map[string][]time.Time,
	common map[string]string, extra func(id string, i int) map[string]string) {
	t.Helper()
	rows := rowsByLine(t, srv, tenant, "_msg", prefix, times)
	for id, ts := range times {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		for i, tt := range ts {
			row := rows[fmt.Sprintf("%s-r%d", id, i)]
			if row == nil {
				continue
			}
			want := map[string]string{"_time": tt.UTC().Format(time.RFC3339Nano)}
			maps.Copy(want, common)
			maps.Copy(want, extra(id, i))
			for k, v := range want {
				if row[k] != v {
					t.Errorf("%s-r%d: %s = %q, want %q", id, i, k, row[k], v)
				}
			}
			if _, ok := row[junk]; ok {
				t.Errorf("%s-r%d: %s was not removed", id, i, junk)
			}
		}
	}
}

// recordFields gives the fields of record i of a chunk writeChunk wrote;
// field is where a sink puts a record key (Loki: its name, Elasticsearch:
// labels.<name>).
func recordFields(field func(string) string) func(id string, i int) map[string]string {
	return func(id string, i int) map[string]string {
		want := map[string]string{"_msg": []string{id + "-r0 hello", id + "-r1 from bin", id + "-r2 message key", id + "-r3 nested"}[i]}
		switch i {
		case 0:
			want["stream"], want[field("level")] = "stdout", "info"
		case 1:
			want["stream"] = "stderr"
		case 3:
			want[field("http")] = `{"status":200}`
		}
		return want
	}
}

func checkLoki(t *testing.T, srv *vlogs.Server, tenant string, times map[string][]time.Time) {
	t.Helper()
	common := map[string]string{
		"_stream": `{app="web",app_kubernetes_io_part_of="shop",container="app",job="fluent-bit",namespace="shop",pod="web-1"}`,
		"pod_uid": "8b0c5a2e-3f1d", "container_id": "4f1e9c2b7a3d", "container_image": "shop/web:1.2", "node": "node-7",
		"annotation_prometheus_io_scrape": "true",
	}
	checkRows(t, srv, tenant, "loki-", "junk", times, common, recordFields(func(k string) string { return k }))
}

func checkElasticsearch(t *testing.T, srv *vlogs.Server, times map[string][]time.Time) {
	t.Helper()
	common := map[string]string{
		"_stream":              `{kubernetes.pod.name="web-1"}`,
		"kubernetes.namespace": "shop", "kubernetes.pod.name": "web-1", "kubernetes.container.name": "app",
		"kubernetes.pod.uid": "8b0c5a2e-3f1d", "container.id": "4f1e9c2b7a3d", "container.image.name": "shop/web:1.2",
		"kubernetes.node.name": "node-7", "kubernetes.labels.app": "web", "kubernetes.labels.app_kubernetes_io/part-of": "shop",
		"kubernetes.annotations.prometheus_io/scrape": "true",
	}
	// A record's level is ECS's log.level; its other keys go under labels.
	checkRows(t, srv, "", "es-", "labels.junk", times, common, recordFields(func(k string) string {
		if k == "level" {
			return "log.level"
		}
		return "labels." + k
	}))
}

// TestWineHostLoadsDLL cross-builds out_sluice.dll and the host with
// mingw-w64, runs the host under Wine and checks that both sinks' records
// reach the VictoriaLogs on 127.0.0.1.
func TestWineHostLoadsDLL(t *testing.T) {
	mingw := needTool(t, "x86_64-w64-mingw32-gcc", "it cross-compiles the plugin DLL and the host")
	wine := filepath.Join(testtools.Dir(), "bin", "go_windows_amd64_exec")
	if err := testtools.CheckExecutable(wine); err != nil {
		msg := fmt.Sprintf("the Wine wrapper is missing (%v); scripts/install-test-tools.sh installs it", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing tool is a failure)")
		}
		t.Skip(msg)
	}
	srv := vlogs.Start(t)
	dir := t.TempDir()
	buildLibrary(t, "windows", mingw, filepath.Join(dir, "out_sluice.dll"))
	run(t, dir, nil, mingw, "-O1", "-Wall", "-o", "host.exe", mustAbs(t, "testdata/host.c"))

	lokiKeys, esKeys := sinkKeys(srv, "8")
	spec := "instance loki\n" + lokiKeys + "instance es\n" + esKeys
	t0 := base()
	times := map[string][]time.Time{}
	for th := range 2 {
		for _, sink := range []string{"loki", "es"} {
			id := fmt.Sprintf("%s-w%d", sink, th)
			times[id] = writeChunk(t, filepath.Join(dir, id+".mp"), id, t0.Add(time.Duration(th)*10*time.Second))
			spec += fmt.Sprintf("flush %d %s kube.web %s.mp\n", th, sink, id)
		}
	}
	writeFile(t, filepath.Join(dir, "spec"), spec)
	r := runHost(t, dir, []string{wine}, "host.exe", "out_sluice.dll", "spec")
	wantCodes(t, r.inits, map[string][]string{"loki": {"1"}, "es": {"1"}}, "init")
	wantCodes(t, r.flushes, map[string][]string{"loki": {"1", "1"}, "es": {"1", "1"}}, "flush")
	checkLoki(t, srv, "8", times)
	checkElasticsearch(t, srv, times)
}

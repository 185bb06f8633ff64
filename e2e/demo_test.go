package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoKeepStop runs `make demo` the way KEEP=1 leaves it (scripts/demo.sh
// with KEEP=1 on a free address), asks the server it left running the query
// the demo printed, as the web UI would send it, for every demo pod's
// records, and then checks that `make demo-stop` leaves neither VictoriaLogs
// nor sluice running and the address closed.
func TestDemoKeepStop(t *testing.T) {
	requireSluice(t)
	for _, tc := range []demoSink{
		{name: "loki", ns: "namespace", pod: "pod"},
		{name: "elasticsearch", ns: "kubernetes.namespace", pod: "kubernetes.pod.name"},
	} {
		t.Run(tc.name, func(t *testing.T) { testDemoKeepStop(t, tc) })
	}
}

// demoSink is a SINK of the demo and the fields it stores a record's
// namespace and pod in.
type demoSink struct{ name, ns, pod string }

func testDemoKeepStop(t *testing.T, sink demoSink) {
	const pods = 3
	addr := freeAddr(t)
	pidfile := filepath.Join(t.TempDir(), "victoria-logs.pid")
	env := append(os.Environ(), "SLUICE_DEMO_ADDR="+addr, "SLUICE_DEMO_PID="+pidfile)
	stop := func() ([]byte, error) {
		cmd := exec.Command("make", "-s", "-C", "..", "demo-stop")
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	t.Cleanup(func() { stop() }) // a failed test leaves nothing running either

	// Deadlines bound waiting only.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	demo := exec.CommandContext(ctx, "bash", "../scripts/demo.sh")
	demo.Env = append(env, "KEEP=1", "SINK="+sink.name, "SLUICE_BIN="+loadBin, fmt.Sprintf("PODS=%d", pods), "LINES=1000")
	out, err := demo.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh with KEEP=1: %v\n%s", err, out)
	}
	work := printed(t, out, regexp.MustCompile(`(?m)^demo folder: (\S+)$`))
	t.Cleanup(func() { os.RemoveAll(work) })
	ui, err := url.Parse(printed(t, out, regexp.MustCompile(`(?m)^  (http://\S+/select/vmui/#/\?\S+)$`)))
	if err != nil {
		t.Fatal(err)
	}
	params, err := url.ParseQuery(strings.TrimPrefix(ui.Fragment, "/?"))
	if err != nil {
		t.Fatal(err)
	}
	query, tenant := params.Get("query"), params.Get("accountID")
	curl := printed(t, out, regexp.MustCompile(`(?m)^  (curl .*/select/logsql/query .*)$`))
	if want := fmt.Sprintf("-H 'AccountID: %s' --data-urlencode 'query=%s'", tenant, query); ui.Host != addr || !strings.Contains(curl, want) {
		t.Fatalf("the web UI address (%s) and the curl line do not ask %s the same query:\n%s\nwant it to hold %s", ui, addr, curl, want)
	}

	per := queryAsUI(t, sink, addr, tenant, query, params.Get("limit"))
	for i := range pods {
		if pod := fmt.Sprintf("web-%d", i); per[pod] == 0 {
			t.Errorf("the printed query returns no record of pod %s (per pod: %v)", pod, per)
		}
	}

	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("KEEP=1 left no pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %s: %v", pidfile, err)
	}
	if left := processesMentioning(work); len(left) == 0 || !strings.Contains(strings.Join(left, "\n"), "victoria-logs") {
		t.Fatalf("no VictoriaLogs runs from %s after the demo: %v", work, left)
	}

	if out, err := stop(); err != nil {
		t.Fatalf("make demo-stop: %v\n%s", err, out)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("make demo-stop left its pid file %s: %v", pidfile, err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !os.IsNotExist(err) {
		t.Errorf("VictoriaLogs (pid %d) still runs after make demo-stop", pid)
	}
	if left := processesMentioning(work); len(left) > 0 {
		t.Errorf("processes of the demo left after make demo-stop:\n%s", strings.Join(left, "\n"))
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after make demo-stop", addr)
	}
}

// printed returns the first group of re in the demo's output.
func printed(t *testing.T, out []byte, re *regexp.Regexp) string {
	t.Helper()
	m := re.FindSubmatch(out)
	if m == nil {
		t.Fatalf("the demo printed no line matching %s:\n%s", re, out)
	}
	return string(m[1])
}

// queryAsUI sends query to VictoriaLogs' LogsQL API as its web UI does (the
// tenant in headers, the limit as a form value) and counts rows per pod,
// checking each is in the demo's namespace.
func queryAsUI(t *testing.T, sink demoSink, addr, tenant, query, limit string) map[string]int {
	t.Helper()
	form := url.Values{"query": {query}, "limit": {limit}}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/select/logsql/query", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("AccountID", tenant)
	req.Header.Set("ProjectID", "0")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query %q: %s", query, resp.Status)
	}
	per := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("row %q: %v", sc.Text(), err)
		}
		if row[sink.ns] != "demo" {
			t.Errorf("a row outside the demo's namespace: %s", sc.Text())
		}
		per[row[sink.pod]]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return per
}

// processesMentioning lists the command lines of running processes that
// name dir, as the demo's sluice (its configuration) and VictoriaLogs (its
// data folder) do.
func processesMentioning(dir string) []string {
	var found []string
	lines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range lines {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended meanwhile
		}
		if cmd := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cmd, dir) {
			found = append(found, filepath.Base(filepath.Dir(p))+": "+cmd)
		}
	}
	return found
}

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/vlogs"
)

// dotnetTrace is exception i as .NET prints it.
func dotnetTrace(i int) string {
	return fmt.Sprintf(`System.InvalidOperationException: order %d failed
 ---> System.ArgumentNullException: Value cannot be null. (Parameter 'customer')
   at Shop.Orders.Validate(Order order) in C:\src\Shop\Orders.cs:line 42
   --- End of inner exception stack trace ---
   at Shop.Orders.Place(Order order) in C:\src\Shop\Orders.cs:line 21
   at Shop.Program.Main(String[] args) in C:\src\Shop\Program.cs:line 9`, i)
}

// multilineEnv starts a VictoriaLogs and a node whose files of namespace
// shop join .NET exceptions with the given flush timeout, and returns the
// log file of container app of pod (uid made from uid) in it.
func multilineEnv(t *testing.T, pod string, uid int, flush string) (*vlogs.Server, *env, string) {
	t.Helper()
	requireSluice(t)
	srv := vlogs.Start(t)
	e := newEnv(t, envOptions{loki: srv.PushURL(), environ: []string{"NODE_NAME=" + lokiNode},
		files: "    parsers:\n      - {match: '{pods}/shop_*/*/*.log', multiline: dotnet, flush_timeout: " + flush + "}\n"})
	c := e.kubeContainer("shop", pod, podUID(uid), "app")
	return srv, e, filepath.Join(c.dir, "0.log")
}

// appendTo appends b to the file at path.
func appendTo(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMultilineDotnet writes a container log in which ordinary lines,
// .NET exceptions, LogMonitor's Event Log entries and stderr lines
// interleave, some exceptions cut into CRI partial lines and one split
// across writes with a pause, and the last one ending the file: each
// exception must arrive in the real server as one record holding its whole
// text, each LogMonitor entry as its message with its event's fields
// queryable, every other line as itself, each once.
func TestMultilineDotnet(t *testing.T) {
	srv, e, path := multilineEnv(t, "orders-0", 7, "500ms")
	s := e.start(false)
	s.waitReady(10 * time.Second)

	const n = 200
	want := map[string]int{}
	ts := time.Now().Add(-time.Minute).UTC()
	var b []byte
	written := 0
	line := func(stream, tag, text string) {
		written++
		ts = ts.Add(time.Millisecond)
		b = fmt.Appendf(b, "%s %s %s %s\n", ts.Format(time.RFC3339Nano), stream, tag, text)
	}
	flush := func() {
		appendTo(t, path, b)
		b = b[:0]
	}
	for i := range n {
		msg := fmt.Sprintf("GET /orders/%d 200", i)
		line("stdout", "F", msg)
		want[msg]++
		if i%20 == 5 {
			event := fmt.Sprintf("Faulting application name: w3wp.exe, order %d", i)
			line("stdout", "F", fmt.Sprintf(`{"Source":"EventLog","LogEntry":{"Time":"2026-12-04T04:20:02.000Z","Channel":"Application","Level":"Error","EventId":%d,"Message":%q},"SchemaVersion":"1.0.0"}`, 1000+i, event))
			want[event]++
		}
		trace := dotnetTrace(i)
		want[trace]++
		for j, l := range strings.Split(trace, "\n") {
			if i%10 == 3 && j == 2 {
				// kubelet cuts a long line into P pieces.
				line("stdout", "P", l[:20])
				l = l[20:]
			}
			line("stdout", "F", l)
			if i%7 == 0 && j == 0 {
				// a stderr line in the middle of the exception
				warn := fmt.Sprintf("warning %d on stderr", i)
				line("stderr", "F", warn)
				want[warn]++
			}
			if i == n/2 && j == 3 {
				flush() // the rest of this exception comes later
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	flush() // the last exception ends the file: the flush timeout sends it
	total := 0
	for _, v := range want {
		total += v
	}
	s.waitMetric(lokiRecords, float64(total), lokiWait)
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d", code)
	}
	got := map[string]int{}
	err = srv.Each(context.Background(), fmt.Sprintf(`{namespace="shop",pod="orders-0"}`), "", func(r vlogs.Row) error {
		got[r.Msg()]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for msg, k := range want {
		if got[msg] != k {
			bad++
			if bad <= 5 {
				t.Errorf("%q arrived %d times, want %d", msg, got[msg], k)
			}
		}
	}
	for msg := range got {
		if _, ok := want[msg]; !ok {
			bad++
			if bad <= 10 {
				t.Errorf("unexpected record %q", msg)
			}
		}
	}
	events, err := srv.Count(context.Background(), `{namespace="shop",pod="orders-0"} windows_event_channel:Application level:error windows_event_id:>=1000`, "")
	if err != nil {
		t.Fatal(err)
	}
	if events != n/20 {
		t.Errorf("%d LogMonitor events found by their fields, want %d", events, n/20)
	}
	if m[`sluice_parse_records_total{format="auto",outcome="parsed"}`] != n/20 {
		t.Errorf("parsed LogMonitor lines: %v", m[`sluice_parse_records_total{format="auto",outcome="parsed"}`])
	}
	if m["sluice_multiline_records_total"] != n {
		t.Errorf("sluice_multiline_records_total = %g, want %d", m["sluice_multiline_records_total"], n)
	}
	t.Logf("%d records for %d written lines; %d exceptions joined", total, written, n)
}

// TestMultilineKillMidEvent kills sluice with SIGKILL while an exception
// is half written and waiting for its next line, a few checkpoint
// intervals after the lines before it went out: after the restart the
// exception arrives whole, once, and no line is lost or sent twice.
func TestMultilineKillMidEvent(t *testing.T) {
	srv, e, path := multilineEnv(t, "orders-1", 8, "1h")
	ts := time.Now().Add(-time.Minute).UTC()
	write := func(lines ...string) {
		var b []byte
		for _, l := range lines {
			ts = ts.Add(time.Millisecond)
			b = fmt.Appendf(b, "%s stdout F %s\n", ts.Format(time.RFC3339Nano), l)
		}
		appendTo(t, path, b)
	}
	trace := strings.Split(dotnetTrace(1), "\n")
	s := e.start(false)
	s.waitReady(10 * time.Second)
	write("first", "second")
	write(trace[:3]...)
	// "first" goes out when "second" shows it ended, "second" when the
	// exception's first line does; the exception waits for its next line.
	s.waitMetric(lokiRecords, 2, lokiWait)
	time.Sleep(300 * time.Millisecond) // a few checkpoint intervals
	s.kill()
	write(trace[3:]...)
	write("after")
	s = e.start(false)
	s.waitReady(10 * time.Second)
	s.waitMetric(lokiRecords, 1, lokiWait) // the exception, once "after" ends it; "after" goes at the stop
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d", code)
	}
	got := map[string]int{}
	err := srv.Each(context.Background(), `{pod="orders-1"}`, "", func(r vlogs.Row) error {
		got[r.Msg()]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"first": 1, "second": 1, dotnetTrace(1): 1, "after": 1}
	for msg, n := range want {
		if got[msg] != n {
			t.Errorf("%q arrived %d times, want %d", msg, got[msg], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("records: %v", got)
	}
}

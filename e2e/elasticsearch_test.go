package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/vlogs"
)

// The Elasticsearch tests run sluice against VictoriaLogs' Elasticsearch
// bulk endpoint, told by headers which document fields are the message, the
// time and the stream, and read back what it stored.

const (
	esRecords = `sluice_output_records_total{sink="elasticsearch"}`
	esRetries = `sluice_output_retries_total{sink="elasticsearch"}`
	esLag     = `sluice_buffer_lag_records{sink="elasticsearch"}`
)

// esSettings are the Elasticsearch output's settings for VictoriaLogs (",
// key: value" pairs), with extra appended.
func esSettings(extra string) string {
	return `, headers: {VL-Msg-Field: message, VL-Time-Field: "@timestamp",` +
		` VL-Stream-Fields: "kubernetes.namespace,kubernetes.pod.name,kubernetes.container.name"}` + extra
}

// esURL is the base URL of the server's Elasticsearch API.
func esURL(srv *vlogs.Server) string { return srv.URL() + "/insert/elasticsearch" }

// esRow is the ECS document the Elasticsearch sink makes of a line, as
// VictoriaLogs shows it: the pods layout gives the pod's UID, NODE_NAME the
// node, and the data stream's namespace is the pod's, with "-" (which
// separates the parts of a data stream's name, so Elasticsearch refuses
// it inside one) as "_".
func esRow(w criLine) vlogs.Row {
	return vlogs.Row{
		"_msg": w.msg, "_time": w.time(),
		"_stream":              fmt.Sprintf(`{kubernetes.container.name=%q,kubernetes.namespace=%q,kubernetes.pod.name=%q}`, w.ctr.name, w.ctr.ns, w.ctr.pod),
		"stream":               "stdout",
		"log.file.path":        w.path,
		"log.offset":           strconv.FormatInt(w.off, 10),
		"kubernetes.namespace": w.ctr.ns, "kubernetes.pod.name": w.ctr.pod, "kubernetes.container.name": w.ctr.name,
		"kubernetes.pod.uid": w.ctr.uid, "kubernetes.node.name": lokiNode,
		"data_stream.type": "logs", "data_stream.dataset": "kubernetes.container_logs", "data_stream.namespace": strings.ReplaceAll(w.ctr.ns, "-", "_"),
	}
}

func newESCheck(written map[lineKey]criLine) *lokiCheck {
	c := newLokiCheck(written)
	c.want = esRow
	return c
}

// TestElasticsearchDelivery ships 100,000 lines from ten containers, two of
// which rotate, through the buffer to the bulk API, and expects every line
// exactly once as an ECS document with its fields.
func TestElasticsearchDelivery(t *testing.T) {
	requireSluice(t)
	srv := vlogs.Start(t)
	e := newEnv(t, envOptions{es: esURL(srv), esExtra: esSettings(""), environ: []string{"NODE_NAME=" + lokiNode}})
	checkDelivery(t, e, srv, "elasticsearch", newESCheck)
}

// TestTwoSinksOneDown ships to Loki and to Elasticsearch (two servers) at
// once and stops the Elasticsearch one for 30 s mid-run: Loki goes on
// receiving the lines as they are written, each sink reading the buffer
// at its own cursor, and once the server is back every line reaches both.
func TestTwoSinksOneDown(t *testing.T) {
	requireSluice(t)
	const (
		outage = 30 * time.Second
		rate   = 300 // lines per second per file
	)
	lokiSrv, esSrv := vlogs.Start(t), vlogs.Start(t)
	backoff := ", min_backoff: 200ms, max_backoff: 2s, batch_wait: 200ms"
	e := newEnv(t, envOptions{
		loki: lokiSrv.PushURL(), lokiExtra: backoff,
		es: esURL(esSrv), esExtra: esSettings(backoff),
		environ: []string{"NODE_NAME=" + lokiNode},
	})
	cs, writers := outageWriters(e, "both", 300, rate)
	s := e.start(false)
	s.waitReady(10 * time.Second)
	ctx, stopWriters := context.WithCancel(context.Background())
	defer stopWriters()
	wait := startWriters(ctx, writers)

	s.waitMetric(esRecords, rate, lokiWait)
	s.waitMetric(lokiRecords, rate, lokiWait)
	esSrv.Stop()
	down := time.Now()
	m0, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	for time.Since(down) < outage {
		time.Sleep(time.Second)
		if !s.running() {
			t.Fatalf("sluice exited (%v) while a server was down; log:\n%s", s.state, s.logTail(30))
		}
	}
	m1, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %v with Elasticsearch down: elasticsearch %s; loki %s", time.Since(down).Round(time.Millisecond),
		sinkSummary(m1, "elasticsearch"), sinkSummary(m1, "loki"))
	if m1[esRetries] <= m0[esRetries] || m1[esLag] <= m0[esLag] || m1[esRecords] > m0[esRecords] {
		t.Errorf("Elasticsearch down: retries %g → %g, lag %g → %g, records %g → %g: want retries and the lag to grow, records not",
			m0[esRetries], m1[esRetries], m0[esLag], m1[esLag], m0[esRecords], m1[esRecords])
	}
	// The writers wrote about outage*rate*2 lines meanwhile; Loki must have
	// taken most of them, and be about as far behind as before.
	during := m1["sluice_input_lines_total"] - m0["sluice_input_lines_total"]
	if got := m1[lokiRecords] - m0[lokiRecords]; got < during/2 {
		t.Errorf("Loki took %g records while Elasticsearch was down and %g lines were read: it was held back", got, during)
	}

	esSrv.Restart()
	time.Sleep(time.Second)
	stopWriters()
	if err := wait(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	wrote := 0
	for _, w := range writers {
		wrote += w.lines
	}
	var m map[string]float64
	waitFor(t, lokiWait, "every line read and both cursors at the end", func() (bool, error) {
		if m, err = s.metrics(); err != nil {
			return false, err
		}
		return m["sluice_input_lines_total"] >= float64(wrote) && m[lokiLag] == 0 && m[esLag] == 0, nil
	}, func() string {
		return fmt.Sprintf("wrote %d; %s; %s", wrote, sinkSummary(m, "loki"), sinkSummary(m, "elasticsearch"))
	})
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0; log:\n%s", code, s.logTail(30))
	}
	for _, sink := range []string{"loki", "elasticsearch"} {
		if r := sinkRejected(m, sink); r != 0 {
			t.Errorf("%s: %d records rejected", sink, int(r))
		}
	}
	written := readWritten(t, cs...)
	if len(written) != wrote {
		t.Fatalf("read back %d written lines from the files, want %d", len(written), wrote)
	}
	for _, c := range []struct {
		name  string
		check *lokiCheck
		srv   *vlogs.Server
	}{{"loki", newLokiCheck(written), lokiSrv}, {"elasticsearch", newESCheck(written), esSrv}} {
		r := c.check.checkAll(t, c.srv)
		t.Logf("%s: %v", c.name, r)
		if r.missing != 0 {
			t.Errorf("%s: lines lost: %v", c.name, r)
		}
	}
}

package structured_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/vlogs"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/elasticsearch"
	"github.com/sluicelog/sluice/outputs/loki"
	"github.com/sluicelog/sluice/parse/structured"
	"github.com/sluicelog/sluice/record"
)

// parsedRecords parses a LogMonitor Event Log line, a LogMonitor File line
// and an application's JSON line, all of one pod sharing its attrs.
func parsedRecords(t *testing.T, base time.Time) []record.Record {
	p, err := structured.New(structured.Options{})
	if err != nil {
		t.Fatal(err)
	}
	shared := []record.Attr{{Key: "namespace", Value: "shop"}, {Key: "pod", Value: "iis-0"}, {Key: "container", Value: "web"}}
	lines := []struct {
		f    structured.Format
		line string
	}{
		{structured.Auto, `{"Source": "EventLog","LogEntry": {"EventSource": "Application Error","Time": "2026-12-04T04:20:02.000Z","Channel": "Application","Level": "Error","EventId": 1000,"Message": "Faulting application name: w3wp.exe"}}`},
		{structured.Auto, `{"Source":"File","LogEntry":{"Logline":"GET /default.aspx 200","FileName":"C:\\inetpub\\logs\\u_ex.log"}}`},
		{structured.JSON, `{"level":"WARN","msg":"slow order","order":{"id":"o-42","ms":950}}`},
	}
	var recs []record.Record
	for i, l := range lines {
		r := record.Record{Time: base.Add(time.Duration(i) * time.Millisecond), Stream: "stdout", Body: []byte(l.line),
			Path: "/var/log/pods/shop_iis-0_u1/web/0.log", Offset: int64(i * 300), Attrs: shared}
		if o := p.Apply(&r, l.f); o != structured.Parsed {
			t.Fatalf("line %d: %s", i, o)
		}
		recs = append(recs, r)
	}
	return recs
}

// Parsed fields arrive in a real VictoriaLogs through the Elasticsearch
// bulk API under their ECS names, queryable.
func TestVLogsElasticsearchParsedFields(t *testing.T) {
	srv := vlogs.Start(t)
	s, err := elasticsearch.New(elasticsearch.Config{URL: srv.URL() + "/insert/elasticsearch", Compression: "none",
		Headers: map[string]string{"VL-Msg-Field": "message", "VL-Time-Field": "@timestamp",
			"VL-Stream-Fields": "kubernetes.namespace,kubernetes.pod.name"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send(t, s)
	expectRows(t, srv, map[string]map[string]string{
		`winlog.event_id:1000`: {"_msg": "Faulting application name: w3wp.exe", "winlog.channel": "Application",
			"winlog.provider_name": "Application Error", "log.level": "error", "labels.windows_logmonitor_source": "EventLog"},
		`file.path:"C:\\inetpub\\logs\\u_ex.log"`: {"_msg": "GET /default.aspx 200", "log.file.path": "/var/log/pods/shop_iis-0_u1/web/0.log"},
		`log.level:warn json.order_id:o-42`:       {"_msg": "slow order", "json.order_ms": "950"},
	})
}

// Through the Loki push API, "level" listed in labels is a stream label
// and the other parsed fields are structured metadata.
func TestVLogsLokiParsedFields(t *testing.T) {
	srv := vlogs.Start(t)
	s, err := loki.New(loki.Config{URL: srv.PushURL(), Labels: []string{"namespace", "pod", "container", "level"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send(t, s)
	expectRows(t, srv, map[string]map[string]string{
		`{level="error"}`: {"_msg": "Faulting application name: w3wp.exe", "windows_event_id": "1000", "windows_event_channel": "Application",
			"_stream": `{container="web",level="error",namespace="shop",pod="iis-0"}`},
		`{level="warn"} json_order_id:o-42`: {"_msg": "slow order", "json_order_ms": "950"},
		`log_file_path:"C:\\inetpub\\logs\\u_ex.log"`: {"_msg": "GET /default.aspx 200",
			"_stream": `{container="web",namespace="shop",pod="iis-0"}`},
	})
}

// send encodes and sends the parsed records with a sink.
func send[R interface{ Release() }](t *testing.T, s interface {
	Encode([]record.Record) R
	Send(context.Context, R) outputs.Result
}) {
	t.Helper()
	req := s.Encode(parsedRecords(t, time.Now().Add(-time.Minute).Truncate(time.Millisecond)))
	defer req.Release()
	if res := s.Send(context.Background(), req); res.Outcome != outputs.Accepted {
		t.Fatalf("send: %v %v", res.Status, res.Err)
	}
}

// expectRows checks that each LogsQL query finds one row, with the fields given.
func expectRows(t *testing.T, srv *vlogs.Server, queries map[string]map[string]string) {
	t.Helper()
	for query, want := range queries {
		rows, err := srv.Query(context.Background(), query, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Errorf("%s: %d rows: %v", query, len(rows), rows)
			continue
		}
		for k, v := range want {
			if rows[0][k] != v {
				t.Errorf("%s: %s = %q, want %q (row %v)", query, k, rows[0][k], v, rows[0])
			}
		}
	}
}

package elasticsearch

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/vlogs"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// TestVLogsBulk sends records through Sink.Encode and Sink.Send to a real
// VictoriaLogs server's Elasticsearch bulk endpoint, with the headers that
// say which fields are the message, the time and the stream, and reads back
// every field of every row. It skips when the server binary is missing,
// except under CI=true (see package vlogs).
func TestVLogsBulk(t *testing.T) {
	for _, compression := range []string{"none", "gzip"} {
		t.Run(compression, func(t *testing.T) {
			t.Parallel()
			srv := vlogs.Start(t)
			s := newSink(t, Config{
				URL: srv.URL() + "/insert/elasticsearch", Compression: compression, ClusterName: "prod-eu",
				Headers: map[string]string{
					"VL-Msg-Field": "message", "VL-Time-Field": "@timestamp",
					"VL-Stream-Fields": "kubernetes.namespace,kubernetes.pod.name,kubernetes.container.name",
				},
			})
			base := time.Now().Truncate(time.Second).Add(-time.Minute + 123456789*time.Nanosecond)
			attrs := []record.Attr{
				{Key: "namespace", Value: "shop"}, {Key: "pod", Value: "cart-7d9f"}, {Key: "container", Value: "app"},
				{Key: "pod_uid", Value: "8b0c5a2e"}, {Key: "node", Value: "node-7"}, {Key: "label.app.kubernetes.io/name", Value: "cart"},
				{Key: "container_id", Value: "containerd://4f1e9c2b"},
			}
			src := &record.Source{Dev: 2049, Ino: 31, Head: []byte("head")}
			path := "/var/log/pods/shop_cart-7d9f_8b0c5a2e/app/0.log"
			recs := []record.Record{
				{Time: base, Stream: "stdout", Body: []byte("plain line"), Path: path, Offset: 0, Source: src, Attrs: attrs},
				{Time: base.Add(1), Stream: "stderr", Body: []byte("say \"hi\"\tthen a back\\slash and {\"level\":\"info\"}"), Path: path, Offset: 11, Source: src, Attrs: attrs},
				{Time: base.Add(2), Stream: "stdout", Body: []byte("héllo wörld ✓"), Path: path, Offset: 64, Source: src, Attrs: attrs,
					Flags: record.FlagSplit},
			}
			req := s.Encode(recs)
			defer req.Release()
			if res := s.Send(context.Background(), req); res.Outcome != outputs.Accepted {
				t.Fatalf("send: outcome %d, status %s: %v", res.Outcome, res.Status, res.Err)
			}
			rows, err := srv.Query(context.Background(), "* | sort by (_time)", "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(recs) {
				t.Fatalf("%d rows stored, want %d: %v", len(rows), len(recs), rows)
			}
			for i, r := range rows {
				got := maps.Clone(r)
				delete(got, "_stream_id")
				want := vlogs.Row{
					"_msg": string(recs[i].Body), "_time": recs[i].Time.UTC().Format(time.RFC3339Nano),
					"_stream":              `{kubernetes.container.name="app",kubernetes.namespace="shop",kubernetes.pod.name="cart-7d9f"}`,
					"stream":               recs[i].Stream,
					"log.file.path":        path,
					"log.offset":           []string{"0", "11", "64"}[i],
					"kubernetes.namespace": "shop", "kubernetes.pod.name": "cart-7d9f", "kubernetes.container.name": "app",
					"kubernetes.pod.uid": "8b0c5a2e", "kubernetes.node.name": "node-7", "kubernetes.labels.app_kubernetes_io/name": "cart",
					"container.runtime": "containerd", "container.id": "4f1e9c2b", "orchestrator.cluster.name": "prod-eu",
					"data_stream.type": "logs", "data_stream.dataset": "kubernetes.container_logs", "data_stream.namespace": "shop",
				}
				if recs[i].Flags != 0 {
					want["tags"] = `["split"]`
				}
				if !maps.Equal(got, want) {
					t.Errorf("row %d:\n got  %v\n want %v", i, got, want)
				}
			}
		})
	}
}

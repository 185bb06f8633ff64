package elasticsearch

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/record"
)

// encodeOne encodes recs with c and returns the items.
func encodeItems(t *testing.T, c Config, recs ...record.Record) []item {
	t.Helper()
	c.URL, c.Compression = "http://127.0.0.1:1", "none"
	s := newSink(t, c)
	req := s.Encode(recs)
	defer req.Release()
	if req.Records() != len(recs) {
		t.Fatalf("request carries %d records, want %d", req.Records(), len(recs))
	}
	return decodeBulk(t, req.raw, false)
}

// Every enrichment attribute lands on its ECS field, labels and annotations
// dedotted, the container runtime apart from the id, unknown attributes
// under labels.*, and the data stream named from the namespace.
func TestECSDocument(t *testing.T) {
	rec := record.Record{
		Time: time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.FixedZone("CET", 3600)), Stream: "stderr",
		Body: []byte("say \"hi\"\tand \\ \x01 héllo"), Path: "/var/log/pods/Shop_cart_8b0c/app/0.log", Offset: 4242,
		Flags: record.FlagSplit | record.FlagNoNewline,
		Attrs: []record.Attr{
			{Key: "namespace", Value: "Shop"}, {Key: "pod", Value: "cart-7d9f"}, {Key: "pod_uid", Value: "8b0c"},
			{Key: "pod_ip", Value: "10.1.2.3"}, {Key: "container", Value: "app"},
			{Key: "container_id", Value: "containerd://4f1e9c2b"}, {Key: "container_image", Value: "shop/cart:1.2"},
			{Key: "node", Value: "node-7"}, {Key: "label.app", Value: "cart"},
			{Key: "label.app.kubernetes.io/name", Value: "cart"}, {Key: "annotation.prometheus.io/scrape", Value: "true"},
			{Key: "namespace_label.team", Value: "a"}, {Key: "trace.id", Value: "abc"}, {Key: "owner_kind", Value: "ReplicaSet"},
		},
	}
	items := encodeItems(t, Config{ClusterName: "prod-eu"}, rec)
	want := map[string]any{
		"@timestamp": "2026-12-03T09:00:00.123456789Z", "message": "say \"hi\"\tand \\ \x01 héllo", "stream": "stderr",
		"tags": []any{"split", "no_newline"}, "log.file.path": "/var/log/pods/Shop_cart_8b0c/app/0.log", "log.offset": json.Number("4242"),
		"kubernetes.namespace": "Shop", "kubernetes.pod.name": "cart-7d9f", "kubernetes.pod.uid": "8b0c", "kubernetes.pod.ip": "10.1.2.3",
		"kubernetes.container.name": "app", "container.runtime": "containerd", "container.id": "4f1e9c2b",
		"container.image.name": "shop/cart:1.2", "kubernetes.node.name": "node-7", "kubernetes.labels.app": "cart",
		"kubernetes.labels.app_kubernetes_io/name": "cart", "kubernetes.annotations.prometheus_io/scrape": "true",
		"kubernetes.namespace_labels.team": "a", "labels.trace_id": "abc", "kubernetes.owner.kind": "ReplicaSet",
		"orchestrator.cluster.name": "prod-eu",
		"data_stream.type":          "logs", "data_stream.dataset": "kubernetes.container_logs", "data_stream.namespace": "shop",
	}
	got := items[0].Doc
	for k, v := range want {
		if gv, ok := got[k]; !ok || !jsonEqual(gv, v) {
			t.Errorf("%s = %#v, want %#v", k, gv, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s = %v", k, got[k])
		}
	}
	if idx := items[0].index(); idx != "logs-kubernetes.container_logs-shop" {
		t.Errorf("_index %q", idx)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// Ids are the same whenever the same line is encoded again (a replay, a
// retry, a rotated file read on), and differ between lines, between files
// and for a reused inode's different line at the same offset.
func TestDocumentIDs(t *testing.T) {
	base := fileRecords(1, "x0", "x1")
	again := fileRecords(1, "x0", "x1")
	again[0].Source.Head = append(again[0].Source.Head, "more bytes of a grown head"...) // the head grew
	again[0].Path = "/var/log/pods/shop_cart-7d9f_8b0c5a2e/app/0.log.20261203-100000"    // rotated
	other := fileRecords(2, "x0")
	reused := fileRecords(1, "y0") // same device, inode and offset: another file's line
	reused[0].Time = reused[0].Time.Add(time.Hour)
	noSrc := fileRecords(1, "x0")
	noSrc[0].Source = nil
	items := encodeItems(t, Config{}, base[0], base[1], again[0], again[1], other[0], reused[0], noSrc[0], noSrc[0])
	ids := make([]string, len(items))
	for i, it := range items {
		if ids[i] = it.id(); len(ids[i]) != idText {
			t.Fatalf("id %q: %d characters, want %d", ids[i], len(ids[i]), idText)
		}
	}
	if ids[0] != ids[2] || ids[1] != ids[3] || ids[6] != ids[7] {
		t.Errorf("the same line got different ids: %q", ids)
	}
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 4, 5, 6} {
		if seen[ids[i]] {
			t.Errorf("id %q given to two different lines: %q", ids[i], ids)
		}
		seen[ids[i]] = true
	}
	none := encodeItems(t, Config{ID: "none"}, base[0])
	if _, ok := none[0].Action["create"]["_id"]; ok {
		t.Errorf("id none: action %v has an _id", none[0].Action)
	}
}

// A record with the IDKey attribute has its value as _id, JSON-escaped;
// one without it gets the derived id.
func TestOwnIDs(t *testing.T) {
	recs := fileRecords(1, "x0", "x1")
	recs[0].Attrs = append(recs[0].Attrs[:len(recs[0].Attrs):len(recs[0].Attrs)], record.Attr{Key: "uid", Value: `a"b`})
	items := encodeItems(t, Config{IDKey: "uid"}, recs...)
	if id := items[0].id(); id != `a"b` {
		t.Errorf("record with uid: _id %q", id)
	}
	if id := items[1].id(); len(id) != idText {
		t.Errorf("record without uid: _id %q, want a derived one", id)
	}
}

// Names follow the data stream and index rules whatever the attributes
// hold: lowercase, refused characters replaced, no "-" inside a dataset or
// namespace, no leading "-", "_" or "+", bounded length; empty parts get
// their defaults.
func TestTargetNames(t *testing.T) {
	rec := func(ns, app string) record.Record {
		return record.Record{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Body: []byte("x"),
			Attrs: []record.Attr{{Key: "namespace", Value: ns}, {Key: "label.app", Value: app}}}
	}
	for _, tc := range []struct {
		name string
		c    Config
		rec  record.Record
		want string
	}{
		{"default data stream", Config{}, rec("kube-system", ""), "logs-kubernetes.container_logs-kube_system"},
		{"no namespace", Config{}, rec("", ""), "logs-kubernetes.container_logs-default"},
		{"dataset template", Config{DataStreamDataset: "k8s.%{label.app}", DataStreamNamespace: "prod"}, rec("x", "Web/API?*"), "logs-k8s.web_api__-prod"},
		{"empty dataset", Config{DataStreamDataset: "%{label.app}"}, rec("x", ""), "logs-generic-x"},
		{"long namespace", Config{}, rec(strings.Repeat("n", 150), ""), "logs-kubernetes.container_logs-" + strings.Repeat("n", 100)},
		{"dated index", Config{Index: "k8s-%{namespace}-%Y.%m.%d"}, rec("Shop Front,#1", ""), "k8s-shop_front__1-2026.01.02"},
		{"index from an attribute only", Config{Index: "%{label.app}"}, rec("x", "-_+Web"), "web"},
		{"index left empty", Config{Index: "%{label.app}"}, rec("x", ""), "sluice"},
		{"static index", Config{Index: "logs-static"}, rec("x", ""), "logs-static"},
		{"percent sign", Config{Index: "a%%b"}, rec("x", ""), "a%b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := encodeItems(t, tc.c, tc.rec)
			if got := items[0].index(); got != tc.want {
				t.Errorf("_index %q, want %q", got, tc.want)
			}
			if tc.c.Index == "" {
				d := items[0].Doc
				if got := d["data_stream.type"].(string) + "-" + d["data_stream.dataset"].(string) + "-" + d["data_stream.namespace"].(string); got != tc.want {
					t.Errorf("data_stream fields give %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// Configurations that cannot work stop New with a message naming the
// setting.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{}, "url: missing"},
		{Config{URL: "http://a", CloudID: "x:eQ=="}, "not both"},
		{Config{URL: "ftp://a"}, "scheme"},
		{Config{URL: "http://u:p@a"}, "credentials"},
		{Config{URL: "http://a?_msg_field=message"}, "query"},
		{Config{URL: "http://a", ID: "random"}, "id"},
		{Config{URL: "http://a", Compression: "zstd"}, "compression"},
		{Config{URL: "http://a", Index: "UPPER"}, "not a valid index name"},
		{Config{URL: "http://a", Index: "k8s-%{namespace"}, "closing }"},
		{Config{URL: "http://a", Index: "k8s-%H"}, "unknown %H"},
		{Config{URL: "http://a", Index: "x", DataStreamDataset: "y"}, "not both"},
		{Config{URL: "http://a", DataStreamType: "Logs-X"}, "type"},
		{Config{URL: "http://a", Fields: map[string]string{"pod": "message"}}, "writes \"message\" itself"},
		{Config{URL: "http://a", Auth: AuthConfig{APIKey: "k", Username: "u"}}, "only one kind"},
		{Config{URL: "http://a", Headers: map[string]string{"Content-Type": "text/plain"}}, "set by the sink"},
		{Config{URL: "http://a", Timeout: -time.Second}, "negative"},
		{Config{CloudID: "name-without-colon"}, "cloud_id"},
		{Config{URL: "http://a", ID: "none", IDKey: "uid"}, "id_key"},
	} {
		_, err := New(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tc.c, err, tc.want)
		}
	}
}

// A cloud id names the deployment's https URL; the port is kept unless it
// is 443. The ids are in the form Elastic Cloud shows.
func TestCloudID(t *testing.T) {
	for id, want := range map[string]string{
		// base64 of "us-central1.gcp.cloud.es.io$ac12$kb34"
		"my-deployment:dXMtY2VudHJhbDEuZ2NwLmNsb3VkLmVzLmlvJGFjMTIka2IzNA==": "https://ac12.us-central1.gcp.cloud.es.io",
		// base64 of "eu-west-1.aws.found.io:9243$es99$kb99", padding left off
		"eu:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbzo5MjQzJGVzOTkka2I5OQ": "https://es99.eu-west-1.aws.found.io:9243",
		// base64 of "host.example:443$es1"
		"x:aG9zdC5leGFtcGxlOjQ0MyRlczE=": "https://es1.host.example",
	} {
		got, err := urlFromCloudID(id)
		if err != nil || got != want {
			t.Errorf("urlFromCloudID(%q) = %q, %v; want %q", id, got, err, want)
		}
	}
	for _, bad := range []string{"nocolon", "x:!!!", "x:aG9zdA=="} {
		if got, err := urlFromCloudID(bad); err == nil {
			t.Errorf("urlFromCloudID(%q) = %q, want an error", bad, got)
		}
	}
}

// Dead-letter entries and samples come from the request alone, and a split
// keeps every item once, in order.
func TestSplitAndEntries(t *testing.T) {
	s := newSink(t, Config{URL: "http://127.0.0.1:1"})
	req := s.Encode(fileRecords(4, "s0", "s1", "s2"))
	first, second, ok := s.Split(req)
	if !ok || first.Records() != 1 || second.Records() != 2 || first.Bytes()+second.Bytes() != req.Bytes() {
		t.Fatalf("split %d+%d of %d records", first.Records(), second.Records(), req.Records())
	}
	var got []string
	for _, r := range []*Request{first, second} {
		for _, it := range decodeBulk(t, r.raw, false) {
			got = append(got, it.msg())
		}
	}
	if strings.Join(got, ",") != "s0,s1,s2" {
		t.Errorf("halves carry %q", got)
	}
	if _, _, ok := s.Split(first); ok {
		t.Error("a single item was split")
	}
	if !strings.Contains(req.Sample(), `"message":"s0"`) {
		t.Errorf("sample %q", req.Sample())
	}
	var b strings.Builder
	if err := second.WriteEntries(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var e struct {
		Action   map[string]map[string]string `json:"action"`
		Document map[string]any               `json:"document"`
	}
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &e) != nil || e.Document["message"] != "s2" || e.Action["create"]["_id"] == "" {
		t.Errorf("entries %q", lines)
	}
	for _, r := range []*Request{req, first, second} {
		r.Release()
	}
}

// Within a batch, what is rendered once for a file's shared attributes and
// path is reused only while the next record has the same ones and, for a
// dated index, the same day.
func TestRenderingFollowsEachRecord(t *testing.T) {
	shop := []record.Attr{{Key: "namespace", Value: "shop"}, {Key: "pod", Value: "a"}}
	bank := []record.Attr{{Key: "namespace", Value: "bank"}, {Key: "pod", Value: "b"}}
	day := time.Date(2026, 12, 3, 23, 59, 59, 0, time.UTC)
	recs := []record.Record{
		{Time: day, Body: []byte("1"), Path: "/p/shop", Attrs: shop},
		{Time: day.Add(2 * time.Second), Body: []byte("2"), Path: "/p/shop", Attrs: shop},
		{Time: day.Add(3 * time.Second), Body: []byte("3"), Path: "/p/bank", Attrs: bank},
		{Time: day.Add(4 * time.Second), Body: []byte("4"), Path: "/p/shop", Attrs: shop},
	}
	items := encodeItems(t, Config{Index: "k8s-%{namespace}-%Y.%m.%d"}, recs...)
	want := []struct{ index, pod, path string }{
		{"k8s-shop-2026.12.03", "a", "/p/shop"}, {"k8s-shop-2026.12.04", "a", "/p/shop"},
		{"k8s-bank-2026.12.04", "b", "/p/bank"}, {"k8s-shop-2026.12.04", "a", "/p/shop"},
	}
	for i, w := range want {
		it := items[i]
		if it.index() != w.index || it.Doc["kubernetes.pod.name"] != w.pod || it.Doc["log.file.path"] != w.path {
			t.Errorf("record %d: index %q, pod %v, path %v; want %v", i, it.index(), it.Doc["kubernetes.pod.name"], it.Doc["log.file.path"], w)
		}
	}
}

// The encoder's timestamps are time.RFC3339Nano's, whatever the fraction
// and however the second changes from one record to the next.
func TestAppendTimeIsRFC3339Nano(t *testing.T) {
	var e encoder
	base := time.Date(2026, 12, 4, 3, 59, 59, 0, time.UTC)
	var times []time.Time
	for _, ns := range []int{0, 1, 10, 100_000, 120_000_000, 999_999_999, 500_000_000} {
		times = append(times, base.Add(time.Duration(ns)), base.Add(time.Duration(ns)+time.Second))
	}
	times = append(times,
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		base, base.Add(time.Nanosecond),
	)
	for _, ts := range times {
		want := ts.Format(time.RFC3339Nano)
		if got := string(e.appendTime(nil, ts)); got != want {
			t.Errorf("appendTime(%v) = %s, want %s", ts, got, want)
		}
	}
}

// The fields parse/structured takes out of a line land on Winlogbeat's and
// ECS's names, a JSON line's own fields under json.* (dedotted), and the
// enrichment attributes the records share stay as they are.
func TestParsedFields(t *testing.T) {
	shared := []record.Attr{{Key: "namespace", Value: "shop"}, {Key: "pod", Value: "iis-0"}}
	event := record.Record{Body: []byte("The service entered the running state."), Path: "/var/log/pods/x/0.log",
		Attrs: append(shared[:2:2],
			record.Attr{Key: "windows.logmonitor.source", Value: "EventLog"},
			record.Attr{Key: "windows.event.channel", Value: "System"}, record.Attr{Key: "level", Value: "information"},
			record.Attr{Key: "windows.event.id", Value: "7036"}, record.Attr{Key: "windows.event.provider", Value: "Service Control Manager"},
			record.Attr{Key: "windows.event.provider_guid", Value: "{555908d1}"}, record.Attr{Key: "windows.event.keywords", Value: "0x80"})}
	file := record.Record{Body: []byte("GET /default.aspx 200"), Path: "/var/log/pods/x/0.log",
		Attrs: append(shared[:2:2], record.Attr{Key: "log.file.path", Value: `C:\inetpub\logs\u_ex.log`})}
	app := record.Record{Body: []byte("payment failed"), Path: "/var/log/pods/x/0.log",
		Attrs: append(shared[:2:2], record.Attr{Key: "level", Value: "error"},
			record.Attr{Key: "json.error.type", Value: "IOException"}, record.Attr{Key: "json.status", Value: "502"})}
	items := encodeItems(t, Config{}, event, file, app)
	for i, want := range []map[string]any{
		{"message": "The service entered the running state.", "winlog.channel": "System", "log.level": "information",
			"winlog.event_id": "7036", "winlog.provider_name": "Service Control Manager", "winlog.provider_guid": "{555908d1}",
			"winlog.keywords": "0x80", "labels.windows_logmonitor_source": "EventLog"},
		{"message": "GET /default.aspx 200", "file.path": `C:\inetpub\logs\u_ex.log`, "log.file.path": "/var/log/pods/x/0.log"},
		{"message": "payment failed", "log.level": "error", "json.error_type": "IOException", "json.status": "502"},
	} {
		got := items[i].Doc
		for k, v := range want {
			if gv, ok := got[k]; !ok || !jsonEqual(gv, v) {
				t.Errorf("record %d: %s = %#v, want %#v", i, k, gv, v)
			}
		}
		if got["kubernetes.namespace"] != "shop" || got["kubernetes.pod.name"] != "iis-0" {
			t.Errorf("record %d: enrichment fields %v %v", i, got["kubernetes.namespace"], got["kubernetes.pod.name"])
		}
		for k := range got {
			if strings.HasPrefix(k, "labels.") && k != "labels.windows_logmonitor_source" {
				t.Errorf("record %d: %s landed under labels", i, k)
			}
		}
	}
}

// A released request is reused by the next Encode, and Trim lets the kept
// requests' buffers go when the logs went quiet.
func TestReleasedRequestsAreReusedUntilTrim(t *testing.T) {
	s := newSink(t, Config{URL: "http://127.0.0.1:1"})
	req := s.Encode(fileRecords(4, "s0", "s1"))
	req.Release()
	if next := s.Encode(fileRecords(4, "s2")); next != req {
		t.Error("the next Encode did not reuse the released request")
	}
	req.Release()
	s.Trim()
	if s.free.Len() != 0 {
		t.Errorf("after Trim %d requests are kept", s.free.Len())
	}
	if next := s.Encode(fileRecords(4, "s3")); next == req || next.Records() != 1 {
		t.Errorf("after Trim Encode returned the trimmed request or %d records", next.Records())
	}
}

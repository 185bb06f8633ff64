package plugin

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// keys is an [OUTPUT] section; lookups are case-insensitive as Fluent
// Bit's are.
func keys(kv ...string) Getter {
	return func(k string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if strings.EqualFold(kv[i], k) {
				return kv[i+1]
			}
		}
		return ""
	}
}

const lokiURL = "http://127.0.0.1:3100/loki/api/v1/push"

// An invalid value fails with a message naming its key.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{nil, "sink: missing"},
		{[]string{"sink", "kafka"}, `sink: "kafka" is not loki or elasticsearch`},
		{[]string{"sink", "loki"}, "url: "},
		{[]string{"sink", "loki", "url", "ftp://x"}, "url: "},
		{[]string{"sink", "loki", "url", lokiURL, "batch_size", "lots"}, "batch_size: "},
		{[]string{"sink", "loki", "url", lokiURL, "batch_size", "10"}, "batch_size: 10 is outside"},
		{[]string{"sink", "loki", "url", lokiURL, "timeout", "soon"}, "timeout: "},
		{[]string{"sink", "loki", "url", lokiURL, "encoding", "xml"}, "encoding: "},
		{[]string{"sink", "loki", "url", lokiURL, "static_labels", "job"}, "static_labels: "},
		{[]string{"sink", "loki", "url", lokiURL, "label_keys", "$kubernetes['labels']"}, "label_keys: "},
		{[]string{"sink", "loki", "url", lokiURL, "label_keys", "$a['b']"}, "label_keys: "},
		{[]string{"sink", "loki", "url", lokiURL, "labels", "stream"}, "labels: stream"},
		{[]string{"sink", "loki", "url", lokiURL, "auto_kubernetes_labels", "maybe"}, "auto_kubernetes_labels: "},
		{[]string{"sink", "loki", "url", lokiURL, "line_format", "xml"}, "line_format: "},
		{[]string{"sink", "loki", "url", lokiURL, "remove_keys", "$x['y']"}, "remove_keys: "},
		{[]string{"sink", "loki", "url", lokiURL, "hold_statuses", "503"}, "hold_statuses: "},
		{[]string{"sink", "loki", "url", lokiURL, "http_user", "u"}, "http_user/http_passwd (basic_auth): "},
		{[]string{"sink", "loki", "url", lokiURL, "tls_cert_file", "/c"}, "tls_cert_file/tls_key_file: "},
		{[]string{"sink", "loki", "url", lokiURL, "dead_letter.path", "/x", "dead_letter.max_size", "1"}, "dead_letter.max_size: "},
		{[]string{"sink", "elasticsearch"}, "url: set url or cloud_id"},
		{[]string{"sink", "elasticsearch", "cloud_id", "nocolon"}, "cloud_id: "},
		{[]string{"sink", "elasticsearch", "url", "http://es:9200", "replace_dots", "off"}, "replace_dots: "},
		{[]string{"sink", "elasticsearch", "url", "http://es:9200", "id", "random"}, "id: "},
		{[]string{"sink", "elasticsearch", "url", "http://es:9200", "compression", "zstd"}, "compression: "},
	} {
		_, err := Parse(keys(tc.kv...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want one containing %q", tc.kv, err, tc.want)
		}
	}
}

// Values only the sink can judge fail the instance's start too, named by
// the sink's setting.
func TestNewErrors(t *testing.T) {
	_, err := New("t", keys("sink", "elasticsearch", "url", "http://es:9200", "fields", "pod=message"), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "fields") {
		t.Errorf("a field renamed onto message: %v", err)
	}
}

// Keys land where the daemon's YAML keys of the same name do, and Fluent
// Bit's loki and es names mean what they mean there.
func TestParse(t *testing.T) {
	s, err := Parse(keys("Sink", "Loki", "url", lokiURL, "tenant_id", "7", "timeout", "3",
		"label_keys", "$kubernetes['namespace_name'], $app, $kubernetes['labels']['tier']", "static_labels", "job=fb, env = prod",
		"http_user", "u", "http_passwd", "p", "tls_ca_file", "/ca.pem", "batch_size", "512KiB", "hold_statuses", "none",
		"dead_letter.path", "/var/dead", "auto_kubernetes_labels", "on", "structured_metadata", "$trace_id"))
	if err != nil {
		t.Fatal(err)
	}
	l := s.Loki
	if l.TenantID != "7" || l.Timeout != 3*time.Second || !slices.Equal(l.Labels, []string{"namespace", "app", "label.tier"}) ||
		l.StaticLabels["env"] != "prod" || l.StaticLabels["job"] != "fb" || l.BasicAuth == nil || l.BasicAuth.Password != "p" ||
		l.TLS.CAFile != "/ca.pem" || l.BatchSize != 512<<10 || len(l.HoldStatuses) != 0 || l.HoldStatuses == nil ||
		l.DeadLetter.Path != "/var/dead" {
		t.Errorf("loki settings: %+v", l)
	}
	if !s.Records.autoLabels || !s.Records.promoted["app"] || !s.Records.promoted["trace_id"] || !slices.Equal(s.Records.metadata, []string{"trace_id"}) {
		t.Errorf("mapping: %+v", s.Records)
	}

	s, err = Parse(keys("sink", "elasticsearch", "cloud_id", "prod:ZXMuZXhhbXBsZS5jb20kYWJjJGRlZg==", "logstash_format", "on",
		"logstash_prefix", "k8s", "id_key", "uid", "compression", "gzip", "api_key_file", "/key"))
	if err != nil {
		t.Fatal(err)
	}
	e := s.Elasticsearch
	if e.Index != "k8s-%Y.%m.%d" || e.Compression != "gzip" || e.APIKeyFile != "/key" || s.Records.idKey != "uid" {
		t.Errorf("elasticsearch settings: %+v", e)
	}
}

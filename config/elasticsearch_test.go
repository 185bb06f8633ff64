package config

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestElasticsearchConfig(t *testing.T) {
	cloud := "prod:" + base64.StdEncoding.EncodeToString([]byte("eu-west-1.aws.found.io$abc123$def456"))
	for _, tc := range []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, e *Elasticsearch)
	}{
		{
			name: "defaults: data streams, ids from the source, no compression",
			yaml: "outputs:\n  elasticsearch:\n    url: http://127.0.0.1:9200\n",
			check: func(t *testing.T, e *Elasticsearch) {
				want := DataStream{Type: "logs", Dataset: "kubernetes.container_logs", Namespace: "%{namespace}"}
				if e.DataStream != want || e.ID != "auto" || e.Compression != "none" || e.Timeout != 30*time.Second ||
					e.BatchSize != 1<<20 || e.MaxInFlight != 1 || len(e.HoldStatuses) == 0 {
					t.Fatalf("defaults = %+v", e)
				}
			},
		},
		{
			name: "a dated index, an API key file and a cloud id",
			yaml: "outputs:\n  elasticsearch:\n    cloud_id: " + cloud + "\n    index: 'k8s-%{namespace}-%Y.%m.%d'\n    api_key_file: /etc/sluice/es-key\n    id: none\n    compression: gzip\n",
			check: func(t *testing.T, e *Elasticsearch) {
				if e.CloudID != cloud || e.Index != "k8s-%{namespace}-%Y.%m.%d" || e.APIKeyFile != "/etc/sluice/es-key" || e.ID != "none" {
					t.Fatalf("decoded = %+v", e)
				}
			},
		},
		{
			name:    "no destination",
			yaml:    "outputs:\n  elasticsearch: {}\n",
			wantErr: []string{"outputs.elasticsearch.url: set url or cloud_id"},
		},
		{
			name:    "both destinations, a bad cloud id",
			yaml:    "outputs:\n  elasticsearch:\n    url: http://es:9200\n    cloud_id: nope\n",
			wantErr: []string{"outputs.elasticsearch.cloud_id: set url or cloud_id, not both", "outputs.elasticsearch.cloud_id: is not"},
		},
		{
			name:    "credentials in a URL are refused and not shown",
			yaml:    "outputs:\n  elasticsearch:\n    url: 'https://elastic:hunter2@es:9200'\n",
			wantErr: []string{"outputs.elasticsearch.url:", "credentials in the URL"},
		},
		{
			name: "bad values name their keys",
			yaml: "outputs:\n  elasticsearch:\n    url: ftp://es\n    id: random\n    compression: zstd\n    timeout: 0s\n" +
				"    data_stream: {type: events, namespace: ''}\n    api_key: a\n    api_key_file: b\n    bearer_token_file: c\n    tls: {cert_file: x}\n",
			wantErr: []string{
				`outputs.elasticsearch.url: "ftp://es" is not an http or https URL`,
				`outputs.elasticsearch.id: "random" is not auto or none`,
				`outputs.elasticsearch.compression: "zstd" is not gzip or none`,
				"outputs.elasticsearch.timeout: must be positive",
				`outputs.elasticsearch.data_stream.type: "events" is not`,
				"outputs.elasticsearch.data_stream.namespace: must not be empty",
				"outputs.elasticsearch.api_key: set api_key or api_key_file, not both",
				"outputs.elasticsearch.basic_auth: set one of",
				"outputs.elasticsearch.tls: cert_file and key_file go together",
			},
		},
		{
			name:    "delivery keys are checked under the sink's name",
			yaml:    "outputs:\n  elasticsearch:\n    url: http://es:9200\n    max_in_flight: 0\n",
			wantErr: []string{"outputs.elasticsearch.max_in_flight: 0 is outside 1..64"},
		},
		{
			name:    "an unknown key is an error",
			yaml:    "outputs:\n  elasticsearch:\n    url: http://es:9200\n    indexx: a\n",
			wantErr: []string{"indexx"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c.Outputs.Elasticsearch)
		})
	}
}

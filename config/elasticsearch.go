package config

import (
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"github.com/sluicelog/sluice/internal/redact"
)

// Elasticsearch ships to an Elasticsearch bulk API (Elasticsearch 8/9,
// OpenSearch 2, or any server that speaks it).
type Elasticsearch struct {
	URL         string            `yaml:"url"`      // the cluster's URL; a path is kept as a prefix of /_bulk
	CloudID     string            `yaml:"cloud_id"` // an Elastic Cloud deployment, instead of url
	Index       string            `yaml:"index"`    // a plain or dated index template; empty: data streams
	DataStream  DataStream        `yaml:"data_stream"`
	ID          string            `yaml:"id"` // auto (from the source file and offset) or none
	Pipeline    string            `yaml:"pipeline"`
	Compression string            `yaml:"compression"`  // none or gzip
	Fields      map[string]string `yaml:"fields"`       // attribute → document field renames; "" leaves it out
	ClusterName string            `yaml:"cluster_name"` // orchestrator.cluster.name
	Headers     map[string]string `yaml:"headers"`
	BasicAuth   *BasicAuth        `yaml:"basic_auth"`
	// APIKey and APIKeyFile give Authorization: ApiKey, the base64 "id:key"
	// form; the file is re-read when it changes.
	APIKey          string        `yaml:"api_key"`
	APIKeyFile      string        `yaml:"api_key_file"`
	BearerTokenFile string        `yaml:"bearer_token_file"` // re-read when it changes
	TLS             TLS           `yaml:"tls"`
	Timeout         time.Duration `yaml:"timeout"` // per request
	Delivery        `yaml:",inline"`
}

// DataStream names the data stream "<type>-<dataset>-<namespace>"; dataset
// and namespace are templates over record attributes, such as %{namespace}.
type DataStream struct {
	Type      string `yaml:"type"`
	Dataset   string `yaml:"dataset"`
	Namespace string `yaml:"namespace"`
}

// DefaultElasticsearch is the Elasticsearch output with only its url (or
// cloud_id) to set.
func DefaultElasticsearch() Elasticsearch {
	// batch_size counts log bytes; an ECS document is about seven times its
	// line, so the default 1MiB makes bulk requests of about 7 MB, inside
	// Elasticsearch's advice of 5-15 MB and small enough for the sink to
	// reuse their memory.
	d := DefaultDelivery()
	return Elasticsearch{
		DataStream: DataStream{Type: "logs", Dataset: "kubernetes.container_logs", Namespace: "%{namespace}"},
		ID:         "auto", Compression: "none", Timeout: 30 * time.Second, Delivery: d,
	}
}

func (e *Elasticsearch) validate(bad func(key, format string, args ...any)) {
	const p = "outputs.elasticsearch."
	switch {
	case e.URL == "" && e.CloudID == "":
		bad(p+"url", "set url or cloud_id")
	case e.URL != "" && e.CloudID != "":
		bad(p+"cloud_id", "set url or cloud_id, not both")
	}
	if raw := e.URL; raw != "" {
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(p+"url", "%q is not an http or https URL", redact.URL(raw))
		} else if u.User != nil {
			bad(p+"url", "%q: credentials in the URL would end up in logs; use basic_auth or api_key_file", redact.URL(raw))
		}
	}
	if e.CloudID != "" && !validCloudID(e.CloudID) {
		bad(p+"cloud_id", "is not <name>:<base64 of host$es-id$kibana-id>")
	}
	if e.Index == "" {
		ds := e.DataStream
		for _, kv := range [][2]string{{"type", ds.Type}, {"dataset", ds.Dataset}, {"namespace", ds.Namespace}} {
			if kv[1] == "" {
				bad(p+"data_stream."+kv[0], "must not be empty when index is not set")
			}
		}
		if ds.Type != "" && ds.Type != "logs" && ds.Type != "metrics" && ds.Type != "traces" && ds.Type != "synthetics" {
			bad(p+"data_stream.type", "%q is not logs, metrics, traces or synthetics", ds.Type)
		}
	}
	if e.ID != "auto" && e.ID != "none" {
		bad(p+"id", "%q is not auto or none", e.ID)
	}
	if e.Compression != "gzip" && e.Compression != "none" {
		bad(p+"compression", "%q is not gzip or none", e.Compression)
	}
	auths := 0
	if a := e.BasicAuth; a != nil {
		auths++
		if a.Username == "" || (a.Password == "") == (a.PasswordFile == "") {
			bad(p+"basic_auth", "needs a username and exactly one of password and password_file")
		}
	}
	if e.APIKey != "" && e.APIKeyFile != "" {
		bad(p+"api_key", "set api_key or api_key_file, not both")
	}
	if e.APIKey != "" || e.APIKeyFile != "" {
		auths++
	}
	if e.BearerTokenFile != "" {
		auths++
	}
	if auths > 1 {
		bad(p+"basic_auth", "set one of basic_auth, api_key(_file) and bearer_token_file")
	}
	if (e.TLS.CertFile == "") != (e.TLS.KeyFile == "") {
		bad(p+"tls", "cert_file and key_file go together")
	}
	if e.Timeout <= 0 {
		bad(p+"timeout", "must be positive")
	}
	e.Delivery.validate(strings.TrimSuffix(p, "."), bad)
}

// validCloudID checks the shape Elastic Cloud gives: "name:" then base64 of
// "host$es-uuid[$kibana-uuid]".
func validCloudID(id string) bool {
	_, enc, ok := strings.Cut(id, ":")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return false
	}
	parts := strings.Split(string(raw), "$")
	return len(parts) >= 2 && parts[0] != "" && parts[1] != ""
}

// Validate reports every invalid value of an Elasticsearch output on its
// own, each named by its key within the output (see Loki.Validate).
func (e *Elasticsearch) Validate() error {
	return sinkErrors("outputs.elasticsearch.", e.validate)
}

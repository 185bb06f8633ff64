package plugin

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sluicelog/sluice/config"
)

// Sink names.
const (
	sinkLoki          = "loki"
	sinkElasticsearch = "elasticsearch"
)

// Settings is one [OUTPUT] instance's configuration, read once at init.
type Settings struct {
	Sink          string // "loki" or "elasticsearch"
	Loki          *config.Loki
	Elasticsearch *config.Elasticsearch
	Records       Mapping
}

// delivery is the delivery settings of the chosen sink.
func (s *Settings) delivery() *config.Delivery {
	if s.Loki != nil {
		return &s.Loki.Delivery
	}
	return &s.Elasticsearch.Delivery
}

// Parse reads an instance's keys; the error names every key with an invalid
// value. Keys are the daemon's YAML names in snake_case, dotted below a
// section (dead_letter.path), plus the names of Fluent Bit's own loki and
// es outputs where they mean the same. Fluent Bit keeps tls.* for itself,
// so the TLS keys are tls_ca_file and the like.
func Parse(get Getter) (*Settings, error) {
	k := &keyReader{get: get}
	s := &Settings{}
	sink := strings.ToLower(strings.TrimSpace(get("sink")))
	switch sink {
	case sinkLoki:
		l := config.DefaultLoki()
		s.Loki = &l
	case sinkElasticsearch:
		e := config.DefaultElasticsearch()
		s.Elasticsearch = &e
	case "":
		return nil, errors.New("sink: missing; set sink loki or sink elasticsearch")
	default:
		return nil, fmt.Errorf("sink: %q is not loki or elasticsearch", sink)
	}
	s.Sink = sink
	s.Records = readMapping(k)
	readDelivery(k, s.delivery())
	var err error
	if s.Loki != nil {
		readLoki(k, s.Loki, &s.Records)
		// Attribute names such as label.app are valid label keys: the
		// sink makes label_app of them. The YAML check wants label names.
		labels := s.Loki.Labels
		s.Loki.Labels = make([]string, len(labels))
		for i, l := range labels {
			s.Loki.Labels[i] = labelChars.ReplaceAllString(l, "_")
		}
		err = s.Loki.Validate()
		s.Loki.Labels = labels
	} else {
		readElasticsearch(k, s.Elasticsearch, &s.Records)
		err = s.Elasticsearch.Validate()
	}
	if kerr := k.err(); kerr != nil {
		return nil, kerr // a key that did not parse also leaves its default behind
	}
	return s, pluginKeys(err)
}

var labelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// pluginKeys renames the YAML sections the plugin spells differently in
// validation errors: basic_auth and tls.
func pluginKeys(err error) error {
	if err == nil {
		return nil
	}
	r := strings.NewReplacer("basic_auth:", "http_user/http_passwd (basic_auth):",
		"tls:", "tls_cert_file/tls_key_file:")
	return errors.New(r.Replace(err.Error()))
}

// readDelivery reads the keys of a delivery that mean something to a
// plugin: how a chunk is cut into requests, which statuses hold, and the
// dead-letter file. Backoff and concurrency are Fluent Bit's (Retry_Limit,
// Workers).
func readDelivery(k *keyReader, d *config.Delivery) {
	k.size("batch_size", &d.BatchSize)
	k.integer("batch_max_records", &d.BatchMaxRecords)
	if hs, set := k.list("hold_statuses"); set {
		d.HoldStatuses = hs
	}
	if v := strings.TrimSpace(k.get("hold_statuses")); v == "none" {
		d.HoldStatuses = []string{}
	}
	k.str("dead_letter.path", &d.DeadLetter.Path)
	k.size("dead_letter.max_size", &d.DeadLetter.MaxSize)
}

// readHTTP reads what every HTTP sink takes: address, timeout, headers,
// credentials and TLS.
func readHTTP(k *keyReader, url *string, timeout *time.Duration, headers *map[string]string, auth **config.BasicAuth, bearer *string, tls *config.TLS) {
	k.str("url", url)
	k.duration("timeout", timeout)
	if h, set := k.pairs("headers"); set {
		*headers = h
	}
	var a config.BasicAuth
	k.str("http_user", &a.Username)
	k.str("basic_auth.username", &a.Username)
	k.str("http_passwd", &a.Password)
	k.str("basic_auth.password", &a.Password)
	k.str("basic_auth.password_file", &a.PasswordFile)
	if a != (config.BasicAuth{}) {
		*auth = &a
	}
	k.str("bearer_token_file", bearer)
	k.str("tls_ca_file", &tls.CAFile)
	k.str("tls_cert_file", &tls.CertFile)
	k.str("tls_key_file", &tls.KeyFile)
	k.str("tls_server_name", &tls.ServerName)
	k.boolean("tls_insecure_skip_verify", &tls.InsecureSkipVerify)
}

func readLoki(k *keyReader, l *config.Loki, m *Mapping) {
	readHTTP(k, &l.URL, &l.Timeout, &l.Headers, &l.BasicAuth, &l.BearerTokenFile, &l.TLS)
	k.str("tenant_id", &l.TenantID)
	k.oneOf("encoding", &l.Encoding, "protobuf", "json")
	k.oneOf("structured_metadata_fallback", &l.StructuredMetadataFallback, "line", "drop")
	if st, set := k.pairs("static_labels"); set {
		l.StaticLabels = st
	}
	if ls, set := k.list("labels"); set {
		l.Labels = ls
	}
	if acc, set := k.list("label_keys"); set {
		if _, own := k.list("labels"); !own {
			l.Labels = nil // label_keys alone replaces the default labels
		}
		for _, a := range acc {
			name, err := m.accessor(a)
			if err != nil {
				k.bad("label_keys", "%v", err)
				continue
			}
			if !slices.Contains(l.Labels, name) {
				l.Labels = append(l.Labels, name)
			}
		}
	}
	if slices.Contains(l.Labels, "stream") {
		k.bad("labels", "stream is sent as structured metadata, it cannot be a label")
	}
	k.boolean("auto_kubernetes_labels", &m.autoLabels)
}

func readElasticsearch(k *keyReader, e *config.Elasticsearch, m *Mapping) {
	readHTTP(k, &e.URL, &e.Timeout, &e.Headers, &e.BasicAuth, &e.BearerTokenFile, &e.TLS)
	k.str("cloud_id", &e.CloudID)
	k.str("index", &e.Index)
	logstash := false
	k.boolean("logstash_format", &logstash)
	if logstash {
		prefix, format := "logstash", "%Y.%m.%d"
		k.str("logstash_prefix", &prefix)
		k.str("logstash_dateformat", &format)
		e.Index = prefix + "-" + format
	}
	k.str("data_stream.type", &e.DataStream.Type)
	k.str("data_stream.dataset", &e.DataStream.Dataset)
	k.str("data_stream.namespace", &e.DataStream.Namespace)
	k.oneOf("id", &e.ID, "auto", "none")
	k.str("id_key", &m.idKey)
	k.str("pipeline", &e.Pipeline)
	k.oneOf("compression", &e.Compression, "none", "gzip")
	if f, set := k.pairs("fields"); set {
		e.Fields = f
	}
	k.str("cluster_name", &e.ClusterName)
	k.str("api_key", &e.APIKey)
	k.str("api_key_file", &e.APIKeyFile)
	dots := true
	k.boolean("replace_dots", &dots)
	if !dots {
		k.bad("replace_dots", "off is not supported: field names from record keys always have their dots replaced by _, "+
			"so that a.b and a never clash")
	}
}

package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicelog/sluice/internal/redact"
	"github.com/sluicelog/sluice/outputs"
)

// Outputs lists the configured sinks; a nil entry is not configured.
type Outputs struct {
	Stdout        *Stdout        `yaml:"stdout"`
	Loki          *Loki          `yaml:"loki"`
	Elasticsearch *Elasticsearch `yaml:"elasticsearch"`
}

// Stdout writes one JSON object per record to standard output.
type Stdout struct {
	Path     string `yaml:"path"` // write here instead of standard output when set
	Delivery `yaml:",inline"`
}

// Loki ships to a Loki push API (Loki itself, or any server that speaks it).
type Loki struct {
	URL             string            `yaml:"url"`      // the full push URL
	Encoding        string            `yaml:"encoding"` // protobuf or json
	TenantID        string            `yaml:"tenant_id"`
	Labels          []string          `yaml:"labels"`        // record fields that become stream labels
	StaticLabels    map[string]string `yaml:"static_labels"` // added to every stream
	Headers         map[string]string `yaml:"headers"`
	BasicAuth       *BasicAuth        `yaml:"basic_auth"`
	BearerTokenFile string            `yaml:"bearer_token_file"` // re-read when it changes
	TLS             TLS               `yaml:"tls"`
	Timeout         time.Duration     `yaml:"timeout"` // per request
	// StructuredMetadataFallback is where the fields that go to structured
	// metadata (non-label attrs, filename, stream, flags) go once the server
	// refused structured metadata (Loki before 3.0, schema before v13):
	// "line" (default) appends them to the line as logfmt " key=value"
	// pairs, "drop" leaves them out. sluice switches once, with a warning.
	StructuredMetadataFallback string `yaml:"structured_metadata_fallback"`
	Delivery                   `yaml:",inline"`
}

// BasicAuth is a username and a password, the password best from a file.
type BasicAuth struct {
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// TLS configures how a sink verifies its server and proves itself.
type TLS struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Delivery is how any sink batches, parallelises and retries.
type Delivery struct {
	BatchSize       ByteSize      `yaml:"batch_size"`        // body bytes per request
	BatchMaxRecords int           `yaml:"batch_max_records"` // records per request
	BatchWait       time.Duration `yaml:"batch_wait"`        // how long a record waits for a fuller batch
	MaxInFlight     int           `yaml:"max_in_flight"`
	MinBackoff      time.Duration `yaml:"min_backoff"`
	MaxBackoff      time.Duration `yaml:"max_backoff"`
	DeadLetter      DeadLetter    `yaml:"dead_letter"`
	// HoldStatuses lists the HTTP statuses, as codes (401) or classes
	// ("3xx"), from 300 to 499, that mean sluice or the server is
	// misconfigured rather than the records bad: such a request is not
	// dead-lettered but retried with backoff (the buffer keeps its records
	// and applies on_full), logged at ERROR and shown on /readyz as
	// degraded until a request is accepted. Other 4xx are rejected to the
	// dead-letter file (413 first splits the request); 408, 429 and 5xx are
	// always retried; a 413 listed here is held, not split. Default:
	// ["3xx", 401, 403, 404]; [] holds nothing.
	HoldStatuses []string `yaml:"hold_statuses"`
}

// DeadLetter is where permanently rejected records are written.
type DeadLetter struct {
	Path    string   `yaml:"path"` // empty: rejected records are only counted and logged
	MaxSize ByteSize `yaml:"max_size"`
}

// DefaultDelivery is the delivery of a sink whose keys are left out.
func DefaultDelivery() Delivery {
	return Delivery{
		BatchSize: 1 << 20, BatchMaxRecords: 10000, BatchWait: time.Second, MaxInFlight: 1,
		MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second,
		DeadLetter: DeadLetter{MaxSize: 100 << 20}, HoldStatuses: outputs.DefaultHoldStatuses(),
	}
}

// DefaultLoki is the Loki output with only its url to set.
func DefaultLoki() Loki {
	return Loki{
		Encoding: "protobuf", Labels: []string{"namespace", "pod", "container"}, StructuredMetadataFallback: "line",
		StaticLabels: map[string]string{"job": "sluice"}, Timeout: 10 * time.Second,
		Delivery: DefaultDelivery(),
	}
}

// presetOutputs gives each sink named in the file its defaults before the
// strict decode fills in what the file says: decoding into a non-nil
// pointer keeps the fields the file leaves out.
func presetOutputs(root *yaml.Node, c *Config) {
	var probe struct {
		Outputs map[string]yaml.Node `yaml:"outputs"`
	}
	if root.Decode(&probe) != nil {
		return // the strict decode reports it
	}
	if n, ok := probe.Outputs["loki"]; ok {
		l := DefaultLoki()
		// A map decodes by merging into what is there: start static_labels
		// empty when the file sets them, so the file can drop job.
		var keys map[string]yaml.Node
		if n.Decode(&keys) == nil {
			if _, set := keys["static_labels"]; set {
				l.StaticLabels = nil
			}
		}
		c.Outputs.Loki = &l
	}
	if _, ok := probe.Outputs["elasticsearch"]; ok {
		e := DefaultElasticsearch()
		c.Outputs.Elasticsearch = &e
	}
	if _, ok := probe.Outputs["stdout"]; ok {
		d := DefaultDelivery()
		d.BatchWait = 0 // a local write gains nothing from waiting for more
		c.Outputs.Stdout = &Stdout{Delivery: d}
	}
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (o *Outputs) validate(bad func(key, format string, args ...any)) {
	if o.Stdout == nil && o.Loki == nil && o.Elasticsearch == nil {
		bad("outputs", "no output is configured")
	}
	if o.Stdout != nil {
		o.Stdout.Delivery.validate("outputs.stdout", bad)
	}
	if l := o.Loki; l != nil {
		l.validate(bad)
	}
	if e := o.Elasticsearch; e != nil {
		e.validate(bad)
	}
}

func (l *Loki) validate(bad func(key, format string, args ...any)) {
	if u, err := url.Parse(l.URL); l.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("outputs.loki.url", "%q is not an http or https URL", redact.URL(l.URL))
	}
	if l.Encoding != "protobuf" && l.Encoding != "json" {
		bad("outputs.loki.encoding", "%q is not protobuf or json", l.Encoding)
	}
	for _, n := range l.Labels {
		if !labelName.MatchString(n) {
			bad("outputs.loki.labels", "%q is not a valid label name", n)
		}
	}
	for n := range l.StaticLabels {
		if !labelName.MatchString(n) {
			bad("outputs.loki.static_labels", "%q is not a valid label name", n)
		}
	}
	if len(l.Labels) == 0 && len(l.StaticLabels) == 0 {
		bad("outputs.loki.labels", "a stream needs at least one label: set labels or static_labels")
	}
	if a := l.BasicAuth; a != nil && (a.Username == "" || (a.Password == "") == (a.PasswordFile == "")) {
		bad("outputs.loki.basic_auth", "needs a username and exactly one of password and password_file")
	}
	if l.BasicAuth != nil && l.BearerTokenFile != "" {
		bad("outputs.loki.bearer_token_file", "set either basic_auth or bearer_token_file, not both")
	}
	if (l.TLS.CertFile == "") != (l.TLS.KeyFile == "") {
		bad("outputs.loki.tls", "cert_file and key_file go together")
	}
	if l.Timeout <= 0 {
		bad("outputs.loki.timeout", "must be positive")
	}
	if f := l.StructuredMetadataFallback; f != "line" && f != "drop" {
		bad("outputs.loki.structured_metadata_fallback", "%q is not line or drop", f)
	}
	l.Delivery.validate("outputs.loki", bad)
}

func (d *Delivery) validate(prefix string, bad func(key, format string, args ...any)) {
	key := func(k string) string { return fmt.Sprintf("%s.%s", prefix, k) }
	if d.BatchSize < 1<<10 || d.BatchSize > 64<<20 {
		bad(key("batch_size"), "%d is outside 1KiB..64MiB", d.BatchSize)
	}
	if d.BatchMaxRecords <= 0 {
		bad(key("batch_max_records"), "must be positive")
	}
	if d.BatchWait < 0 {
		bad(key("batch_wait"), "must not be negative")
	}
	if d.MaxInFlight < 1 || d.MaxInFlight > 64 {
		bad(key("max_in_flight"), "%d is outside 1..64", d.MaxInFlight)
	}
	if d.MinBackoff <= 0 {
		bad(key("min_backoff"), "must be positive")
	}
	if d.MaxBackoff < d.MinBackoff {
		bad(key("max_backoff"), "%v is below min_backoff %v", d.MaxBackoff, d.MinBackoff)
	}
	if _, err := outputs.ParseStatusSet(d.HoldStatuses); err != nil {
		bad(key("hold_statuses"), "%v", err)
	}
	if d.DeadLetter.Path != "" && d.DeadLetter.MaxSize < 1<<10 {
		bad(key("dead_letter.max_size"), "%d is below the minimum of 1KiB", d.DeadLetter.MaxSize)
	}
}

// Validate reports every invalid value of a Loki output on its own, each
// named by its key within the output ("url", "tls", "batch_size"): the
// form the Fluent Bit plugin's keys take.
func (l *Loki) Validate() error {
	return sinkErrors("outputs.loki.", l.validate)
}

// sinkErrors runs a sink's validate and names each error by its key within
// the sink.
func sinkErrors(prefix string, validate func(bad func(key, format string, args ...any))) error {
	var errs []error
	validate(func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", strings.TrimPrefix(key, prefix), fmt.Sprintf(format, args...)))
	})
	return errors.Join(errs...)
}

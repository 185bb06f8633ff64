// Package loki sends records to a Grafana Loki push API, or to any server that
// speaks it (VictoriaLogs serves it at /insert/loki/api/v1/push), as
// snappy-compressed protobuf or gzip-compressed JSON.
//
// What is a label and what is not: the stream labels of a record are
// Config.StaticLabels plus the record's attrs whose keys are in Config.Labels.
// Everything else about a record is structured metadata on its entry: its
// other attrs, its file path ("filename"), its "stream" (stdout or stderr)
// and its "flags". High-cardinality values therefore never create streams.
//
// Guarantees: entries of one stream within one request are sorted by time,
// stably, so records of one file that share a time keep their file order.
// Encode never fails and never drops a record: a record without a usable time
// gets the time of the encoding. Send makes exactly one attempt and classifies
// it (two when the first tells that the server refuses structured metadata,
// see below); retrying is the runner's job (outputs.Runner), never the
// sink's.
//
// A server that refuses structured metadata (Loki before 3.0, a schema
// before v13, allow_structured_metadata off) is recognised by its 400 text:
// the sink warns once, then puts those fields at the end of the line as
// logfmt " key=value" pairs, or drops them, as Config.StructuredMetadataFallback
// says, for the refused request and every later one. A 413 is split by the
// runner (the sink implements outputs.Splitter by reading its body back).
// The client never follows a redirect; URLs in errors and logs have their
// query values redacted.
//
// Known limitations:
//   - Loki answers 400 when it refused some entries of a push, even though it
//     stored the others; the whole request is then counted as rejected and
//     dead-lettered, the stored entries included.
//   - The switch to the metadata fallback lasts until a restart, even if the
//     server starts accepting structured metadata.
//   - A split request is cut by entry count, not by size: a request with one
//     huge entry among small ones takes a few more halvings.
//   - The CA file, the client certificate, the password file and the bearer
//     token file are read again when they change (checked at most once a
//     second); a new CA or certificate is used by new connections, while
//     open keep-alive connections stay as they were verified.
//   - The reason of a 400 is guessed from Loki's error text, which is not a
//     stable API: an unknown text gives "status_400".
package loki

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/internal/redact"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/internal/httpsink"
)

// Config says where and how to push; the daemon maps its YAML onto it and the
// Fluent Bit plugin its key/value settings, hence plain Go types only.
type Config struct {
	URL      string   // full push URL, such as http://loki:3100/loki/api/v1/push
	Encoding string   // "protobuf" (default) or "json"
	TenantID string   // sent as X-Scope-OrgID when not empty
	Labels   []string // attr keys promoted to stream labels; nil: namespace, pod, container; empty: none
	// LabelPrefixes promote every attr whose key starts with one of them to
	// a label named by the rest of the key ("label." makes label.app the
	// label app): the Fluent Bit plugin's auto_kubernetes_labels. A name
	// that Labels or StaticLabels already give stays structured metadata.
	LabelPrefixes []string
	StaticLabels  map[string]string // labels added to every stream
	Headers       map[string]string // extra request headers; the tenant and auth settings win over them

	Username     string // basic auth user
	Password     string // basic auth password, or
	PasswordFile string // a file holding it, read again when it changes

	BearerToken     string // Authorization: Bearer token, or
	BearerTokenFile string // a file holding it, read again when it changes

	// StructuredMetadataFallback is where structured metadata goes once the
	// server refused it: "line" (default) appends it to the line as logfmt
	// " key=value" pairs, "drop" leaves it out.
	StructuredMetadataFallback string

	TLS     TLSConfig     // for https URLs
	Timeout time.Duration // per request; 0 means 10s
	Logger  *slog.Logger  // nil discards
}

// TLSConfig configures HTTPS; the zero value verifies the server against the
// system's roots and sends no client certificate.
type TLSConfig = httpsink.TLSConfig

const (
	defaultTimeout  = 10 * time.Second
	maxResponseBody = 64 << 10
)

// Sink pushes records to one Loki push URL. Its methods are safe for
// concurrent use.
type Sink struct {
	url     string
	shown   string // url with query values redacted, for errors and logs
	json    bool
	tenant  string
	http    *httpsink.Client
	timeout time.Duration
	log     *slog.Logger
	labels  *labelSet

	fallback   fallback
	noMetadata atomic.Bool // the server refused structured metadata

	encMu sync.Mutex
	enc   *encoder
	free  outputs.FreeList[*Request]
}

var (
	_ outputs.Sink[*Request] = (*Sink)(nil)
	_ outputs.Request        = (*Request)(nil)
)

// New checks c and returns a sink for it. Files named in c must be readable
// now: a typo should stop the start, not the first push.
func New(c Config) (*Sink, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := checkURL(c.URL)
	if err != nil {
		return nil, err
	}
	s := &Sink{url: u.String(), tenant: c.TenantID, log: log, free: outputs.NewFreeList[*Request](outputs.KeptRequests)}
	s.shown = redact.URL(s.url)
	if s.json, err = parseEncoding(c.Encoding); err != nil {
		return nil, err
	}
	if s.fallback, err = parseFallback(c.StructuredMetadataFallback); err != nil {
		return nil, err
	}
	if s.timeout = c.Timeout; s.timeout == 0 {
		s.timeout = defaultTimeout
	} else if s.timeout < 0 {
		return nil, fmt.Errorf("loki timeout %v: must not be negative", c.Timeout)
	}
	if s.labels, err = newLabelSet(c.Labels, c.StaticLabels, log); err != nil {
		return nil, err
	}
	if err = s.labels.setPrefixes(c.LabelPrefixes); err != nil {
		return nil, err
	}
	s.http, err = httpsink.New(httpsink.Options{
		Sink: "loki", URL: u, Headers: c.Headers, OwnHeaders: ownHeaders, TLS: c.TLS, Log: log,
		Auth: httpsink.AuthConfig{
			Username: c.Username, Password: c.Password, PasswordFile: c.PasswordFile,
			BearerToken: c.BearerToken, BearerTokenFile: c.BearerTokenFile,
		},
	})
	if err != nil {
		return nil, err
	}
	s.enc = newEncoder(s.labels)
	return s, nil
}

// Close closes idle connections; requests in flight finish first.
func (s *Sink) Close() { s.http.Close() }

func checkURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("loki url: missing; give the full push URL, such as http://loki:3100/loki/api/v1/push")
	}
	return httpsink.CheckURL("loki", raw)
}

func parseEncoding(e string) (json bool, err error) {
	switch strings.ToLower(e) {
	case "", "protobuf":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fmt.Errorf("loki encoding %q: must be protobuf or json", e)
}

// ownHeaders are set by the sink for every request; letting Headers change
// them would make the body unreadable to the server.
var ownHeaders = []string{"Content-Type", "Content-Encoding", "Content-Length"}

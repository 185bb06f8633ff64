package elasticsearch

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/klauspost/compress/gzip"

	"github.com/sluicelog/sluice/internal/jsontext"
	"github.com/sluicelog/sluice/internal/redact"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/internal/httpsink"
	"github.com/sluicelog/sluice/record"
)

const (
	defaultTimeout   = 30 * time.Second
	defaultDSType    = "logs"
	defaultDataset   = "kubernetes.container_logs"
	defaultNamespace = "%{namespace}"
)

// ownHeaders are set by the sink for every request; letting Headers change
// them would make the body unreadable to the server.
var ownHeaders = []string{"Content-Type", "Content-Encoding", "Content-Length"}

// Sink sends records to one bulk API. Its methods are safe for concurrent
// use.
type Sink struct {
	shown    string // the URL with secrets redacted, for errors and logs
	http     *httpsink.Client
	tp       *elastictransport.Client
	pipeline string
	ids      bool
	gzip     bool
	timeout  time.Duration
	gzPool   sync.Pool // *gzip.Writer

	encMu sync.Mutex
	enc   *encoder
	free  outputs.FreeList[*Request]
}

// New checks c and returns a sink for it. Files named in c must be readable
// now: a typo should stop the start, not the first request.
func New(c Config) (*Sink, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	raw, err := baseURL(c.URL, c.CloudID)
	if err != nil {
		return nil, err
	}
	u, err := httpsink.CheckURL("elasticsearch", raw)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" {
		return nil, fmt.Errorf("elasticsearch url %q: a query is not sent (VictoriaLogs' settings go in headers: VL-Msg-Field, ...)", redact.URL(raw))
	}
	s := &Sink{shown: redact.URL(u.String()), pipeline: c.Pipeline, free: outputs.NewFreeList[*Request](outputs.KeptRequests)}
	if s.timeout = c.Timeout; s.timeout == 0 {
		s.timeout = defaultTimeout
	} else if s.timeout < 0 {
		return nil, fmt.Errorf("elasticsearch timeout %v: must not be negative", c.Timeout)
	}
	switch strings.ToLower(c.ID) {
	case "", "auto":
		s.ids = true
	case "none":
		if c.IDKey != "" {
			return nil, fmt.Errorf("elasticsearch id_key %q: needs id auto, not none", c.IDKey)
		}
	default:
		return nil, fmt.Errorf("elasticsearch id %q: must be auto or none", c.ID)
	}
	switch strings.ToLower(c.Compression) {
	case "gzip":
		s.gzip = true
	case "", "none":
	default:
		return nil, fmt.Errorf("elasticsearch compression %q: must be none or gzip", c.Compression)
	}
	t, err := newTarget(c)
	if err != nil {
		return nil, err
	}
	names, err := newFieldNamer(c.Fields)
	if err != nil {
		return nil, err
	}
	s.http, err = httpsink.New(httpsink.Options{
		Sink: "elasticsearch", URL: u, Headers: c.Headers, OwnHeaders: ownHeaders, Auth: c.Auth, TLS: c.TLS, Log: log,
	})
	if err != nil {
		return nil, err
	}
	// The transport's own retries are off: the runner retries, with the
	// buffer behind it. Its RoundTripper does not follow redirects, and
	// there is no product check, so OpenSearch and VictoriaLogs work.
	s.tp, err = elastictransport.New(elastictransport.Config{
		URLs: []*url.URL{u}, Transport: s.http.Transport, DisableRetry: true, UserAgent: "sluice",
	})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch transport: %w", err)
	}
	s.enc = &encoder{t: t, names: names, ids: s.ids, idKey: c.IDKey}
	if c.ClusterName != "" {
		s.enc.cluster = string(jsontext.AppendString(nil, c.ClusterName))
	}
	return s, nil
}

// Close closes idle connections; requests in flight finish first.
func (s *Sink) Close() { s.http.Close() }

// Encode implements outputs.Sink: the records as bulk items, in their order,
// into a buffer the request owns.
func (s *Sink) Encode(recs []record.Record) *Request {
	e := s.enc
	// Encode is called by one goroutine at a time; should a caller break
	// that rule, it gets a fresh encoder instead of a data race.
	if !s.encMu.TryLock() {
		e = &encoder{t: e.t, names: &fieldNamer{rename: e.names.rename, cache: map[string]string{}}, ids: e.ids, idKey: e.idKey, cluster: e.cluster}
	} else {
		defer s.encMu.Unlock()
	}
	req := s.newRequest()
	e.forget()
	defer e.forget()
	now := time.Now()
	for i := range recs {
		r := &recs[i]
		req.raw = e.appendItem(req.raw, r, now)
		req.ends = append(req.ends, len(req.raw))
		req.sizes = append(req.sizes, len(r.Body))
		req.bytes += len(r.Body)
	}
	return req
}

// baseURL is the URL given, or the one cloud_id names.
func baseURL(raw, cloudID string) (string, error) {
	switch {
	case raw != "" && cloudID != "":
		return "", errors.New("elasticsearch: give url or cloud_id, not both")
	case cloudID != "":
		return urlFromCloudID(cloudID)
	case raw == "":
		return "", errors.New("elasticsearch url: missing; give the cluster's URL, such as https://es:9200, or cloud_id")
	}
	return raw, nil
}

// urlFromCloudID decodes an Elastic Cloud id, "<name>:<base64>", whose
// decoded part is "<host[:port]>$<es uuid>$<kibana uuid>": the cluster is at
// https://<es uuid>.<host>[:port].
func urlFromCloudID(id string) (string, error) {
	_, enc, ok := strings.Cut(id, ":")
	if !ok {
		return "", errors.New("elasticsearch cloud_id: want <name>:<base64>")
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		if dec, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(enc, "=")); err != nil {
			return "", fmt.Errorf("elasticsearch cloud_id: decode: %w", err)
		}
	}
	parts := strings.Split(string(dec), "$")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", errors.New("elasticsearch cloud_id: want <host>$<elasticsearch id>[$<kibana id>] inside")
	}
	host, port := parts[0], ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		host, port = h, p
	}
	u := "https://" + parts[1] + "." + host
	if port != "" && port != "443" {
		u += ":" + port
	}
	return u, nil
}

// newTarget parses where documents go.
func newTarget(c Config) (*target, error) {
	t := &target{}
	if c.Index != "" {
		if c.DataStreamType != "" || c.DataStreamDataset != "" || c.DataStreamNamespace != "" {
			return nil, errors.New("elasticsearch: give index or the data stream settings, not both")
		}
		idx, err := parseTemplate(c.Index, "")
		if err != nil {
			return nil, fmt.Errorf("elasticsearch index: %w", err)
		}
		t.index = idx
		if idx.static() {
			asIs := idx.appendTo(nil, &record.Record{}, time.Time{}, func(d []byte, s string) []byte { return append(d, s...) })
			name := finishIndex(idx.appendTo(nil, &record.Record{}, time.Time{}, cleanIndex), 0)
			if string(name) != string(asIs) {
				return nil, fmt.Errorf("elasticsearch index %q: not a valid index name; %q would be", c.Index, name)
			}
			t.staticName = string(name)
		}
		return t, nil
	}
	t.stream = true
	typ := c.DataStreamType
	if typ == "" {
		typ = defaultDSType
	}
	if clean := string(cleanPart(nil, typ)); clean != typ || len(typ) > maxPart {
		return nil, fmt.Errorf("elasticsearch data_stream type %q: lowercase letters, digits, \".\" and \"_\" only", typ)
	}
	t.dsType = typ
	var err error
	if t.dataset, err = parseTemplate(or(c.DataStreamDataset, defaultDataset), "generic"); err != nil {
		return nil, fmt.Errorf("elasticsearch data_stream dataset: %w", err)
	}
	if t.namespace, err = parseTemplate(or(c.DataStreamNamespace, defaultNamespace), "default"); err != nil {
		return nil, fmt.Errorf("elasticsearch data_stream namespace: %w", err)
	}
	if t.dataset.static() && t.namespace.static() {
		e := &encoder{t: t}
		e.target(&record.Record{}, time.Time{})
		t.staticName, t.staticDS, t.staticNS = string(e.name), string(e.ds), string(e.ns)
	}
	return t, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// compress returns req's body as sent: gzip-compressed once, at its first
// send, when the sink compresses.
func (s *Sink) compress(req *Request) []byte {
	if !s.gzip {
		return req.raw
	}
	if !req.wired {
		w := &sliceWriter{b: req.wire[:0]}
		gz, _ := s.gzPool.Get().(*gzip.Writer)
		if gz == nil {
			gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
		} else {
			gz.Reset(w)
		}
		// Writes to a slice cannot fail.
		_, _ = gz.Write(req.raw)
		_ = gz.Close()
		s.gzPool.Put(gz)
		req.wire, req.wired = w.b, true
	}
	return req.wire
}

// sliceWriter lets the gzip writer append to a request's buffer.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

package elasticsearch

import (
	"log/slog"
	"time"

	"github.com/sluicelog/sluice/outputs/internal/httpsink"
)

// Config says where and how to send; the daemon maps its YAML onto it and the
// Fluent Bit plugin its key/value settings, hence plain Go types only.
type Config struct {
	// URL is the cluster's URL, such as https://es:9200 (a load balancer
	// or one node); a path is kept as a prefix of /_bulk (VictoriaLogs
	// serves the bulk API at http://vl:9428/insert/elasticsearch). Give URL
	// or CloudID.
	URL string
	// CloudID is an Elastic Cloud deployment's id ("name:base64"); it
	// names the deployment's https URL, instead of URL.
	CloudID string

	// Index is where documents go when they do not go to a data stream: a
	// name or a template such as "k8s-%{namespace}-%Y.%m.%d", where
	// %{key} is a record attribute (namespace, pod, container, label.app,
	// ...) and %Y, %m, %d are the record's UTC date. Empty (the default)
	// sends to data streams.
	Index string
	// DataStreamType, DataStreamDataset and DataStreamNamespace name the
	// data stream "<type>-<dataset>-<namespace>"; dataset and namespace
	// are templates as Index is. Defaults: "logs", "kubernetes.container_logs"
	// and "%{namespace}" (a record without one goes to "default").
	DataStreamType      string
	DataStreamDataset   string
	DataStreamNamespace string

	// ID is how documents get their _id: "auto" (the default) derives it
	// from the record's source file (device and inode), offset, time and
	// body, so a replayed record is refused as a duplicate instead of
	// stored twice; "none" lets the server pick one (a replay then stores
	// a second copy).
	ID string
	// IDKey names an attribute whose value is the document's _id, for
	// records that have it (the Fluent Bit plugin's id_key); the others get
	// the "auto" id. It needs ID "auto".
	IDKey string
	// Pipeline is the ingest pipeline to run the documents through; empty
	// runs the index's default.
	Pipeline string
	// Compression is "none" (the default) or "gzip". ECS documents repeat
	// every field per record, so gzip shrinks a request about 19 times, for
	// about three times the CPU of encoding it (see bench_test.go).
	Compression string
	// Fields renames the document fields attributes become: attribute key
	// → field, such as {"pod": "k8s.pod"}; "" leaves the attribute out.
	// Unrenamed attributes get their ECS field (see package doc); the rest
	// go under "labels.", dots in their keys replaced by "_".
	Fields map[string]string
	// ClusterName is sent as orchestrator.cluster.name when not empty.
	ClusterName string
	// Headers are extra request headers; the auth settings win over them.
	Headers map[string]string

	// Auth is the credentials: Username with Password or PasswordFile
	// (basic), BearerToken or BearerTokenFile, or APIKey or APIKeyFile
	// (sent as "Authorization: ApiKey <key>", the base64 "id:key" form
	// Kibana shows); at most one kind. Files are read again when they
	// change.
	Auth AuthConfig

	TLS     TLSConfig     // for https URLs
	Timeout time.Duration // per request; 0 means 30s
	Logger  *slog.Logger  // nil discards
}

// TLSConfig configures HTTPS; the zero value verifies the server against the
// system's roots and sends no client certificate.
type TLSConfig = httpsink.TLSConfig

// AuthConfig is the credentials of the sink; at most one kind is given.
type AuthConfig = httpsink.AuthConfig

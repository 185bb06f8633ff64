// Package elasticsearch sends records to an Elasticsearch bulk API, or to any
// server that speaks it (OpenSearch, VictoriaLogs at /insert/elasticsearch),
// as NDJSON "create" actions of ECS documents, through esapi.BulkRequest
// over elastic-transport-go with the transport's retries off.
//
// Where documents go: data streams by default, "<type>-<dataset>-<namespace>"
// (logs-kubernetes.container_logs-<kubernetes namespace>), or an index named
// by a template such as "k8s-%{namespace}-%Y.%m.%d". Names are made valid
// (lowercase, refused characters replaced by "_") record by record; the
// index is in each action line, never in the URL.
//
// Documents: @timestamp, message, stream, log.file.path, log.offset, tags
// (the record's flags: split, raw, invalid_utf8, no_newline), the
// enrichment attributes as ECS fields (kubernetes.namespace,
// kubernetes.pod.{name,uid,ip}, kubernetes.container.name,
// kubernetes.node.name, container.{id,runtime,image.name},
// kubernetes.labels.*, kubernetes.annotations.*,
// kubernetes.namespace_labels.*, label and annotation keys dedotted),
// orchestrator.cluster.name and data_stream.{type,dataset,namespace}. The
// fields parse/structured takes out of a line: level as log.level,
// LogMonitor's Windows events as winlog.{channel,event_id,provider_name,
// provider_guid,keywords}, the file LogMonitor read as file.path (the
// container log is log.file.path), and a JSON line's fields as json.*
// (dedotted). Other attributes go under labels.*. Config.Fields renames any
// of them.
//
// Guarantees: every document has a deterministic _id (see encoder.docID)
// and is written with "create", so a batch sent again (a retry, a replay
// after a restart) stores nothing twice: the server answers 409 for the
// documents it holds, counted as delivered and as duplicates. The answer is
// read item by item: only the items refused with 429 or 5xx are sent again
// (outputs.Partial); items refused with another 4xx go to the dead-letter
// file with their error type and reason, counted by type. Send makes
// exactly one attempt; retrying is the runner's job. A 413 is split by the
// runner (outputs.Splitter). No product header is required.
//
// Known limitations:
//   - A record read without a time from the line (the raw format) gets the
//     time it was read; read again after a restart it gets another time, so
//     another _id, and is stored twice.
//   - The _id does not depend on the file's head fingerprint: the head grows
//     while a file is shorter than a KiB, so it is not stable across
//     replays. A reused inode is told apart by the line's time and body.
//   - With id "none" a resent batch is stored again, in part or in whole.
//   - Two attributes whose keys differ only by "." and "_" (label "a.b" and
//     label "a_b") give one field twice; Elasticsearch refuses such a
//     document, and it is dead-lettered.
//   - The URL's query is not sent (elastic-transport-go keeps only the path):
//     VictoriaLogs' settings go in headers (VL-Msg-Field, VL-Time-Field,
//     VL-Stream-Fields).
//   - Secrets and TLS material are reloaded as in the Loki sink
//     (outputs/internal/httpsink): new connections use a new CA or
//     certificate, open ones stay as they were verified.
package elasticsearch

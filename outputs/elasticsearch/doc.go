// Package elasticsearch sends records to an Elasticsearch bulk API, or to any
// server that speaks it (OpenSearch, VictoriaLogs at /insert/elasticsearch),
// as NDJSON "create" actions with ECS documents.
package elasticsearch

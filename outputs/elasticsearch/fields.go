package elasticsearch

import (
	"fmt"
	"strings"
)

// ecsFields maps the attribute names enrichment gives (enrich/podmeta's
// default Keys) onto ECS fields, as Filebeat's kubernetes metadata does.
var ecsFields = map[string]string{
	"namespace":       "kubernetes.namespace",
	"pod":             "kubernetes.pod.name",
	"pod_uid":         "kubernetes.pod.uid",
	"pod_ip":          "kubernetes.pod.ip",
	"container":       "kubernetes.container.name",
	"container_id":    "container.id",
	"container_image": "container.image.name",
	"node":            "kubernetes.node.name",
	"owner_kind":      "kubernetes.owner.kind",
	"owner_name":      "kubernetes.owner.name",
	"workload_kind":   "kubernetes.workload.kind",
	"workload_name":   "kubernetes.workload.name",

	// What parse/structured takes out of a line: a level, and LogMonitor's
	// Windows event fields, named as Winlogbeat names them.
	"level":                       "log.level",
	"windows.event.channel":       "winlog.channel",
	"windows.event.id":            "winlog.event_id",
	"windows.event.provider":      "winlog.provider_name",
	"windows.event.provider_guid": "winlog.provider_guid",
	"windows.event.keywords":      "winlog.keywords",
	// The file LogMonitor read inside the container: "log.file.path" is the
	// container log this sink read the line from, so ECS's file.path.
	"log.file.path": "file.path",
}

// ecsPrefixes map the prefixed attributes (a pod's labels and annotations,
// its namespace's labels) onto ECS objects. The rest of the key is
// dedotted, "." → "_", so that "app" and "app.kubernetes.io/name" are two
// keywords rather than a keyword and an object that cannot coexist.
var ecsPrefixes = []struct{ attr, field string }{
	{"label.", "kubernetes.labels."},
	{"annotation.", "kubernetes.annotations."},
	{"namespace_label.", "kubernetes.namespace_labels."},
	// A JSON line's fields (parse/structured's default prefix) are the
	// application's own: they keep their names under "json.", dedotted
	// too, so that {"err":"x"} in one line and {"err":{"code":1}} in the
	// next give two keywords (json.err, json.err_code) instead of a
	// keyword and an object that one index cannot map both.
	{"json.", "json."},
}

// otherPrefix holds attributes that have no ECS field: ECS "labels" is the
// place for custom keywords.
const otherPrefix = "labels."

// ownFields are written by the encoder itself; Fields may not rename an
// attribute onto one, which would give a document a key twice.
var ownFields = []string{
	"@timestamp", "message", "stream", "tags", "log.file.path", "log.offset", "container.runtime",
	"orchestrator.cluster.name", "data_stream.type", "data_stream.dataset", "data_stream.namespace",
}

// fieldNamer gives each attribute key its document field, "" to leave it
// out; it caches what it computed, bounded.
type fieldNamer struct {
	rename map[string]string
	cache  map[string]string
}

const maxCachedNames = 4096

func newFieldNamer(rename map[string]string) (*fieldNamer, error) {
	for k, v := range rename {
		if k == "" {
			return nil, fmt.Errorf("elasticsearch fields: an empty attribute name (renamed to %q)", v)
		}
		for _, own := range ownFields {
			if v == own {
				return nil, fmt.Errorf("elasticsearch fields: %q → %q: the sink writes %q itself", k, v, own)
			}
		}
	}
	return &fieldNamer{rename: rename, cache: make(map[string]string)}, nil
}

// name returns key's field; ok is false when the attribute is left out.
func (n *fieldNamer) name(key string) (field string, ok bool) {
	if f, found := n.cache[key]; found {
		return f, f != ""
	}
	f := n.compute(key)
	if len(n.cache) >= maxCachedNames {
		clear(n.cache)
	}
	n.cache[strings.Clone(key)] = f
	return f, f != ""
}

func (n *fieldNamer) compute(key string) string {
	if f, ok := n.rename[key]; ok {
		return f
	}
	if f, ok := ecsFields[key]; ok {
		return f
	}
	for _, p := range ecsPrefixes {
		if rest, ok := strings.CutPrefix(key, p.attr); ok && rest != "" {
			return p.field + dedot(rest)
		}
	}
	return otherPrefix + dedot(key)
}

func dedot(s string) string { return strings.ReplaceAll(s, ".", "_") }

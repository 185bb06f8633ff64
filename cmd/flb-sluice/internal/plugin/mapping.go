package plugin

import (
	"fmt"
	"regexp"
	"strings"
)

// Line formats: the log key's text, or the record as JSON or key=value.
const (
	formatLog      = "log"
	formatJSON     = "json"
	formatKeyValue = "key_value"
)

// kubernetesKeys maps the keys of the map Fluent Bit's kubernetes filter
// adds onto the attribute names sluice's enrichment gives (enrich/podmeta),
// so that labels, ECS fields and queries are the same whichever agent read
// the line.
var kubernetesKeys = map[string]string{
	"namespace_name":  "namespace",
	"pod_name":        "pod",
	"container_name":  "container",
	"pod_id":          "pod_uid",
	"docker_id":       "container_id",
	"container_id":    "container_id",
	"container_image": "container_image",
	"host":            "node",
	"pod_ip":          "pod_ip",
}

// kubernetesMaps are the kubernetes filter's maps whose entries become one
// attribute each, under a prefix, as enrichment names them.
var kubernetesMaps = map[string]string{
	"labels":           "label.",
	"annotations":      "annotation.",
	"namespace_labels": "namespace_label.",
}

// otherKubernetes prefixes kubernetes keys that have no sluice name
// (container_hash, ...).
const otherKubernetes = "kubernetes."

// Mapping says how a Fluent Bit record becomes a sluice record. It is read
// once at init and only read afterwards, so flushes share it.
type Mapping struct {
	logKeys    []string        // the first present is the log line
	format     string          // formatLog, formatJSON or formatKeyValue
	remove     map[string]bool // top-level keys left out
	removeK8s  map[string]bool // kubernetes keys left out, by the filter's names
	metadata   []string        // structured_metadata: the top-level keys that become attributes; nil: all
	metaSet    bool
	promoted   map[string]bool // top-level keys that are attributes whatever the format
	autoLabels bool
	idKey      string
}

func readMapping(k *keyReader) Mapping {
	m := Mapping{logKeys: []string{"log", "message"}, format: formatLog, promoted: map[string]bool{}}
	if lk := strings.TrimSpace(k.get("log_key")); lk != "" {
		m.logKeys = []string{lk}
	}
	k.oneOf("line_format", &m.format, formatLog, formatJSON, formatKeyValue)
	if rk, set := k.list("remove_keys"); set {
		m.remove, m.removeK8s = map[string]bool{}, map[string]bool{}
		for _, a := range rk {
			top, sub, err := parseAccessor(a)
			switch {
			case err != nil:
				k.bad("remove_keys", "%v", err)
			case sub == "":
				m.remove[top] = true
			case top == "kubernetes":
				m.removeK8s[sub] = true
			default:
				k.bad("remove_keys", "%q: only top-level keys and $kubernetes['key'] can be removed", a)
			}
		}
	}
	if sm, set := k.list("structured_metadata"); set {
		m.metaSet = true
		for _, a := range sm {
			name, err := m.accessor(a)
			if err != nil {
				k.bad("structured_metadata", "%v", err)
				continue
			}
			m.metadata = append(m.metadata, name)
		}
	}
	return m
}

// accessor maps a record accessor ($key, key, $kubernetes['namespace_name'])
// onto the attribute it becomes, and notes a top-level key as one that must
// stay an attribute.
func (m *Mapping) accessor(a string) (string, error) {
	top, sub, err := parseAccessor(a)
	if err != nil {
		return "", err
	}
	if sub == "" {
		if top == "kubernetes" || top == "stream" {
			return "", fmt.Errorf("%q: name a key inside it, such as $kubernetes['namespace_name']", a)
		}
		m.promoted[top] = true
		return top, nil
	}
	if top != "kubernetes" {
		return "", fmt.Errorf("%q: only $kubernetes['key'] may name a key inside a map", a)
	}
	if name, ok := kubernetesKeys[sub]; ok {
		return name, nil
	}
	first, rest, _ := strings.Cut(sub, ".")
	if p, ok := kubernetesMaps[first]; ok {
		if rest == "" {
			return "", fmt.Errorf("%q: the %s map holds many values; name one, such as $kubernetes['%s']['app']", a, sub, sub)
		}
		return p + rest, nil
	}
	return otherKubernetes + sub, nil
}

var accessorRE = regexp.MustCompile(`^\$?([A-Za-z0-9_.\-/]+)((?:\['[^']+'\]){0,2})$`)

// parseAccessor reads "$top", "top" or "$top['sub']" (Fluent Bit's record
// accessor, the forms the plugin understands). A second level,
// $kubernetes['labels']['app'], comes back as sub "labels.app".
func parseAccessor(a string) (top, sub string, err error) {
	mm := accessorRE.FindStringSubmatch(strings.TrimSpace(a))
	if mm == nil {
		return "", "", fmt.Errorf("%q is not a key or a record accessor such as $kubernetes['namespace_name']", a)
	}
	parts := strings.FieldsFunc(mm[2], func(r rune) bool { return r == '[' || r == ']' || r == '\'' })
	return mm[1], strings.Join(parts, "."), nil
}

// isLogKey tells the priority of key among the log keys, -1 when it is none.
func (m *Mapping) isLogKey(key []byte) int {
	for i, k := range m.logKeys {
		if string(key) == k {
			return i
		}
	}
	return -1
}

// labelPrefixes are the attr prefixes the Loki sink makes labels of: the
// pod's labels with auto_kubernetes_labels on.
func (m *Mapping) labelPrefixes() []string {
	if m.autoLabels {
		return []string{kubernetesMaps["labels"]}
	}
	return nil
}

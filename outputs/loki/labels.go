package loki

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"
)

// fallbackLabel is the stream of records that would otherwise have no label
// at all, which Loki refuses.
var fallbackLabel = labelPair{Name: "job", Value: "sluice"}

// Metadata names the sink fills from the record itself; attrs of the same
// name are dropped, so a query never sees two values.
const (
	metaFilename = "filename"
	metaStream   = "stream"
	metaFlags    = "flags"
)

// highCardinality are label names whose values change per pod, container,
// file or line: each value is a new stream, and Loki slows down and then
// refuses pushes when streams multiply.
var highCardinality = []string{
	"pod_uid", "container_id", "pod_ip", "filename", "path", "file", "filepath", "file_path",
	"log_file", "log_file_path", "log_path", "offset", "log_offset",
}

// labelSet is what the sink makes stream labels of.
type labelSet struct {
	keys   []string    // attr keys promoted to labels, in config order
	names  []string    // keys sanitised into label names
	static []labelPair // sorted by name
	prefix []string    // attr key prefixes whose attrs become labels too
}

// setPrefixes sets the prefixes of attrs that become labels of their own.
func (ls *labelSet) setPrefixes(prefixes []string) error {
	for _, p := range prefixes {
		if p == "" {
			return errors.New("loki label prefixes: an empty prefix would make every attr a label")
		}
	}
	ls.prefix = slices.Clone(prefixes)
	return nil
}

// prefixed returns the label name of an attr key that starts with a label
// prefix; ok is false for other keys and for names that a configured label
// already has or that are reserved.
func (ls *labelSet) prefixed(key string) (name string, ok bool) {
	for _, p := range ls.prefix {
		rest, found := strings.CutPrefix(key, p)
		if !found || rest == "" {
			continue
		}
		n := sanitize(rest)
		if strings.HasPrefix(n, "__") || slices.Contains(ls.names, n) ||
			slices.ContainsFunc(ls.static, func(l labelPair) bool { return l.Name == n }) {
			return "", false
		}
		return n, true
	}
	return "", false
}

func newLabelSet(keys []string, static map[string]string, log *slog.Logger) (*labelSet, error) {
	if keys == nil {
		// Few values, stable for a pod's life: good stream labels.
		keys = []string{"namespace", "pod", "container"}
	}
	ls := &labelSet{keys: slices.Clone(keys), names: make([]string, len(keys))}
	seen := make(map[string]string, len(keys))
	for i, k := range keys {
		n := sanitize(k)
		switch {
		case k == "":
			return nil, fmt.Errorf("loki labels: entry %d is empty", i+1)
		case strings.HasPrefix(n, "__"):
			return nil, fmt.Errorf("loki label %q: names starting with __ are reserved", k)
		case seen[n] != "":
			return nil, fmt.Errorf("loki labels %q and %q: both become label %q", seen[n], k, n)
		}
		seen[n], ls.names[i] = k, n
		if slices.Contains(highCardinality, strings.ToLower(n)) {
			log.Warn("loki label has a value per pod, container, file or line: every value makes a new stream; "+
				"leave it out of labels and it is sent as structured metadata", "label", k)
		}
	}
	for n, v := range static {
		switch {
		case !validName(n):
			return nil, fmt.Errorf("loki static label %q: names match [a-zA-Z_][a-zA-Z0-9_]*", n)
		case strings.HasPrefix(n, "__"):
			return nil, fmt.Errorf("loki static label %q: names starting with __ are reserved", n)
		case v == "":
			return nil, fmt.Errorf("loki static label %q: empty value", n)
		case !utf8.ValidString(v):
			return nil, fmt.Errorf("loki static label %q: value is not UTF-8", n)
		}
		ls.static = append(ls.static, labelPair{Name: n, Value: v})
	}
	slices.SortFunc(ls.static, byName)
	return ls, nil
}

// index is the position of attr key k among the label keys, or -1. A linear
// scan beats a map for the three or four labels anyone should have.
func (ls *labelSet) index(k string) int {
	for i, lk := range ls.keys {
		if lk == k {
			return i
		}
	}
	return -1
}

// pairs returns the labels of a stream whose promoted attrs have values vals
// (in key order; "" is absent), sorted by name. Attr labels override static
// ones of the same name. Values are copied: they may live in the batch.
func (ls *labelSet) pairs(vals []string, extra []labelPair) []labelPair {
	out := make([]labelPair, 0, len(ls.static)+len(vals)+len(extra))
	for _, st := range ls.static {
		if i := slices.Index(ls.names, st.Name); i < 0 || vals[i] == "" {
			out = append(out, st)
		}
	}
	for i, v := range vals {
		if v != "" {
			out = append(out, labelPair{Name: ls.names[i], Value: strings.Clone(strings.ToValidUTF8(v, "\uFFFD"))})
		}
	}
	for _, x := range extra {
		if !slices.ContainsFunc(out, func(l labelPair) bool { return l.Name == x.Name }) {
			out = append(out, labelPair{Name: strings.Clone(x.Name), Value: strings.Clone(strings.ToValidUTF8(x.Value, "\uFFFD"))})
		}
	}
	if len(out) == 0 {
		out = append(out, fallbackLabel)
	}
	slices.SortFunc(out, byName)
	return out
}

func byName(a, b labelPair) int { return strings.Compare(a.Name, b.Name) }

// formatLabels writes labels in the Prometheus text form Loki parses:
// {a="1", b="2"}.
func formatLabels(pairs []labelPair) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteString(`="`)
		for j := 0; j < len(p.Value); j++ {
			switch c := p.Value[j]; c {
			case '\\', '"':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// validName reports whether n matches [a-zA-Z_][a-zA-Z0-9_]*.
func validName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !nameByte(n[i], i == 0) {
			return false
		}
	}
	return true
}

func nameByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

// sanitize maps n onto [a-zA-Z_][a-zA-Z0-9_]*, each invalid byte becoming
// '_': Kubernetes label keys like app.kubernetes.io/name are common attrs.
func sanitize(n string) string {
	if validName(n) {
		return n
	}
	if n == "" {
		return "_"
	}
	b := []byte(n)
	for i, c := range b {
		if !nameByte(c, i == 0) {
			b[i] = '_'
		}
	}
	return string(b)
}

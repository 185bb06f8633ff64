package podmeta

import (
	"fmt"
	"slices"
	"strings"
)

// Keys names the attributes enrichment adds. Sinks turn them into labels or
// fields, so they are part of the output format; the defaults are flat names
// close to Fluent Bit's kubernetes filter and ECS.
//
// The prefixes are put before a label's or an annotation's own key:
// "label." + "app" gives "label.app".
type Keys struct {
	Namespace      string
	Pod            string
	PodUID         string
	Container      string
	ContainerID    string
	ContainerImage string
	Node           string
	PodIP          string
	OwnerKind      string
	OwnerName      string
	WorkloadKind   string
	WorkloadName   string

	LabelPrefix          string
	AnnotationPrefix     string
	NamespaceLabelPrefix string
}

type keyField struct {
	def   string // the default name, also what a rename map refers to it by
	field func(*Keys) *string
}

// keyFields lists every name with its default, in the order error messages
// show them; one table keeps DefaultKeys, NewKeys and WithDefaults in step.
var keyFields = []keyField{
	{"namespace", func(k *Keys) *string { return &k.Namespace }},
	{"pod", func(k *Keys) *string { return &k.Pod }},
	{"pod_uid", func(k *Keys) *string { return &k.PodUID }},
	{"container", func(k *Keys) *string { return &k.Container }},
	{"container_id", func(k *Keys) *string { return &k.ContainerID }},
	{"container_image", func(k *Keys) *string { return &k.ContainerImage }},
	{"node", func(k *Keys) *string { return &k.Node }},
	{"pod_ip", func(k *Keys) *string { return &k.PodIP }},
	{"owner_kind", func(k *Keys) *string { return &k.OwnerKind }},
	{"owner_name", func(k *Keys) *string { return &k.OwnerName }},
	{"workload_kind", func(k *Keys) *string { return &k.WorkloadKind }},
	{"workload_name", func(k *Keys) *string { return &k.WorkloadName }},
	{"label.", func(k *Keys) *string { return &k.LabelPrefix }},
	{"annotation.", func(k *Keys) *string { return &k.AnnotationPrefix }},
	{"namespace_label.", func(k *Keys) *string { return &k.NamespaceLabelPrefix }},
}

// DefaultKeys returns the names used when nothing is renamed: namespace,
// pod, pod_uid, container, container_id, container_image, node, pod_ip,
// owner_kind, owner_name, workload_kind, workload_name, and the prefixes
// "label.", "annotation." and "namespace_label.".
func DefaultKeys() Keys {
	var k Keys
	for _, f := range keyFields {
		*f.field(&k) = f.def
	}
	return k
}

// NewKeys returns the default names with some renamed. rename maps a
// default name (a prefix with its trailing dot, as in "label.") to the name
// to use instead. An unknown default name, an empty new name or two
// attributes ending up with one name is an error, so that a typo in the
// configuration is caught at start rather than shipped.
func NewKeys(rename map[string]string) (Keys, error) {
	k := DefaultKeys()
	for from, to := range rename {
		i := slices.IndexFunc(keyFields, func(f keyField) bool { return f.def == from })
		if i < 0 {
			return Keys{}, fmt.Errorf("rename attribute %q: unknown name, want one of %s", from, knownNames())
		}
		if to == "" {
			return Keys{}, fmt.Errorf("rename attribute %q: the new name is empty", from)
		}
		*keyFields[i].field(&k) = to
	}
	seen := make(map[string]string, len(keyFields))
	for _, f := range keyFields {
		name := *f.field(&k)
		if other, dup := seen[name]; dup {
			return Keys{}, fmt.Errorf("rename attributes: %q and %q would both be named %q", other, f.def, name)
		}
		seen[name] = f.def
	}
	return k, nil
}

// WithDefaults returns k with every empty name set to its default, so that
// a zero Keys in a config means "the defaults".
func (k Keys) WithDefaults() Keys {
	for _, f := range keyFields {
		if p := f.field(&k); *p == "" {
			*p = f.def
		}
	}
	return k
}

func knownNames() string {
	names := make([]string, len(keyFields))
	for i, f := range keyFields {
		names[i] = f.def
	}
	return strings.Join(names, ", ")
}

package config

import "time"

// Kubernetes configures pod metadata from the API server.
type Kubernetes struct {
	// Enabled is auto (on inside a cluster or with a kubeconfig), true or
	// false. Off, records carry only what their file path says.
	Enabled string `yaml:"enabled"`
	// NodeName is the node whose pods are watched; empty takes NODE_NAME,
	// which the DaemonSet sets from the downward API.
	NodeName   string `yaml:"node_name"`
	Kubeconfig string `yaml:"kubeconfig"` // empty: the in-cluster service account
	// WaitForPod is how long a new file's lines wait for their pod to reach
	// the cache before they go out with path-derived fields only; 0 holds
	// nothing.
	WaitForPod time.Duration `yaml:"wait_for_pod"`
	// MaxHeldBytes bounds the lines of all files held waiting for their
	// pods; past it the oldest go out with path-derived fields only.
	MaxHeldBytes ByteSize `yaml:"max_held_bytes"`
	// DeleteGrace keeps a deleted pod's metadata for its last lines; 0
	// forgets a deleted pod at once.
	DeleteGrace     time.Duration     `yaml:"delete_grace"`
	NamespaceLabels bool              `yaml:"namespace_labels"` // a second informer, over namespaces
	Annotations     []string          `yaml:"annotations"`      // annotation keys copied to records
	Fields          map[string]string `yaml:"fields"`           // renames of record fields, e.g. {namespace: k8s_namespace}
}

func defaultKubernetes() Kubernetes {
	return Kubernetes{Enabled: "auto", WaitForPod: 5 * time.Second, MaxHeldBytes: 64 << 20, DeleteGrace: 5 * time.Minute}
}

func (k *Kubernetes) validate(bad func(key, format string, args ...any)) {
	switch k.Enabled {
	case "auto", "true", "false":
	default:
		bad("kubernetes.enabled", "%q is not auto, true or false", k.Enabled)
	}
	if k.WaitForPod < 0 {
		bad("kubernetes.wait_for_pod", "must not be negative")
	}
	if k.MaxHeldBytes <= 0 || k.MaxHeldBytes > 1<<30 {
		bad("kubernetes.max_held_bytes", "%d is not between 1 byte and 1GiB", k.MaxHeldBytes)
	}
	if k.DeleteGrace < 0 {
		bad("kubernetes.delete_grace", "must not be negative")
	}
	for from, to := range k.Fields {
		if from == "" || to == "" {
			bad("kubernetes.fields", "%q: %q renames to or from nothing", from, to)
		}
	}
}

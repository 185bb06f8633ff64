// Package podmeta holds the pod metadata that enrichment attaches to
// records, as values built once per change of a pod and shared by all of
// its records, and the names of the attributes it is attached under.
//
// It knows nothing of client-go: package podcache fills Pods from an
// informer, package enrich reads them, and either can be tested without the
// other.
//
// Guarantees: a *Pod is never modified once it has been handed out; a change
// to the pod gives a new *Pod, so a reader holding one sees a consistent
// snapshot and can tell that the pod changed by comparing pointers. Every
// []record.Attr this package builds has cap == len, so that a later stage's
// append copies instead of writing into a slice that other records share.
package podmeta

import "github.com/sluicelog/sluice/record"

// Pod is what enrichment knows about one pod. Its fields are read-only.
type Pod struct {
	Namespace string
	Name      string
	UID       string
	// Attrs are the pod's attributes other than its identity and its
	// containers': node, pod IP, owner, workload, then labels, annotations
	// and namespace labels, each group sorted by key. Keys are already
	// named (see Keys); cap == len.
	Attrs []record.Attr
	// Containers are the spec's containers, init containers and ephemeral
	// containers, in that order.
	Containers []Container
	// Multiline and Parse are the pod's MultilineAnnotation and
	// ParseAnnotation: how its containers' lines are joined and parsed,
	// whatever annotations are copied to records.
	Multiline, Parse string
}

// Annotations a pod sets to choose how its lines are shaped (package parse).
const (
	MultilineAnnotation = "sluice.io/multiline" // dotnet, java, python, go, ruby or start:<regex>
	ParseAnnotation     = "sluice.io/parse"     // json or logmonitor
)

// Container is one container of a pod.
type Container struct {
	Name  string
	Image string // as the pod spec asks for it, not as the runtime resolved it
	ID    string // the runtime's id without its scheme; empty until it has started
}

// Container returns the pod's container called name.
func (p *Pod) Container(name string) (Container, bool) {
	for _, c := range p.Containers {
		if c.Name == name {
			return c, true
		}
	}
	return Container{}, false
}

// RecordAttrs returns the attributes for the records of one container of
// p: identity, then the container's, then p.Attrs. It allocates, so callers
// keep the result for as long as p is current.
//
// id, when not empty, wins over the id in the pod's status: a log path that
// names an id names the container instance that wrote it, and after a
// restart the status already names the next one. A container the pod does
// not list still gets its name and id, without an image.
func (p *Pod) RecordAttrs(k Keys, container, id string) []record.Attr {
	c, _ := p.Container(container)
	if id == "" {
		id = c.ID
	}
	a := make([]record.Attr, 0, 6+len(p.Attrs))
	a = AppendAttr(a, k.Namespace, p.Namespace)
	a = AppendAttr(a, k.Pod, p.Name)
	a = AppendAttr(a, k.PodUID, p.UID)
	a = AppendAttr(a, k.Container, container)
	a = AppendAttr(a, k.ContainerID, id)
	a = AppendAttr(a, k.ContainerImage, c.Image)
	a = append(a, p.Attrs...)
	return a[:len(a):len(a)]
}

// AppendAttr appends key=value unless value is empty: an attribute with no
// value tells a reader nothing and costs a label in some sinks.
func AppendAttr(a []record.Attr, key, value string) []record.Attr {
	if value == "" {
		return a
	}
	return append(a, record.Attr{Key: key, Value: value})
}

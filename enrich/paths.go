package enrich

import (
	"github.com/sluicelog/sluice/enrich/kubepath"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// maxPaths bounds the Stage's path map. A node has far fewer live log files
// than this, so idle paths are forgotten all at once when it is full:
// rarely, and with no bookkeeping on the hit path that a finer eviction
// would need.
const maxPaths = 4096

// pathAttrs makes the shared slice for one path, with cap == len so that an
// append by a later stage copies instead of writing into another record's
// attributes. It is nil when there is nothing to add.
func pathAttrs(k podmeta.Keys, m kubepath.Meta, parsed bool, node string) []record.Attr {
	a := make([]record.Attr, 0, 6)
	if parsed {
		a = podmeta.AppendAttr(a, k.Namespace, m.Namespace)
		a = podmeta.AppendAttr(a, k.Pod, m.Pod)
		a = podmeta.AppendAttr(a, k.PodUID, m.PodUID)
		a = podmeta.AppendAttr(a, k.Container, m.Container)
		a = podmeta.AppendAttr(a, k.ContainerID, m.ContainerID)
	}
	a = podmeta.AppendAttr(a, k.Node, node)
	if len(a) == 0 {
		return nil
	}
	return a[:len(a):len(a)]
}

package enrich

import (
	"strings"

	"github.com/sluicelog/sluice/enrich/kubepath"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// maxPaths bounds the path cache. A node has far fewer live log files than
// this, so the cache is flushed whole when it is full: rarely, and with no
// bookkeeping on the hit path that a finer eviction would need.
const maxPaths = 4096

// pathCache maps a log file path to the attributes derived from it. Unparsed
// paths are cached too, so that each is parsed and counted once.
type pathCache struct {
	node  string
	keys  podmeta.Keys
	attrs map[string][]record.Attr // cap == len for every value; nil when there is nothing to add
}

func newPathCache(node string, keys podmeta.Keys) pathCache {
	return pathCache{node: node, keys: keys, attrs: make(map[string][]record.Attr)}
}

// get returns the attributes for path, parsing it the first time it is seen
// and reporting a miss then.
func (c *pathCache) get(path string, ev Events) []record.Attr {
	if a, ok := c.attrs[path]; ok {
		return a
	}
	// The cache outlives the batch and the attributes are substrings of the
	// key, so a copy keeps the cache from pinning a larger string the caller
	// may have cut the path from.
	path = strings.Clone(path)
	m, ok := kubepath.Parse(path)
	if !ok {
		ev.Miss(MissPathUnparsed)
	}
	a := pathAttrs(c.keys, m, ok, c.node)
	if len(c.attrs) >= maxPaths {
		clear(c.attrs)
	}
	c.attrs[path] = a
	return a
}

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

package enrich

import (
	"time"

	"github.com/sluicelog/sluice/enrich/kubepath"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

// maxPaths bounds the Stage's path map whatever the sweeps do: paths are
// forgotten a few minutes after their last batch (pathIdle), so the map is
// full only when this many distinct files had lines within that time; then
// every path not holding is forgotten at once. It is well above the 10,000
// files of bench/cmd/scale: at 4,096, 10,000 files read in turn emptied the
// map over and over (4 allocations and 4 times the CPU per batch). A path
// costs about 1 KiB with its pod's attributes.
const maxPaths = 1 << 15

// pathIdle is how often the Stage forgets paths: a path with no batch
// since the previous sweep and holding nothing is dropped, so a file's
// state goes between pathIdle and twice that after its last batch. Long
// enough that a quiet file's next line rarely finds its state gone (which
// costs a parse and, with its pod not cached, one more wait).
const pathIdle = 2 * time.Minute

// sweep forgets the paths idle since the previous sweep, at most once per
// pathIdle: O(paths) then, one comparison otherwise.
func (s *Stage) sweep(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	if !s.nextSweep.IsZero() {
		for p, st := range s.paths {
			if st.gen < s.gen && len(st.held) == 0 {
				delete(s.paths, p)
			}
		}
		s.gen++
	}
	s.nextSweep = now.Add(pathIdle)
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

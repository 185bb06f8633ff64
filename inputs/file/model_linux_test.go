package file

import (
	"os"
	"path/filepath"
	"strings"
)

// kubeletModel is true: an unlinked file is gone from its folder at once,
// held or not, as the model expects.
const kubeletModel = true

// tailerHolds reports whether this process holds one of paths open (also
// after the name was deleted), and
// whether that can be known at all. Only the tailer keeps log files open
// (the model's writes close at once), and every sequence has a folder of its
// own, so this proves that the tailer has a file even while a stalled
// consumer keeps its lines from showing.
func tailerHolds(paths ...string) (held, known bool) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false, false
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil {
			continue
		}
		target = strings.TrimSuffix(target, " (deleted)")
		for _, p := range paths {
			if target == p {
				return true, true
			}
		}
	}
	return false, true
}

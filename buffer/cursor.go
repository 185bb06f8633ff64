package buffer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Position is a place in the buffer: the byte offset in a segment just
// after the last record consumed, and how many records of that segment lie
// before it (for lag and drop counts).
type Position struct {
	Segment uint64 `json:"segment"`
	Offset  int64  `json:"offset"`
	Records int64  `json:"records"`
}

// Before reports whether p is earlier in the buffer than q.
func (p Position) Before(q Position) bool {
	return p.Segment < q.Segment || (p.Segment == q.Segment && p.Offset < q.Offset)
}

// cursor is one sink's committed position.
type cursor struct {
	name      string
	committed Position
	written   Position // in the cursor file, perhaps not fsynced yet
	saved     Position // in the cursor file and fsynced: what freeing relies on
	read      Position // how far the sink's Reader has read; records up to here are in flight, not lost
	file      *cursorFile
}

// CursorDir is the folder, inside the buffer's folder dir, that holds one
// cursor file per sink; the daemon checks that it is private.
func CursorDir(dir string) string { return filepath.Join(dir, "cursors") }

// errCorruptCursor marks a cursor file that was read but holds no valid
// position, as opposed to one that could not be read.
var errCorruptCursor = errors.New("corrupt")

// staleCursors lists cursor files of sinks no longer configured, in this
// version's format or an earlier one's; they would otherwise hold segments
// forever. A configured sink's JSON cursor is kept: it is there only when
// its migration failed, and the next start tries again.
func staleCursors(dir string, sinks []string) []string {
	entries, _ := os.ReadDir(CursorDir(dir))
	keep := map[string]bool{}
	for _, s := range sinks {
		keep[s+cursorExt] = true
		keep[s+jsonCursorExt] = true
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !keep[n] && (strings.HasSuffix(n, cursorExt) || strings.HasSuffix(n, jsonCursorExt) || strings.HasSuffix(n, ".tmp")) {
			out = append(out, filepath.Join(CursorDir(dir), e.Name()))
		}
	}
	return out
}

package buffer

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluicelog/sluice/internal/atomicfile"
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
}

const cursorVersion = 1

// cursorFile carries a checksum of the position: a flipped bit that still
// parses as JSON must not move a sink past records it never read.
type cursorFile struct {
	Version int      `json:"version"`
	Pos     Position `json:"position"`
	Check   uint32   `json:"check"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (p Position) check() uint32 {
	return crc32.Checksum(fmt.Appendf(nil, "%d:%d:%d", p.Segment, p.Offset, p.Records), castagnoli)
}

// CursorDir is the folder, inside the buffer's folder dir, that holds one
// cursor file per sink; the daemon checks that it is private.
func CursorDir(dir string) string { return filepath.Join(dir, "cursors") }

func cursorPath(dir, name string) string {
	return filepath.Join(CursorDir(dir), name+".json")
}

// errCorruptCursor marks a cursor file that was read but holds no valid
// position, as opposed to one that could not be read.
var errCorruptCursor = errors.New("corrupt")

// loadCursor reads a sink's saved position. A missing or corrupt file
// returns ok=false: the sink restarts from the oldest segment, which gives
// duplicates, never loss. A corrupt file's error wraps errCorruptCursor.
func loadCursor(dir, name string) (Position, bool, error) {
	b, err := os.ReadFile(cursorPath(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("read cursor %s: %w", name, err)
	}
	var f cursorFile
	if err := json.Unmarshal(b, &f); err != nil || f.Version != cursorVersion || f.Check != f.Pos.check() {
		return Position{}, false, fmt.Errorf("cursor %s is %w (version %d, checksum %08x): %v", name, errCorruptCursor, f.Version, f.Check, err)
	}
	return f.Pos, true, nil
}

// saveCursor replaces a sink's cursor file atomically. Without sync it
// survives a killed process but perhaps not a power loss; the sync loop
// makes it durable.
func saveCursor(dir, name string, p Position, sync bool) error {
	b, _ := json.Marshal(cursorFile{Version: cursorVersion, Pos: p, Check: p.check()})
	if err := atomicfile.Write(cursorPath(dir, name), b, sync); err != nil {
		return fmt.Errorf("save cursor %s: %w", name, err)
	}
	return nil
}

// staleCursors lists cursor files of sinks no longer configured; they would
// otherwise hold segments forever.
func staleCursors(dir string, sinks []string) []string {
	entries, _ := os.ReadDir(CursorDir(dir))
	keep := map[string]bool{}
	for _, s := range sinks {
		keep[s+".json"] = true
	}
	var out []string
	for _, e := range entries {
		if !keep[e.Name()] && (strings.HasSuffix(e.Name(), ".json") || strings.HasSuffix(e.Name(), ".tmp")) {
			out = append(out, filepath.Join(CursorDir(dir), e.Name()))
		}
	}
	return out
}

package buffer

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
)

// Earlier versions kept each sink's cursor in <sink>.json, replaced on every
// commit (temporary file, rename). Open reads such a file once, saves its
// position in the sink's cursor file and removes it.

const (
	jsonCursorExt     = ".json"
	jsonCursorVersion = 1
)

// jsonCursor carries a checksum of the position: a flipped bit that still
// parses as JSON must not move a sink past records it never read.
type jsonCursor struct {
	Version int      `json:"version"`
	Pos     Position `json:"position"`
	Check   uint32   `json:"check"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (p Position) check() uint32 {
	return crc32.Checksum(fmt.Appendf(nil, "%d:%d:%d", p.Segment, p.Offset, p.Records), castagnoli)
}

func jsonCursorPath(dir, name string) string {
	return filepath.Join(CursorDir(dir), name+jsonCursorExt)
}

// loadJSONCursor reads a sink's cursor in the earlier format. A missing or
// corrupt file returns ok=false; a corrupt file's error wraps
// errCorruptCursor.
func loadJSONCursor(dir, name string) (Position, bool, error) {
	b, err := os.ReadFile(jsonCursorPath(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("read cursor %s: %w", name, err)
	}
	var f jsonCursor
	if err := json.Unmarshal(b, &f); err != nil || f.Version != jsonCursorVersion || f.Check != f.Pos.check() {
		return Position{}, false, fmt.Errorf("cursor %s is %w (version %d, checksum %08x): %v", name, errCorruptCursor, f.Version, f.Check, err)
	}
	return f.Pos, true, nil
}

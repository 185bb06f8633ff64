//go:build !linux

package segment

import "os"

// dataSync flushes f's data and the metadata needed to read it back.
// Elsewhere: File.Sync (fsync, FlushFileBuffers on Windows) is what there is.
func dataSync(f *os.File) error { return f.Sync() }

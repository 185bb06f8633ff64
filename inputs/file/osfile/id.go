package osfile

import "fmt"

// ID identifies a file on its volume: device+inode on Unix, volume serial number + file index on Windows.
type ID struct {
	Dev uint64 // Unix st_dev; Windows volume serial number
	Ino uint64 // Unix st_ino; Windows FileIndexHigh<<32 | FileIndexLow
}

// String returns the ID as "dev:ino" in decimal, for logs and checkpoints.
func (id ID) String() string {
	return fmt.Sprintf("%d:%d", id.Dev, id.Ino)
}
